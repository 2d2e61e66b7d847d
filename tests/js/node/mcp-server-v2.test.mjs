// The MCP paywall on the official MCP SDK's v2 line: a v2 McpServer
// (@modelcontextprotocol/server) per request under createMcpHandler, whose
// handlers get `(args, ctx)` (the payment in ctx.mcpReq._meta or the headers
// of ctx.http.req). Called by the v2 Client pinned to 2026-07-28 (stateless:
// server/discover, the per-request `_meta` envelope) and by 2025-11-25
// clients (the v2 Client in its default legacy mode and the v1 Client), all
// through a fetch that hands each Request to the handler; the backend is a
// recording server, so every verify and settle is seen.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Client } from '@modelcontextprotocol/client'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/client'
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { McpServer, ResourceTemplate, createMcpHandler } from '@modelcontextprotocol/server'
import { z } from 'zod'
import { decodeAccessToken } from 'nvm-x402'
import { Payments } from 'nvm-x402/mcp'
import { PLANS, SETTLE, VERIFY, offlineKey } from '../support/gate.mjs'
import { backendFor } from '../support/nvm.mjs'

const PLAN = '1234567890'
const AGENT = 'agent-mcp'
const NETWORK = 'eip155:84532'
const MODERN = '2026-07-28'
const part = (value) => Buffer.from(JSON.stringify(value)).toString('base64url')
const TOKEN = part({
  x402Version: 2,
  accepted: { scheme: 'nvm:erc4337', network: NETWORK, planId: PLAN, extra: { version: '1' } },
  payload: { signature: '0xsig', authorization: { from: '0xsubscriber', sessionKeys: [] } },
  extensions: {},
})
const PAYMENT = { 'x402/payment': decodeAccessToken(TOKEN) }

/** A backend whose plan is crypto, whose verify says yes and whose settle burns what it is asked. */
async function backendWith(t) {
  const backend = await backendFor(t)
  backend.respond('GET', `${PLANS}${PLAN}`, { json: { id: PLAN, registry: { price: { isCrypto: true } } } })
  backend.respond('POST', VERIFY, { json: { isValid: true, payer: '0xsubscriber', agentRequestId: 'req-1' } })
  backend.respond('POST', SETTLE, (call) => ({ json: { success: true, payer: '0xsubscriber', transaction: '0xtx', network: NETWORK, creditsRedeemed: call.json.maxAmount, remainingBalance: '7' } }))
  return backend
}

const calls = (backend, path) => backend.requests.filter((r) => r.path === path)

/**
 * A v2 server per request (createMcpHandler's factory), paid through `attach`:
 * `echo` (2 credits, a z.object schema as v2 writes it), a resource template,
 * a prompt, and the free `ping`. `seen` collects what each paid handler got.
 */
function handlerFor(backend) {
  const payments = Payments.getInstance({ nvmApiKey: offlineKey(), backendUrl: backend.url })
  payments.mcp.configure({ agentId: AGENT, serverName: 'weather', planId: PLAN })
  const seen = []
  const eras = []
  const handler = createMcpHandler(({ era }) => {
    eras.push(era)
    const server = new McpServer({ name: 'weather', version: '2.0.0' })
    const paid = payments.mcp.attach(server)
    paid.registerTool('echo', { inputSchema: z.object({ text: z.string() }) }, async ({ text }, ctx, context) => {
      seen.push({ ctx, context })
      return { content: [{ type: 'text', text }] }
    }, { credits: 2n })
    paid.registerResource('city', new ResourceTemplate('weather://city/{id}', { list: undefined }), {}, async (uri, { id }) => ({ contents: [{ uri: uri.href, text: `city ${id}` }] }))
    paid.registerPrompt('summary', { argsSchema: z.object({ topic: z.string() }) }, async ({ topic }) => ({ messages: [{ role: 'user', content: { type: 'text', text: `Summarise ${topic}` } }] }))
    server.registerTool('ping', {}, async () => ({ content: [{ type: 'text', text: 'pong' }] }))
    return server
  })
  return { handler, seen, eras }
}

const URL_ = new URL('https://agent.example/mcp')

/** Clients of the handler: the v2 Client pinned to 2026-07-28, the v2 Client in legacy mode, the v1 Client (2025-11-25). */
const CLIENTS = {
  'v2 client, 2026-07-28': async (fetch, headers) => {
    const client = new Client({ name: 'test', version: '1.0.0' }, { versionNegotiation: { mode: { pin: MODERN } } })
    await client.connect(new StreamableHTTPClientTransport(URL_, { fetch, requestInit: { headers } }))
    assert.equal(client.getNegotiatedProtocolVersion(), MODERN)
    return client
  },
  'v2 client, 2025-11-25': async (fetch, headers) => {
    const client = new Client({ name: 'test', version: '1.0.0' })
    await client.connect(new StreamableHTTPClientTransport(URL_, { fetch, requestInit: { headers } }))
    assert.equal(client.getProtocolEra(), 'legacy')
    return client
  },
  'v1 client, 2025-11-25': async (fetch, headers) => {
    const client = new ClientV1({ name: 'test', version: '1.0.0' })
    await client.connect(new TransportV1(URL_, { fetch, requestInit: { headers } }))
    return client
  },
}

/** A connected client of kind `kind` whose fetch serves each Request with `handler` (headers on every request). */
async function connect(t, kind, handler, headers = {}) {
  const wire = []
  const fetch = async (url, init) => {
    const request = new Request(url, init)
    wire.push({ method: request.method, version: request.headers.get('mcp-protocol-version'), body: request.method === 'POST' ? await request.clone().json() : null })
    return handler.fetch(request)
  }
  const client = await CLIENTS[kind](fetch, headers)
  t.after(() => client.close())
  return { client, wire }
}

for (const kind of Object.keys(CLIENTS)) {
  test(`v2 server, ${kind}: unpaid echo is a payment-required result; paid in _meta it answers with the receipt, settled once`, async (t) => {
    const backend = await backendWith(t)
    const { handler, seen, eras } = handlerFor(backend)
    const { client, wire } = await connect(t, kind, handler)
    const { tools } = await client.listTools()
    assert.deepEqual(tools.map((tool) => tool.name).sort(), ['echo', 'ping'])

    const unpaid = await client.callTool({ name: 'echo', arguments: { text: 'hello' } })
    assert.equal(unpaid.isError, true)
    assert.equal(unpaid.structuredContent.accepts[0].planId, PLAN)
    assert.equal(unpaid.structuredContent.resource.url, 'mcp://weather/tools/echo?text=hello')
    assert.equal(seen.length, 0, 'the handler did not run')
    assert.equal(calls(backend, SETTLE).length, 0)

    const paid = await client.callTool({ name: 'echo', arguments: { text: 'hello' }, _meta: PAYMENT })
    assert.deepEqual(paid.content, [{ type: 'text', text: 'hello' }])
    assert.equal(paid._meta['x402/payment-response'].transaction, '0xtx')
    assert.equal(paid._meta['nevermined/credits'].creditsRedeemed, '2')
    const [verify] = calls(backend, VERIFY)
    assert.equal(verify.json.x402AccessToken, TOKEN)
    assert.equal(verify.json.maxAmount, '2')
    assert.equal(calls(backend, SETTLE).length, 1)
    assert.equal(calls(backend, SETTLE)[0].json.maxAmount, '2')
    // The handler got the SDK's ctx, then the paywall's context; the HTTP URL came from ctx.http.req.
    const [{ ctx, context }] = seen
    assert.equal(typeof ctx.mcpReq, 'object')
    assert.equal(context.planId, PLAN)
    assert.equal(context.credits, 2n)
    assert.equal(context.authResult.httpUrl, 'https://agent.example/mcp')

    const free = await client.callTool({ name: 'ping', arguments: {} })
    assert.deepEqual(free.content, [{ type: 'text', text: 'pong' }])
    assert.equal(calls(backend, SETTLE).length, 1, 'ping is free')

    // What went over the wire was the era the client speaks.
    const call = wire.find((w) => w.body?.method === 'tools/call')
    if (kind.endsWith(MODERN)) {
      assert.ok(eras.includes('modern'))
      assert.equal(call.version, MODERN)
      assert.equal(call.body.params._meta['io.modelcontextprotocol/protocolVersion'], MODERN)
      assert.ok(!wire.some((w) => w.body?.method === 'initialize'), 'no initialize in 2026-07-28')
    } else {
      assert.ok(eras.every((era) => era === 'legacy'))
      assert.ok(wire.some((w) => w.body?.method === 'initialize'))
      assert.equal(call.body.params._meta?.['io.modelcontextprotocol/protocolVersion'], undefined)
    }
  })

  test(`v2 server, ${kind}: the payment-signature header and Authorization: Bearer (ctx.http.req) pay too`, async (t) => {
    for (const headers of [{ 'payment-signature': TOKEN }, { authorization: `Bearer ${TOKEN}` }]) {
      const backend = await backendWith(t)
      const { handler } = handlerFor(backend)
      const { client } = await connect(t, kind, handler, headers)
      const result = await client.callTool({ name: 'echo', arguments: { text: 'by header' } })
      assert.deepEqual(result.content, [{ type: 'text', text: 'by header' }], Object.keys(headers)[0])
      assert.equal(calls(backend, VERIFY)[0].json.x402AccessToken, TOKEN)
      assert.equal(calls(backend, SETTLE).length, 1)
    }
  })

  test(`v2 server, ${kind}: resources and prompts are paid (an error carrying the PaymentRequired, then delivered)`, async (t) => {
    const backend = await backendWith(t)
    const { handler } = handlerFor(backend)
    const { client } = await connect(t, kind, handler)
    await assert.rejects(client.readResource({ uri: 'weather://city/7' }), (error) => {
      assert.equal(error.code, -32003)
      assert.equal(error.data.accepts[0].planId, PLAN)
      return true
    })
    await assert.rejects(client.getPrompt({ name: 'summary', arguments: { topic: 'rain' } }), (error) => error.code === -32003)
    assert.equal(calls(backend, SETTLE).length, 0)
    const resource = await client.readResource({ uri: 'weather://city/7', _meta: PAYMENT })
    assert.equal(resource.contents[0].text, 'city 7')
    const prompt = await client.getPrompt({ name: 'summary', arguments: { topic: 'rain' }, _meta: PAYMENT })
    assert.equal(prompt.messages[0].content.text, 'Summarise rain')
    assert.equal(calls(backend, SETTLE).length, 2)
  })
}

test('v2 server: 30 concurrent paid calls with a settle that burns at most 10 answer exactly 10', async (t) => {
  const backend = await backendFor(t)
  let left = 10
  backend.respond('GET', `${PLANS}${PLAN}`, { json: { id: PLAN, registry: { price: { isCrypto: true } } } })
  backend.respond('POST', VERIFY, { json: { isValid: true, payer: '0xsubscriber', agentRequestId: 'req-1' } })
  backend.respond('POST', SETTLE, () => (left > 0 ? (left--, { json: { success: true, payer: '0xsubscriber', transaction: '0xtx', network: NETWORK, creditsRedeemed: '1', remainingBalance: String(left) } }) : { json: { success: false, errorReason: 'Insufficient credits', transaction: '', network: NETWORK } }))
  const { handler } = handlerFor(backend)
  const { client } = await connect(t, 'v2 client, 2026-07-28', handler)
  const results = await Promise.all(Array.from({ length: 30 }, (_, i) => client.callTool({ name: 'echo', arguments: { text: `call ${i}` }, _meta: PAYMENT })))
  const answered = results.filter((r) => !r.isError)
  assert.equal(answered.length, 10)
  assert.equal(calls(backend, SETTLE).length, 30)
  for (const refused of results.filter((r) => r.isError)) assert.ok(!JSON.stringify(refused).includes('"call '), 'no content without a settle')
})
