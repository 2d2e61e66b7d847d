// The MCP paywall in-process: the official MCP SDK's McpServer over its
// WebStandardStreamableHTTPServerTransport, called by the official Client
// through a fetch that hands each Request to the transport; the backend is a
// recording server, so every verify and settle (and what they carry) is seen.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js'
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js'
import { ListToolsRequestSchema, McpError } from '@modelcontextprotocol/sdk/types.js'
import { Server } from '@modelcontextprotocol/sdk/server/index.js'
import { z } from 'zod'
import { PaymentsError, decodeAccessToken } from 'nvm-x402'
import { Payments } from 'nvm-x402/mcp'
import { PLANS, SETTLE, VERIFY, offlineKey } from '../support/gate.mjs'
import { backendFor } from '../support/nvm.mjs'

const PLAN = '1234567890'
const AGENT = 'agent-mcp'
const NETWORK = 'eip155:84532'
const part = (value) => Buffer.from(JSON.stringify(value)).toString('base64url')
const TOKEN = part({
  x402Version: 2,
  accepted: { scheme: 'nvm:erc4337', network: NETWORK, planId: PLAN, extra: { version: '1' } },
  payload: { signature: '0xsig', authorization: { from: '0xsubscriber', sessionKeys: [] } },
  extensions: {},
})
const PAYMENT = { 'x402/payment': decodeAccessToken(TOKEN) }

/** A backend whose plan is crypto, whose verify says yes and whose settle burns what it is asked (unless `settle` says otherwise). */
async function backendWith(t, { settle } = {}) {
  const backend = await backendFor(t)
  backend.respond('GET', `${PLANS}${PLAN}`, { json: { id: PLAN, registry: { price: { isCrypto: true } } } })
  backend.respond('POST', VERIFY, { json: { isValid: true, payer: '0xsubscriber', agentRequestId: 'req-1' } })
  backend.respond('POST', SETTLE, settle ?? ((call) => ({ json: { success: true, payer: '0xsubscriber', transaction: '0xtx', network: NETWORK, creditsRedeemed: call.json.maxAmount, remainingBalance: '7' } })))
  return backend
}

const calls = (backend, path) => backend.requests.filter((r) => r.path === path)

/** An MCP server (tools, a resource template, a prompt) behind the paywall, and an official client connected to it. */
async function serve(t, backend, { configure = { agentId: AGENT, serverName: 'weather', planId: PLAN }, register } = {}) {
  const payments = Payments.getInstance({ nvmApiKey: offlineKey(), backendUrl: backend.url })
  payments.mcp.configure(configure)
  const handlerCalls = []
  const build = () => {
    const server = new McpServer({ name: 'weather', version: '1.0.0' })
    const paid = payments.mcp.attach(server)
    paid.registerTool('echo', { inputSchema: { text: z.string() } }, async ({ text }, extra, context) => {
      handlerCalls.push(context)
      return { content: [{ type: 'text', text }] }
    }, { credits: 2n })
    paid.registerResource('city', new ResourceTemplate('weather://city/{id}', { list: undefined }), {}, async (uri, { id }) => ({ contents: [{ uri: uri.href, text: `city ${id}` }] }))
    paid.registerPrompt('summary', { argsSchema: { topic: z.string() } }, async ({ topic }) => ({ messages: [{ role: 'user', content: { type: 'text', text: `Summarise ${topic}` } }] }))
    register?.(paid, server, payments)
    return server
  }
  const client = await connectTo(t, build)
  return { client, payments, handlerCalls }
}

/** An official client of a stateless Streamable HTTP server made by `build()` per request (its fetch hands the Request to the transport). */
async function connectTo(t, build) {
  const fetch = async (url, init) => {
    const server = build()
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true })
    await server.connect(transport)
    return transport.handleRequest(new Request(url, init))
  }
  const client = new Client({ name: 'test', version: '1.0.0' })
  await client.connect(new StreamableHTTPClientTransport(new URL('https://agent.example/mcp'), { fetch }))
  t.after(() => client.close())
  return client
}

test('a paid tool verifies before the handler and settles its credits after, with the receipt in _meta', async (t) => {
  const backend = await backendWith(t)
  const { client, handlerCalls } = await serve(t, backend)
  const result = await client.callTool({ name: 'echo', arguments: { text: 'hi there' }, _meta: PAYMENT })
  assert.deepEqual(result.content, [{ type: 'text', text: 'hi there' }])
  const [verify] = calls(backend, VERIFY)
  assert.equal(verify.json.paymentRequired.resource.url, 'mcp://weather/tools/echo?text=hi+there')
  assert.equal(verify.json.x402AccessToken, TOKEN)
  assert.equal(verify.json.maxAmount, '2')
  const [settle] = calls(backend, SETTLE)
  assert.equal(settle.json.maxAmount, '2')
  assert.equal(settle.json.agentRequestId, 'req-1')
  assert.equal(result._meta['x402/payment-response'].transaction, '0xtx')
  assert.deepEqual(result._meta['nevermined/credits'], { txHash: '0xtx', creditsRedeemed: '2', remainingBalance: '7', planId: PLAN, subscriberAddress: '0xsubscriber', success: true })
  // The handler saw the paywall's context (the official SDK's shape).
  assert.equal(handlerCalls[0].planId, PLAN)
  assert.equal(handlerCalls[0].credits, 2n)
  assert.equal(handlerCalls[0].authResult.logicalUrl, 'mcp://weather/tools/echo?text=hi+there')
  assert.equal(handlerCalls[0].authResult.httpUrl, 'https://agent.example/mcp')
})

test('the logical URL is the official SDK\'s: URLSearchParams of the arguments, other values as JSON', async (t) => {
  const backend = await backendWith(t)
  const { client } = await serve(t, backend, {
    register: (paid) => paid.registerTool('search', { inputSchema: { q: z.string(), n: z.number(), tags: z.array(z.string()), opts: z.object({ deep: z.boolean() }) } }, async () => ({ content: [] })),
  })
  const args = { q: 'café & co+', n: 3, tags: ['a b', 'ü'], opts: { deep: true } }
  const result = await client.callTool({ name: 'search', arguments: args })
  const params = new URLSearchParams()
  for (const [k, v] of Object.entries(args)) params.set(k, typeof v === 'string' ? v : JSON.stringify(v))
  assert.equal(result.structuredContent.resource.url, `mcp://weather/tools/search?${params}`)
})

test('a settle that fails withholds the tool\'s content: the result is the payment-required error', async (t) => {
  const backend = await backendWith(t, { settle: { json: { success: false, errorReason: 'insufficient balance', transaction: '', network: NETWORK } } })
  const { client, handlerCalls } = await serve(t, backend)
  const result = await client.callTool({ name: 'echo', arguments: { text: 'secret answer' }, _meta: PAYMENT })
  assert.equal(handlerCalls.length, 1, 'the handler ran')
  assert.equal(result.isError, true)
  assert.equal(result.structuredContent.error, 'settlement failed')
  assert.ok(!JSON.stringify(result).includes('secret answer'), 'no content')
  // A backend that can't be reached at settle: an error, still no content.
  const down = await backendWith(t, { settle: { destroy: true } })
  const { client: other } = await serve(t, down)
  const failed = await other.callTool({ name: 'echo', arguments: { text: 'secret answer' }, _meta: PAYMENT })
  assert.equal(failed.isError, true)
  assert.match(failed.content[0].text, /Payment settlement is unavailable/)
  assert.ok(!JSON.stringify(failed).includes('secret answer'))
})

test('resources and prompts answer a JSON-RPC error -32003 carrying the PaymentRequired; paid, they deliver', async (t) => {
  const backend = await backendWith(t)
  const { client } = await serve(t, backend)
  for (const [ask, url] of [
    [() => client.readResource({ uri: 'weather://city/7' }), 'mcp://weather/resources/city?id=7'],
    [() => client.getPrompt({ name: 'summary', arguments: { topic: 'rain' } }), 'mcp://weather/tools/summary?topic=rain'],
  ]) {
    await assert.rejects(ask, (e) => e instanceof McpError && e.code === -32003 && e.data.resource.url === url && e.data.accepts[0].planId === PLAN)
  }
  const read = await client.readResource({ uri: 'weather://city/7', _meta: PAYMENT })
  assert.equal(read.contents[0].text, 'city 7')
  assert.equal(read._meta['x402/payment-response'].success, true)
  const prompt = await client.getPrompt({ name: 'summary', arguments: { topic: 'rain' }, _meta: PAYMENT })
  assert.equal(prompt.messages[0].content.text, 'Summarise rain')
  assert.equal(calls(backend, SETTLE).length, 2)
})

test('dynamic credits: verify the maximum, settle what the function returns from the arguments and the result', async (t) => {
  const backend = await backendWith(t)
  const seen = []
  const { client } = await serve(t, backend, {
    register: (paid) =>
      paid.registerTool('words', { inputSchema: { text: z.string() } }, async ({ text }) => ({ content: [{ type: 'text', text }] }), {
        maxAmount: 10n,
        credits: (ctx) => {
          seen.push(ctx)
          return BigInt(ctx.args.text.split(' ').length)
        },
      }),
  })
  const result = await client.callTool({ name: 'words', arguments: { text: 'one two three' }, _meta: PAYMENT })
  assert.equal(calls(backend, VERIFY)[0].json.maxAmount, '10')
  assert.equal(calls(backend, SETTLE)[0].json.maxAmount, '3')
  assert.equal(result._meta['nevermined/credits'].creditsRedeemed, '3')
  assert.equal(seen[0].result.content[0].text, 'one two three')
  assert.equal(seen[0].request.toolName, 'words')
  assert.equal(seen[0].request.authHeader, `Bearer ${TOKEN}`)
})

test('a handler that throws is charged nothing; a bad credits function delivers nothing', async (t) => {
  const backend = await backendWith(t)
  const { client } = await serve(t, backend, {
    register: (paid) => {
      paid.registerTool('boom', {}, async () => {
        throw new Error('tool broke')
      })
      paid.registerTool('bad', {}, async () => ({ content: [{ type: 'text', text: 'paid output' }] }), { credits: () => Number.NaN })
    },
  })
  const boom = await client.callTool({ name: 'boom', arguments: {}, _meta: PAYMENT })
  assert.equal(boom.isError, true)
  assert.match(boom.content[0].text, /tool broke/)
  assert.equal(calls(backend, SETTLE).length, 0)
  const bad = await client.callTool({ name: 'bad', arguments: {}, _meta: PAYMENT })
  assert.equal(bad.isError, true)
  assert.ok(!JSON.stringify(bad).includes('paid output'))
  assert.equal(calls(backend, SETTLE).length, 0)
})

test('an unreachable backend at verify is an error, never the tool\'s content', async (t) => {
  const backend = await backendWith(t)
  backend.respond('POST', VERIFY, { destroy: true })
  const { client, handlerCalls } = await serve(t, backend)
  const result = await client.callTool({ name: 'echo', arguments: { text: 'x' }, _meta: PAYMENT })
  assert.equal(result.isError, true)
  assert.match(result.content[0].text, /Payment verification is unavailable/)
  assert.equal(handlerCalls.length, 0)
})

test('configure and withPaywall refuse what cannot work, as PaymentsError, before any call', async (t) => {
  const payments = Payments.getInstance({ nvmApiKey: offlineKey(), backendUrl: 'http://127.0.0.1:9' })
  assert.throws(() => payments.mcp.withPaywall(async () => ({}), { name: 'x' }), (e) => e instanceof PaymentsError && /configure/.test(e.message))
  assert.throws(() => payments.mcp.configure({ serverName: 'x' }), (e) => e instanceof PaymentsError && e.code === 'validation' && /agentId or planId/.test(e.message))
  payments.mcp.configure({ planId: PLAN })
  assert.throws(() => payments.mcp.withPaywall(async () => ({}), { kind: 'tool' }), /name is required/)
  assert.throws(() => payments.mcp.withPaywall(async () => ({}), { name: 'x', kind: 'sampling' }), /kind must be/)
  assert.throws(() => payments.mcp.withPaywall(async () => ({}), { name: 'x', credits: {} }), /credits must be/)
  assert.throws(() => payments.mcp.attach({}), /McpServer/)
  // withPaywall works on its own too (handler(args, extra)).
  const backend = await backendWith(t)
  const direct = Payments.getInstance({ nvmApiKey: offlineKey(), backendUrl: backend.url })
  direct.mcp.configure({ agentId: AGENT, serverName: 'weather', planId: PLAN })
  const echo = direct.mcp.withPaywall(async ({ text }) => ({ content: [{ type: 'text', text }] }), { kind: 'tool', name: 'echo', credits: 1 })
  const refused = await echo({ text: 'a' }, { requestId: 1, _meta: {} })
  assert.equal(refused.isError, true)
  const paid = await echo({ text: 'a' }, { requestId: 2, _meta: PAYMENT })
  assert.deepEqual(paid.content, [{ type: 'text', text: 'a' }])
  assert.equal(paid._meta['nevermined/credits'].creditsRedeemed, '1')
})

test('discovery answers the official router\'s documents for the key\'s environment, and null for anything else', () => {
  const sandboxKey = offlineKey().replace(/^local:/, 'sandbox:')
  const payments = Payments.getInstance({ nvmApiKey: sandboxKey })
  assert.throws(() => payments.mcp.discovery(new Request('https://mcp.example/.well-known/oauth-protected-resource')), /configure/)
  payments.mcp.configure({ agentId: AGENT, serverName: 'weather', planId: PLAN })
  const get = (path, init) => payments.mcp.discovery(new Request(`https://mcp.example${path}`, init), { tools: ['echo'] })
  return (async () => {
    const prm = await get('/.well-known/oauth-protected-resource').json()
    assert.deepEqual(prm, { resource: 'https://mcp.example', authorization_servers: ['https://api.sandbox.nevermined.app'], scopes_supported: ['openid', 'profile', 'credits', 'mcp:read', 'mcp:write', 'mcp:tools'], bearer_methods_supported: ['header'], resource_documentation: 'https://mcp.example/' })
    const as = await get('/.well-known/oauth-authorization-server').json()
    assert.equal(as.issuer, 'https://nevermined.app')
    assert.equal(as.authorization_endpoint, 'https://nevermined.app/oauth/authorize')
    assert.equal(as.token_endpoint, 'https://api.sandbox.nevermined.app/oauth/token')
    const oidc = await get('/.well-known/openid-configuration').json()
    assert.equal(oidc.userinfo_endpoint, 'https://api.sandbox.nevermined.app/oauth/userinfo')
    // Custom scopes: OpenID Connect's document still names openid (the official's too).
    const custom = (path) => payments.mcp.discovery(new Request(`https://mcp.example${path}`), { scopes: ['credits'] }).json()
    assert.deepEqual((await custom('/.well-known/openid-configuration')).scopes_supported, ['openid', 'credits'])
    assert.deepEqual((await custom('/.well-known/oauth-authorization-server')).scopes_supported, ['credits'])
    // The current MCP revisions.
    const caps = (await get('/.well-known/oauth-protected-resource/mcp').json()).mcp_capabilities
    assert.deepEqual(caps, { tools: ['echo'], protocol_version: '2025-11-25', protocol_versions: ['2026-07-28', '2025-11-25'] })
    const head = get('/.well-known/oauth-protected-resource/mcp', { method: 'HEAD' })
    assert.equal(head.status, 200)
    assert.equal(await head.text(), '')
    assert.equal(get('/.well-known/oauth-protected-resource', { method: 'POST', body: '{}' }), null)
    assert.equal(get('/mcp'), null)
    const mounted = await payments.mcp.discovery(new Request('https://mcp.example/.well-known/oauth-protected-resource/mcp'), { baseUrl: 'https://public.example/agent' }).json()
    assert.equal(mounted.resource, 'https://public.example/agent/mcp')
  })()
})

test('meta methods are free unless configured: a low-level server\'s tools/list wrapped with kind "meta" is paid', async (t) => {
  const backend = await backendWith(t)
  const payments = Payments.getInstance({ nvmApiKey: offlineKey(), backendUrl: backend.url })
  payments.mcp.configure({ agentId: AGENT, serverName: 'weather', planId: PLAN })
  const client = await connectTo(t, () => {
    const server = new Server({ name: 'weather', version: '1.0.0' }, { capabilities: { tools: {} } })
    server.setRequestHandler(ListToolsRequestSchema, payments.mcp.withPaywall(async () => ({ tools: [{ name: 'secret', inputSchema: { type: 'object' } }] }), { kind: 'meta', name: 'tools/list', credits: 1n }))
    return server
  })
  assert.equal(calls(backend, VERIFY).length, 0, 'initialize stays free')
  await assert.rejects(client.listTools(), (e) => e instanceof McpError && e.code === -32003 && e.data.resource.url === 'mcp://weather/meta/tools/list')
  const listed = await client.listTools({ _meta: PAYMENT })
  assert.deepEqual(listed.tools.map((tool) => tool.name), ['secret'])
  assert.equal(listed._meta['x402/payment-response'].success, true)
  assert.equal(calls(backend, SETTLE).length, 1)
})

test('the MCP paywall calls the official hooks about the call; one that throws changes nothing', async (t) => {
  const backend = await backendWith(t)
  const calls = []
  const hook = (name, fail) => async (...args) => {
    calls.push([name, ...args])
    if (fail) throw new Error(`${name} exploded`)
  }
  for (const fail of [false, true]) {
    calls.length = 0
    const { client } = await serve(t, backend, {
      configure: { agentId: AGENT, serverName: 'weather', planId: PLAN, onBeforeVerify: hook('onBeforeVerify', fail), onAfterVerify: hook('onAfterVerify', fail), onAfterSettle: hook('onAfterSettle', fail), onPaymentError: hook('onPaymentError', fail) },
    })
    const original = console.error
    const logged = []
    console.error = (...args) => logged.push(args.map(String).join(' '))
    let paidResult, unpaid
    try {
      paidResult = await client.callTool({ name: 'echo', arguments: { text: 'hi' }, _meta: PAYMENT })
      unpaid = await client.callTool({ name: 'echo', arguments: { text: 'free?' } })
    } finally {
      console.error = original
    }
    assert.deepEqual(paidResult.content, [{ type: 'text', text: 'hi' }], `fail ${fail}`)
    assert.equal(paidResult._meta['x402/payment-response'].success, true)
    assert.equal(unpaid.isError, true, 'an unpaid call is still refused')
    assert.deepEqual(calls.map(([name]) => name), ['onBeforeVerify', 'onAfterVerify', 'onAfterSettle', 'onPaymentError'])
    const [[, subject, required], , [, , creditsUsed, settlement], [, error, refusedCall]] = calls
    assert.deepEqual(subject, { kind: 'tool', name: 'echo', args: { text: 'hi' } })
    assert.equal(required.resource.url, 'mcp://weather/tools/echo?text=hi')
    assert.equal(creditsUsed, 2)
    assert.equal(settlement.transaction, '0xtx')
    assert.ok(error instanceof PaymentsError)
    assert.equal(error.code, 'payment_required')
    assert.deepEqual(refusedCall, { kind: 'tool', name: 'echo', args: { text: 'free?' } })
    if (fail) assert.equal(logged.filter((line) => /threw; the payment goes on as decided/.test(line)).length, 4)
  }
})
