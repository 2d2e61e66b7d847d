// The MCP Worker example (examples/mcp-worker, the MCP SDK's v2 server under
// createMcpHandler), exactly as shipped, and the same server on the SDK's v1
// line (tests/js/workerd/mcp-v1-worker), on real workerd (wrangler dev
// --local, no nodejs_compat) against a live nvm-local (the seeded MCP agent
// and free plan). Clients: the official MCP clients of both lines (v2's pinned
// to 2026-07-28: stateless, server/discover; v1's: initialize, 2025-11-25)
// paying with a token minted by this package, and payments.mcp.callTool.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client'
import { decodeAccessToken } from 'nvm-x402'
import { ROOT, freePort, startNvmLocal, startWrangler } from '../support/servers.mjs'
import { assertNoTokenLogged, assertPaidToolResult, newSubscriber, stopAll } from '../support/gate.mjs'

// [which, where, the era the v2 client negotiates with it]
const SERVERS = [
  ['the MCP Worker example (MCP SDK v2, createMcpHandler)', join(ROOT, 'examples/mcp-worker'), 'modern'],
  ['the same server on the MCP SDK v1 (McpServer over the Web-standard transport)', join(ROOT, 'tests/js/workerd/mcp-v1-worker'), 'legacy'],
]
const V2 = 'v2 client, negotiating'

/**
 * The official MCP clients: v2's negotiating (server/discover; 2026-07-28 with
 * a v2 server, no initialize; the 2025 handshake with a v1 one), v1's (initialize, 2025-11-25).
 */
const CLIENTS = {
  [V2]: async (url, headers, era) => {
    const client = new ClientV2({ name: 'nvm-x402-test', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } })
    await client.connect(new TransportV2(new URL(url), { requestInit: { headers } }))
    assert.equal(client.getProtocolEra(), era)
    if (era === 'modern') assert.equal(client.getNegotiatedProtocolVersion(), '2026-07-28')
    return client
  },
  'v1 client, 2025-11-25': async (url, headers) => {
    const client = new ClientV1({ name: 'nvm-x402-test', version: '1.0.0' })
    await client.connect(new TransportV1(new URL(url), { requestInit: { headers } }))
    return client
  },
}


/** `_meta` carrying the x402 payment payload: the decoded access token. */
const payment = (token) => ({ 'x402/payment': decodeAccessToken(token) })

for (const [name, EXAMPLE, era] of SERVERS) describe(`${name} on workerd, paid through nvm-local`, () => {
  /** An official MCP client of `url` (`kind`: a key of CLIENTS), connected; `headers` go on every request. */
  const connect = (url, headers = {}, kind = 'v1 client, 2025-11-25') => CLIENTS[kind](url, headers, era)

  let nvm, worker, world, mcpUrl, subscriber, plan
  const subscribers = []
  const subscribe = async () => {
    const one = await newSubscriber(nvm, { planId: plan, agentId: world.mcpAgent.agentId })
    subscribers.push(one)
    return one
  }

  before(async () => {
    const port = await freePort()
    nvm = await startNvmLocal({ args: ['--mcp-url', `http://127.0.0.1:${port}`] })
    world = nvm.world
    plan = world.plans.free.planId
    worker = await startWrangler({
      cwd: EXAMPLE,
      port,
      vars: { NVM_API_KEY: world.accounts.builder.apiKey, NVM_AGENT_ID: world.mcpAgent.agentId, NVM_PLAN_ID: plan, NVM_BACKEND_URL: nvm.url },
    })
    mcpUrl = `${worker.url}mcp`
    assert.equal(world.mcpAgent.url, mcpUrl, 'the seeded MCP agent is this Worker')
    subscriber = await subscribe()
  })
  after(() => stopAll(worker, nvm))

  for (const kind of Object.keys(CLIENTS)) test(`the official ${kind} connects and lists the tools; echo without payment is a payment-required result`, async () => {
    const client = await connect(mcpUrl, {}, kind)
    try {
      const { tools } = await client.listTools()
      assert.deepEqual(tools.map((t) => t.name).sort(), ['echo', 'ping'])
      const before = await subscriber.balance()
      const result = await client.callTool({ name: 'echo', arguments: { text: 'hello' } })
      assert.equal(result.isError, true)
      const required = result.structuredContent
      assert.equal(required.x402Version, 2)
      assert.equal(required.resource.url, 'mcp://nvm-demo/tools/echo?text=hello')
      assert.equal(required.accepts[0].planId, plan)
      assert.equal(required.accepts[0].extra.agentId, world.mcpAgent.agentId)
      assert.match(required.error, /x402\/payment/)
      assert.deepEqual(JSON.parse(result.content[0].text), required)
      assert.equal(await subscriber.balance(), before, 'nothing charged')
    } finally {
      await client.close()
    }
  })

  for (const kind of Object.keys(CLIENTS)) test(`${kind}: echo with _meta["x402/payment"] answers its text with the receipt, and costs exactly 1 credit`, async () => {
    const client = await connect(mcpUrl, {}, kind)
    try {
      const token = await subscriber.token()
      const before = await subscriber.balance()
      const result = await client.callTool({ name: 'echo', arguments: { text: 'paid hello' }, _meta: payment(token) })
      assertPaidToolResult(result, { text: 'paid hello', planId: plan, subscriber })
      assert.equal(await subscriber.balance(), before - 1n)
    } finally {
      await client.close()
    }
  })

  test('payments.mcp.callTool pays in one call; ping stays free', async () => {
    const before = await subscriber.balance()
    const { result, paymentResponse } = await subscriber.payments.mcp.callTool({ url: mcpUrl, name: 'echo', arguments: { text: 'one call' }, planId: plan, agentId: world.mcpAgent.agentId })
    assert.deepEqual(result.content, [{ type: 'text', text: 'one call' }])
    assert.equal(paymentResponse.success, true)
    assert.equal(await subscriber.balance(), before - 1n)
    const client = await connect(mcpUrl)
    try {
      const pong = await client.callTool({ name: 'ping', arguments: {} })
      assert.deepEqual(pong.content, [{ type: 'text', text: 'pong' }])
      assert.equal(pong._meta, undefined, 'no payment, no receipt')
    } finally {
      await client.close()
    }
    assert.equal(await subscriber.balance(), before - 1n, 'ping charged nothing')
  })

  for (const kind of Object.keys(CLIENTS)) test(`${kind}: the Authorization: Bearer header pays too (hosts that can only set headers)`, async () => {
    const token = await subscriber.token()
    const before = await subscriber.balance()
    const client = await connect(mcpUrl, { authorization: `Bearer ${token}` }, kind)
    try {
      const result = await client.callTool({ name: 'echo', arguments: { text: 'by header' } })
      assert.deepEqual(result.content, [{ type: 'text', text: 'by header' }])
      assert.equal(result._meta['x402/payment-response'].success, true)
    } finally {
      await client.close()
    }
    assert.equal(await subscriber.balance(), before - 1n)
  })

  test('30 concurrent paid calls on 10 credits: exactly 10 answers, the rest carry no content', async () => {
    const fresh = await subscribe()
    assert.equal(await fresh.balance(), 10n)
    const token = await fresh.token()
    const client = await connect(mcpUrl, {}, V2)
    try {
      const results = await Promise.all(Array.from({ length: 30 }, (_, i) => client.callTool({ name: 'echo', arguments: { text: `call ${i}` }, _meta: payment(token) })))
      const answered = results.filter((r) => !r.isError)
      assert.equal(answered.length, 10)
      for (const r of answered) assert.match(r.content[0].text, /^call \d+$/)
      for (const r of results.filter((r) => r.isError)) assert.ok(!/^call \d+$/.test(r.content[0].text), 'a refused call carries no tool output')
    } finally {
      await client.close()
    }
    assert.equal(await fresh.balance(), 0n)
  })

  test('OAuth discovery: the protected-resource and authorization-server documents name nvm-local as the authorization server', async () => {
    const prm = await fetch(`${worker.url}.well-known/oauth-protected-resource/mcp`)
    assert.equal(prm.status, 200)
    assert.equal(prm.headers.get('content-type'), 'application/json')
    const doc = await prm.json()
    assert.equal(doc.resource, mcpUrl)
    assert.deepEqual(doc.authorization_servers, [new URL(nvm.url).origin])
    assert.deepEqual(doc.mcp_capabilities.tools, ['echo', 'ping'])
    const as = await (await fetch(`${worker.url}.well-known/oauth-authorization-server`)).json()
    assert.equal(as.token_endpoint, `${new URL(nvm.url).origin}/oauth/token`)
    assert.equal((await fetch(`${worker.url}.well-known/unknown`)).status, 404, 'other paths are the Worker\'s own')
  })

  test('nothing the Worker logged contains a whole token', () => {
    assertNoTokenLogged(worker.output(), subscribers)
  })
})
