// Deno and Bun serve our paywalls (issue #22): tests/js/runtimes/app.js, served
// by Deno.serve (deno-server.js) and by Bun.serve (bun-server.js) on 127.0.0.1,
// the runtimes from npm at the matrix's pins (support/runtimes.mjs), against one
// live nvm-local both share. Each runtime's server gates POST /tasks with the
// HTTP paywall and its MCP tools with the MCP paywall on both MCP SDK lines:
// POST /mcp the v1 McpServer over WebStandardStreamableHTTPServerTransport,
// POST /mcp/v2 the v2 McpServer under createMcpHandler; for an agent registered
// at that server's URLs. Paid by official clients: the x402 HTTP client of
// @x402/core (x402HTTPClient reads the 402 and the receipt and writes the
// payment header; the payload is the access token nvm-local signed: a Nevermined
// payment is minted by the backend, which no generic x402 scheme client does),
// the MCP Client of both SDK lines (@modelcontextprotocol/sdk 1.x;
// @modelcontextprotocol/client 2.x, pinned to 2026-07-28 and in its default
// 2025 mode); and by this package's fetchWithPayment and payments.mcp.callTool. Every check reads the subscriber's balance on nvm-local.
// The plan charges what the paywall asks (1 to 3 credits a request), so "1
// credit" is the servers' price, not the plan's. The servers reach nvm-local
// through a counting proxy, so the concurrent calls can be made to race: every
// one verifies before any settles, and only the settled ones may be delivered.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { x402Client, x402HTTPClient } from '@x402/core/client'
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client'
import { Payments, decodeAccessToken, getDynamicCreditsConfig, getFreePriceConfig } from 'nvm-x402'
import { freePort, spawnUntil, startNvmLocal } from '../support/servers.mjs'
import { VERIFY, assertNoTokenLogged, assertPaidToolResult, assertPaymentRequired, decodeHeader, holdSettlesUntilVerified, newSubscriber, startCountingProxy, stopAll } from '../support/gate.mjs'
import { runtimeBinary } from '../support/runtimes.mjs'

const HERE = dirname(fileURLToPath(import.meta.url))

/** Each runtime: how it runs a server script (Deno with network access to 127.0.0.1 only, and nothing else). */
const RUNTIMES = [
  { name: 'deno', userAgent: /^Deno\//, script: 'deno-server.js', args: ['run', '--quiet', '--allow-net=127.0.0.1'] },
  { name: 'bun', userAgent: /^Bun\//, script: 'bun-server.js', args: [] },
]

/** The official MCP Clients, each a connected client of `url` (initialize or discovery done); `headers` go on every request. */
const MCP_CLIENTS = {
  'v1 Client': async (url, headers) => {
    const client = new ClientV1({ name: 'nvm-x402-test', version: '1.0.0' })
    await client.connect(new TransportV1(url, { requestInit: { headers } }))
    return client
  },
  'v2 Client (2025-11-25)': async (url, headers) => {
    const client = new ClientV2({ name: 'nvm-x402-test', version: '1.0.0' })
    await client.connect(new TransportV2(url, { requestInit: { headers } }))
    assert.equal(client.getProtocolEra(), 'legacy')
    return client
  },
  'v2 Client (2026-07-28)': async (url, headers) => {
    const client = new ClientV2({ name: 'nvm-x402-test', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } })
    await client.connect(new TransportV2(url, { requestInit: { headers } }))
    assert.equal(client.getNegotiatedProtocolVersion(), '2026-07-28')
    return client
  },
}

/** The MCP servers of app.js (path, the version it reports) and the clients that pay each (v1 speaks no 2026-07-28). */
const MCP_SERVERS = [
  { server: 'v1 McpServer', path: 'mcp', version: '1.0.0', clients: ['v1 Client', 'v2 Client (2025-11-25)'] },
  { server: 'v2 McpServer (createMcpHandler)', path: 'mcp/v2', version: '2.0.0', clients: ['v2 Client (2026-07-28)', 'v2 Client (2025-11-25)', 'v1 Client'] },
]

/** `_meta` carrying the x402 payment payload: the decoded access token. */
const payment = (token) => ({ 'x402/payment': decodeAccessToken(token) })

/** Credits a subscriber gets per order of the plan (the small balance the concurrent calls race for). */
const CREDITS = 5n

/** The official x402 HTTP client; no scheme is registered: only its HTTP codec is used. */
const x402 = new x402HTTPClient(new x402Client())

describe('Deno and Bun serve the HTTP and MCP paywalls, paid through one nvm-local', () => {
  let nvm, proxy, builder, plan

  /** Runs `calls` (`count` paid calls at once) with every settle held until all `count` verified; checks they all did. */
  const race = async (count, calls) => {
    proxy.reset()
    holdSettlesUntilVerified(proxy, count)
    try {
      const results = await calls()
      assert.equal(proxy.callsTo(VERIFY).filter((c) => c.responseJson?.isValid === true).length, count, 'every call verified before any settled')
      return results
    } finally {
      proxy.reset()
    }
  }

  before(async () => {
    nvm = await startNvmLocal()
    proxy = await startCountingProxy(nvm.url)
    builder = Payments.getInstance({ nvmApiKey: nvm.world.accounts.builder.apiKey, backendUrl: nvm.url })
    ;({ planId: plan } = await builder.plans.registerCreditsPlan({ name: 'runtimes' }, getFreePriceConfig(), getDynamicCreditsConfig(CREDITS, 1n, 3n)))
  })
  after(() => stopAll(proxy, nvm))

  for (const runtime of RUNTIMES) {
    describe(`${runtime.name}: ${runtime.name === 'deno' ? 'Deno.serve' : 'Bun.serve'}`, () => {
      let server, base, agentId, subscriber
      const serverName = `nvm-${runtime.name}`
      const subscribers = []
      const subscribe = async () => {
        const one = await newSubscriber(nvm, { planId: plan, agentId })
        subscribers.push(one)
        return one
      }
      /** Runs `use` with an official MCP client (`kind`, of MCP_CLIENTS) of the MCP server at `path`, checked to be that server. */
      const withClient = async ({ path, version }, kind, headers, use) => {
        const client = await MCP_CLIENTS[kind](new URL(path, base), headers)
        try {
          assert.equal(client.getServerVersion().version, version, 'the server asked for answered')
          return await use(client)
        } finally {
          await client.close()
        }
      }
      const postTask = (init = {}) => fetch(new URL('tasks', base), { method: 'POST', ...init, headers: { 'content-type': 'application/json', ...init.headers }, body: JSON.stringify({ prompt: 'hello' }) })

      before(async () => {
        const port = await freePort()
        base = `http://127.0.0.1:${port}/`
        // One agent per server: its HTTP route, its paid tool's logical URL and its MCP endpoint.
        ;({ agentId } = await builder.agents.registerAgent(
          { name: `${runtime.name} server` },
          { endpoints: [{ POST: `${base}tasks` }, { POST: `mcp://${serverName}/tools/echo` }, ...MCP_SERVERS.map(({ path }) => ({ POST: `${base}${path}` }))] },
          [plan],
        ))
        const config = { port, apiKey: nvm.world.accounts.builder.apiKey, backendUrl: proxy.url, agentId, planId: plan, serverName }
        server = await spawnUntil(await runtimeBinary(runtime.name), [...runtime.args, join(HERE, runtime.script), JSON.stringify(config)], {
          ready: (out) => out.includes(`listening on ${base}`),
        })
        subscriber = await subscribe()
        await subscriber.topUp(20n)
      })
      after(() => stopAll(server))

      test('the free route answers from this runtime', async () => {
        const health = await fetch(new URL('health', base))
        assert.equal(health.status, 200)
        const body = await health.json()
        assert.equal(body.ok, true)
        assert.match(body.runtime, runtime.userAgent)
      })

      test('HTTP: unpaid is a 402 whose reason and offer the official x402 client reads; nothing is charged', async () => {
        const before = await subscriber.balance()
        const response = await postTask()
        const { body } = await assertPaymentRequired(response.clone(), /^Missing x402 payment token/)
        const required = x402.getPaymentRequiredResponse((name) => response.headers.get(name))
        assert.equal(required.error, body.message)
        assert.equal(required.resource.url, `${base}tasks`)
        assert.equal(required.accepts[0].scheme, 'nvm:erc4337')
        assert.equal(required.accepts[0].planId, plan)
        assert.equal(required.accepts[0].extra.agentId, agentId)
        assert.equal(await subscriber.balance(), before, 'nothing charged')
      })

      test('HTTP: paid through the official x402 client, the answer and its receipt, exactly 1 credit', async () => {
        const first = await postTask()
        assert.equal(first.status, 402)
        const required = x402.getPaymentRequiredResponse((name) => first.headers.get(name))
        const offer = required.accepts.find((a) => a.scheme === 'nvm:erc4337')
        const token = await subscriber.token({ plan: offer.planId, agent: offer.extra.agentId })
        const before = await subscriber.balance()
        const paid = await postTask({ headers: x402.encodePaymentSignatureHeader(decodeAccessToken(token)) })
        assert.equal(paid.status, 200)
        const body = await paid.json()
        assert.equal(body.answer, 'You asked: hello')
        assert.match(body.runtime, runtime.userAgent)
        const receipt = x402.getPaymentSettleResponse((name) => paid.headers.get(name))
        assert.equal(receipt.success, true)
        assert.equal(receipt.creditsRedeemed, '1')
        assert.equal(receipt.payer.toLowerCase(), subscriber.address.toLowerCase())
        assert.equal(await subscriber.balance(), before - 1n)
      })

      test('HTTP: paid by fetchWithPayment, exactly 1 credit', async () => {
        const before = await subscriber.balance()
        const { response, paymentResponse } = await subscriber.payments.fetch(new URL('tasks', base).href, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'hello' }) }, { planIds: [plan] })
        assert.equal(response.status, 200)
        assert.equal((await response.json()).answer, 'You asked: hello')
        assert.equal(paymentResponse.success, true)
        assert.equal(paymentResponse.creditsRedeemed, '1')
        assert.equal(await subscriber.balance(), before - 1n)
      })

      test(`HTTP: 8 paid requests at once on ${CREDITS} credits, all verified before any settled: ${CREDITS} answers, 3 402s without the answer`, async () => {
        const fresh = await subscribe()
        assert.equal(await fresh.balance(), CREDITS)
        const token = await fresh.token()
        const responses = await race(8, () => Promise.all(Array.from({ length: 8 }, () => postTask({ headers: { 'payment-signature': token } }))))
        const answered = responses.filter((r) => r.status === 200)
        assert.equal(BigInt(answered.length), CREDITS)
        for (const r of answered) assert.equal((await r.json()).answer, 'You asked: hello')
        const refused = responses.filter((r) => r.status !== 200)
        assert.equal(refused.length, 3)
        for (const r of refused) {
          const { body } = await assertPaymentRequired(r)
          assert.equal(body.answer, undefined, 'the paid answer is withheld')
          assert.equal(decodeHeader(r.headers.get('payment-response')).success, false, 'its settle failed')
        }
        assert.equal(await fresh.balance(), 0n)
      })

      for (const mcp of MCP_SERVERS) {
        for (const kind of mcp.clients) {
          const what = `MCP, ${mcp.server}, ${kind}`
          test(`${what}: lists the tools; echo unpaid is a payment-required result with its reason, nothing charged`, async () => {
            const before = await subscriber.balance()
            await withClient(mcp, kind, {}, async (client) => {
              const { tools } = await client.listTools()
              assert.deepEqual(tools.map((t) => t.name).sort(), ['echo', 'ping'])
              const result = await client.callTool({ name: 'echo', arguments: { text: 'hello' } })
              assert.equal(result.isError, true)
              const required = result.structuredContent
              assert.equal(required.x402Version, 2)
              assert.equal(required.resource.url, `mcp://${serverName}/tools/echo?text=hello`)
              assert.equal(required.accepts[0].planId, plan)
              assert.equal(required.accepts[0].extra.agentId, agentId)
              assert.match(required.error, /x402\/payment/)
              assert.deepEqual(JSON.parse(result.content[0].text), required)
            })
            assert.equal(await subscriber.balance(), before, 'nothing charged')
          })

          test(`${what}: echo paid in _meta answers its text with the receipt, exactly 1 credit; ping is free`, async () => {
            const token = await subscriber.token()
            const before = await subscriber.balance()
            await withClient(mcp, kind, {}, async (client) => {
              const result = await client.callTool({ name: 'echo', arguments: { text: 'paid hello' }, _meta: payment(token) })
              assertPaidToolResult(result, { text: 'paid hello', planId: plan, subscriber })
              const pong = await client.callTool({ name: 'ping', arguments: {} })
              assert.deepEqual(pong.content, [{ type: 'text', text: 'pong' }])
              assert.equal(pong._meta?.['x402/payment-response'], undefined, 'no payment, no receipt')
            })
            assert.equal(await subscriber.balance(), before - 1n, 'echo cost 1 credit, ping nothing')
          })

          test(`${what}: the Authorization: Bearer header pays too, exactly 1 credit`, async () => {
            const token = await subscriber.token()
            const before = await subscriber.balance()
            await withClient(mcp, kind, { authorization: `Bearer ${token}` }, async (client) => {
              const result = await client.callTool({ name: 'echo', arguments: { text: 'by header' } })
              assert.deepEqual(result.content, [{ type: 'text', text: 'by header' }])
              assert.equal(result._meta['x402/payment-response'].success, true)
            })
            assert.equal(await subscriber.balance(), before - 1n)
          })
        }

        test(`MCP, ${mcp.server}: payments.mcp.callTool pays in one call, exactly 1 credit`, async () => {
          const before = await subscriber.balance()
          const { result, paymentResponse } = await subscriber.payments.mcp.callTool({ url: new URL(mcp.path, base).href, name: 'echo', arguments: { text: 'one call' }, planId: plan, agentId })
          assert.deepEqual(result.content, [{ type: 'text', text: 'one call' }])
          assert.equal(paymentResponse.success, true)
          assert.equal(await subscriber.balance(), before - 1n)
        })

        test(`MCP, ${mcp.server}, ${mcp.clients[0]}: 8 paid calls at once on ${CREDITS} credits, all verified before any settled: ${CREDITS} answers, 3 refusals without tool output`, async () => {
          const fresh = await subscribe()
          assert.equal(await fresh.balance(), CREDITS)
          const token = await fresh.token()
          const results = await race(8, () => withClient(mcp, mcp.clients[0], {}, (client) => Promise.all(Array.from({ length: 8 }, (_, i) => client.callTool({ name: 'echo', arguments: { text: `call ${i}` }, _meta: payment(token) })))))
          const answered = results.filter((r) => !r.isError)
          assert.equal(BigInt(answered.length), CREDITS)
          for (const r of answered) assert.match(r.content[0].text, /^call \d+$/)
          const refused = results.filter((r) => r.isError)
          assert.equal(refused.length, 3)
          for (const r of refused) {
            assert.match(r.structuredContent.error, /settle/i, 'refused at settle')
            assert.deepEqual(r.content.map((c) => JSON.parse(c.text)), [r.structuredContent], 'the payment-required result only: no tool output')
          }
          assert.equal(await fresh.balance(), 0n)
        })
      }

      test('nothing the server logged contains a whole token', () => {
        const output = server.output()
        assert.match(output, /"event":"http\.refused"/, 'refused payments were logged')
        assert.match(output, /"event":"mcp\.refused"/, 'refused paid calls were logged')
        assertNoTokenLogged(output, subscribers)
      })
    })
  }
})
