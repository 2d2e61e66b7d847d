// payments.mcp.callTool against real MCP servers of both SDK lines, paid
// through nvm-local (the seeded MCP agent and its free plan), each tool paid
// by this package's MCP paywall:
//   (a) a v2 server (createMcpHandler, @modelcontextprotocol/server): spoken
//       to in 2026-07-28 — server/discover, then the tools/call with the
//       envelope next to the payment in _meta, and its headers;
//   (b) a v1 stateless server (McpServer + WebStandardStreamableHTTPServerTransport,
//       no session): the probe refused, initialize, the tools/call in 2025-11-25;
//   (c) a v1 sessionful server: initialize, notifications/initialized, the
//       tools/call with its Mcp-Session-Id.
// Each call burns exactly one credit and carries its receipt. What each server
// received is counted (the round trips of each revision), a second call is one
// round trip (the revision is remembered), no negotiation request carries the
// token, and a server that loses its sessions is negotiated with again.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { randomUUID } from 'node:crypto'
import { McpServer as McpServerV2, createMcpHandler } from '@modelcontextprotocol/server'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js'
import { z } from 'zod'
import { PaymentsError } from 'nvm-x402'
import { Payments } from 'nvm-x402/mcp'
import { startNvmLocal } from '../support/servers.mjs'
import { newSubscriber, stopAll } from '../support/gate.mjs'

const MODERN = '2026-07-28'
const LEGACY = '2025-11-25'

/**
 * Serves a Fetch-API MCP handler (set later: `served.handle = ...`) on 127.0.0.1, on a port
 * the system picks (no race with other tests for a "free" one; a failed listen rejects
 * instead of leaving the test waiting), recording every JSON-RPC request it gets:
 * `{method, headers, json}`.
 */
function serve() {
  const seen = []
  let handle = null
  const server = http.createServer(async (req, res) => {
    const chunks = []
    for await (const chunk of req) chunks.push(chunk)
    const body = Buffer.concat(chunks)
    let json
    try {
      json = JSON.parse(body.toString('utf8'))
    } catch {
      json = undefined
    }
    seen.push({ method: json?.method, headers: req.headers, json })
    const request = new Request(`http://127.0.0.1:${server.address().port}${req.url}`, { method: req.method, headers: req.headers, body: body.length ? body : undefined })
    const response = await handle(request)
    res.writeHead(response.status, Object.fromEntries(response.headers))
    res.end(Buffer.from(await response.arrayBuffer()))
  })
  return new Promise((ok, fail) => {
    server.once('error', fail)
    server.listen(0, '127.0.0.1', () =>
      ok({
        port: server.address().port,
        url: `http://127.0.0.1:${server.address().port}/mcp`,
        seen,
        methods: () => seen.map((r) => r.method),
        set handle(h) {
          handle = h
        },
        close: () => new Promise((done) => (server.close(done), server.closeAllConnections())),
      }),
    )
  })
}

/** The paid `echo` tool (1 credit) on `server`, through the paywall of `payments` (the MCP agent's builder). */
function paidEcho(payments, server, inputSchema) {
  payments.mcp.attach(server).registerTool('echo', { inputSchema }, async ({ text }) => ({ content: [{ type: 'text', text }] }), { credits: 1n })
  return server
}

/** (a) The v2 line: createMcpHandler, a fresh server per request. */
function v2Handler(payments) {
  const handler = createMcpHandler(() => paidEcho(payments, new McpServerV2({ name: 'nvm-demo', version: '2.0.0' }), z.object({ text: z.string() })))
  return (request) => handler.fetch(request)
}

const v1Server = (payments) => paidEcho(payments, new McpServer({ name: 'nvm-demo', version: '1.0.0' }), { text: z.string() })

/** (b) The v1 line, stateless: a server and transport per request, no session. */
function v1Stateless(payments) {
  return async (request) => {
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined })
    await v1Server(payments).connect(transport)
    return transport.handleRequest(request)
  }
}

/** (c) The v1 line, sessionful (the SDK's example wiring): `sessions.clear()` is a restart that forgets them. */
function v1Sessionful(payments) {
  const sessions = new Map()
  const handle = async (request) => {
    const id = request.headers.get('mcp-session-id')
    if (id) {
      const transport = sessions.get(id)
      if (transport) return transport.handleRequest(request)
      return Response.json({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null }, { status: 404 })
    }
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: () => randomUUID(), onsessioninitialized: (sid) => sessions.set(sid, transport) })
    await v1Server(payments).connect(transport)
    return transport.handleRequest(request)
  }
  return Object.assign(handle, { sessions })
}

describe('payments.mcp.callTool negotiates the MCP revision with real servers, paid through nvm-local', () => {
  let nvm, world, plan, agentId, subscriber, builder
  const servers = {}

  before(async () => {
    servers.v2 = await serve()
    servers.stateless = await serve()
    servers.sessionful = await serve()
    nvm = await startNvmLocal({ args: ['--mcp-url', `http://127.0.0.1:${servers.v2.port}`] })
    world = nvm.world
    plan = world.plans.free.planId
    agentId = world.mcpAgent.agentId
    // The paywall verifies the tool's logical URL (mcp://nvm-demo/tools/echo), which the seeded MCP agent registered.
    builder = Payments.getInstance({ nvmApiKey: world.accounts.builder.apiKey, backendUrl: nvm.url })
    builder.mcp.configure({ agentId, serverName: world.mcpAgent.serverName, planId: plan })
    servers.v2.handle = v2Handler(builder)
    servers.stateless.handle = v1Stateless(builder)
    servers.sessionfulHandler = v1Sessionful(builder)
    servers.sessionful.handle = servers.sessionfulHandler
    subscriber = await newSubscriber(nvm, { planId: plan, agentId })
  })
  after(() => stopAll(servers.v2, servers.stateless, servers.sessionful, nvm))

  /** Pays `echo` on `server`: the answer, and the credits it burned. */
  async function paidCall(server, text, options = {}) {
    await subscriber.topUp(1n)
    const before = await subscriber.balance()
    const from = server.seen.length
    const answer = await subscriber.payments.mcp.callTool({ url: server.url, name: 'echo', arguments: { text }, planId: plan, agentId, ...options })
    assert.deepEqual(answer.result.content, [{ type: 'text', text }])
    assert.equal(answer.paymentResponse.success, true, 'the receipt')
    assert.equal(answer.paymentResponse.creditsRedeemed, '1')
    assert.equal(before - (await subscriber.balance()), 1n, 'exactly one credit burned')
    return { answer, requests: server.seen.slice(from) }
  }

  /** The negotiation's requests carry no token: none in the body, no payment-signature. */
  function assertUnpaid(requests) {
    for (const r of requests.filter((r) => r.method !== 'tools/call')) {
      assert.equal(r.json?.params?._meta?.['x402/payment'], undefined, `${r.method} carries no payment`)
      assert.equal(r.headers['payment-signature'], undefined)
    }
  }

  test('(a) a v2 server: 2026-07-28 — the probe, then one tools/call with the envelope and its headers (2 round trips, then 1)', async () => {
    const { requests } = await paidCall(servers.v2, 'modern')
    assert.deepEqual(requests.map((r) => r.method), ['server/discover', 'tools/call'])
    assertUnpaid(requests)
    const [probe, call] = requests
    assert.equal(probe.headers['mcp-protocol-version'], MODERN)
    assert.equal(probe.headers['mcp-method'], 'server/discover')
    assert.equal(probe.json.params._meta['io.modelcontextprotocol/protocolVersion'], MODERN)
    const meta = call.json.params._meta
    assert.equal(meta['io.modelcontextprotocol/protocolVersion'], MODERN)
    assert.deepEqual(meta['io.modelcontextprotocol/clientCapabilities'], {})
    assert.equal(meta['io.modelcontextprotocol/clientInfo'].name, 'nvm-x402')
    assert.equal(meta['x402/payment'].accepted.planId, plan, 'the payment next to the envelope')
    assert.deepEqual([call.headers['mcp-protocol-version'], call.headers['mcp-method'], call.headers['mcp-name']], [MODERN, 'tools/call', 'echo'])
    assert.equal(call.json.id, 1, 'the tools/call id is the caller\'s (default 1)')
    assert.equal(call.headers['mcp-session-id'], undefined)
    const again = await paidCall(servers.v2, 'modern again', { id: 'call-2' })
    assert.deepEqual(again.requests.map((r) => r.method), ['tools/call'], 'the revision is remembered')
    assert.equal(again.requests[0].json.id, 'call-2')
  })

  test('(b) a v1 stateless server: 2025-11-25 — initialize, no notifications/initialized without a session (3 round trips, then 1)', async () => {
    const { requests } = await paidCall(servers.stateless, 'stateless')
    assert.deepEqual(requests.map((r) => r.method), ['server/discover', 'initialize', 'tools/call'])
    assertUnpaid(requests)
    const [, init, call] = requests
    assert.equal(init.json.params.protocolVersion, LEGACY)
    assert.equal(init.headers['mcp-protocol-version'], undefined, 'no version header before one is agreed')
    assert.equal(call.headers['mcp-protocol-version'], LEGACY)
    assert.equal(call.headers['mcp-method'], undefined, 'no 2026 headers in 2025')
    assert.deepEqual(Object.keys(call.json.params._meta), ['x402/payment'], 'no 2026 envelope')
    const again = await paidCall(servers.stateless, 'stateless again')
    assert.deepEqual(again.requests.map((r) => r.method), ['tools/call'])
  })

  test('(c) a v1 sessionful server: initialize, notifications/initialized, its session on every call (4 round trips, then 1); a restart that lost it is negotiated again', async () => {
    const { requests } = await paidCall(servers.sessionful, 'sessionful')
    assert.deepEqual(requests.map((r) => r.method), ['server/discover', 'initialize', 'notifications/initialized', 'tools/call'])
    assertUnpaid(requests)
    const session = requests[2].headers['mcp-session-id']
    assert.ok(servers.sessionfulHandler.sessions.has(session), 'the session the server opened')
    assert.equal(requests[3].headers['mcp-session-id'], session)
    assert.equal(requests[3].headers['mcp-protocol-version'], LEGACY)
    const again = await paidCall(servers.sessionful, 'same session')
    assert.deepEqual(again.requests.map((r) => r.method), ['tools/call'])
    assert.equal(again.requests[0].headers['mcp-session-id'], session, 'the session is kept')
    // The server restarts: the remembered session is refused (404, before any tool runs), negotiated again, one credit.
    servers.sessionfulHandler.sessions.clear()
    const recovered = await paidCall(servers.sessionful, 'after a restart')
    assert.deepEqual(recovered.requests.map((r) => r.method), ['tools/call', 'server/discover', 'initialize', 'notifications/initialized', 'tools/call'])
    const renewed = recovered.requests[4].headers['mcp-session-id']
    assert.notEqual(renewed, session, 'a new session')
    // A caller's own mcp-session-id: their session, the call as they made it, no negotiation.
    const own = await paidCall(servers.sessionful, 'my session', { url: `${servers.sessionful.url}?own`, headers: { 'mcp-session-id': renewed } })
    assert.deepEqual(own.requests.map((r) => r.method), ['tools/call'])
    assert.equal(own.requests[0].headers['mcp-session-id'], renewed)
    assert.equal(own.requests[0].headers['mcp-protocol-version'], undefined, 'only the headers they set')
  })

  test('protocolVersion pins: 2026-07-28 to a 2025 server fails negotiation and burns nothing; 2025-11-25 skips the probe', async () => {
    const before = await subscriber.balance()
    const from = servers.stateless.seen.length
    await assert.rejects(
      subscriber.payments.mcp.callTool({ url: servers.stateless.url, name: 'echo', arguments: { text: 'x' }, planId: plan, agentId, protocolVersion: MODERN }),
      (e) => e instanceof PaymentsError && e.code === 'mcp_negotiation_failed' && /2026-07-28/.test(e.message) && /protocolVersion/.test(e.hint),
    )
    assert.deepEqual(servers.stateless.methods().slice(from), ['server/discover'], 'nothing paid was sent')
    assert.equal(await subscriber.balance(), before)
    const { requests } = await paidCall(servers.v2, 'pinned 2025', { protocolVersion: LEGACY })
    assert.deepEqual(requests.map((r) => r.method), ['initialize', 'tools/call'], 'a v2 server serves 2025 too')
  })
})
