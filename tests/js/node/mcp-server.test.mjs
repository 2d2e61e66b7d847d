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

test('a pay-as-you-go settle: _meta["nevermined/credits"] carries billingModel and orderTx, and only the creditsRedeemed the settle reported (the official since payments #432/#443)', async (t) => {
  const payg = { success: true, payer: '0xsubscriber', transaction: '0xtx', network: 'stripe', billingModel: 'pay-as-you-go', creditsRedeemed: '0', remainingBalance: '0', orderTx: 'pi_3U6tgrBYvSRKcV421ehH4bnX' }
  const backend = await backendWith(t, { settle: () => ({ json: payg }) })
  const { client } = await serve(t, backend)
  const result = await client.callTool({ name: 'echo', arguments: { text: 'hi' }, _meta: PAYMENT })
  assert.deepEqual(result.content, [{ type: 'text', text: 'hi' }])
  assert.deepEqual(result._meta['x402/payment-response'], payg)
  assert.deepEqual(result._meta['nevermined/credits'], { txHash: '0xtx', billingModel: 'pay-as-you-go', creditsRedeemed: '0', remainingBalance: '0', orderTx: 'pi_3U6tgrBYvSRKcV421ehH4bnX', planId: PLAN, subscriberAddress: '0xsubscriber', success: true })
  // A settle that reports no figure: no creditsRedeemed stands in for it (not the 2 credits asked for).
  backend.respond('POST', SETTLE, { json: { success: true, payer: '0xsubscriber', transaction: '0xtx2', network: NETWORK } })
  const silent = await client.callTool({ name: 'echo', arguments: { text: 'hi' }, _meta: PAYMENT })
  assert.deepEqual(silent._meta['nevermined/credits'], { txHash: '0xtx2', planId: PLAN, subscriberAddress: '0xsubscriber', success: true })
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

test('the -32003 message names the first three of the agent\'s plans as the official\'s, when they were listed for the call (no plan configured); no lookup is made for it', async (t) => {
  const backend = await backendWith(t)
  const listed = [{ planId: PLAN, name: 'Gold' }, { id: '2002' }, { planId: '2003', name: 'Silver' }, { planId: '2004', name: 'Bronze' }]
  backend.respond('GET', `/api/v1/protocol/agents/${AGENT}/plans`, { json: { plans: listed, total: 4 } })
  for (const id of ['2002', '2003', '2004']) backend.respond('GET', `${PLANS}${id}`, { json: { id, registry: { price: { isCrypto: true } } } })
  const { client } = await serve(t, backend, { configure: { agentId: AGENT, serverName: 'weather' } })
  await assert.rejects(client.readResource({ uri: 'weather://city/7' }), (e) => e.code === -32003 && e.message.endsWith(` Available plans: ${PLAN} (Gold), 2002, 2003 (Silver)...`) && e.data.accepts.length === 4)
  const configured = await serve(t, await backendWith(t))
  await assert.rejects(configured.client.readResource({ uri: 'weather://city/7' }), (e) => e.code === -32003 && !e.message.includes('Available plans'))
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
    // The revisions the paywall serves (#22; the official says 2024-11-05), unless the server names its own.
    const caps = (await get('/.well-known/oauth-protected-resource/mcp').json()).mcp_capabilities
    assert.deepEqual(caps, { tools: ['echo'], protocol_version: '2025-11-25', protocol_versions: ['2026-07-28', '2025-11-25'] })
    const speaks = payments.mcp.discovery(new Request('https://mcp.example/.well-known/oauth-protected-resource/mcp'), { protocolVersions: ['2025-06-18'] })
    assert.deepEqual((await speaks.json()).mcp_capabilities, { tools: [], protocol_version: '2025-06-18', protocol_versions: ['2025-06-18'] })
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

/** A handler's stream: yields `items` one by one, recording when it ends (how many settles the backend had by then). */
function streamOf(items, backend, seen) {
  return async function* () {
    try {
      for (const item of items) {
        await new Promise((ok) => setImmediate(ok))
        yield item
      }
    } finally {
      seen.settlesWhenItEnded = calls(backend, SETTLE).length
    }
  }
}

async function collect(iterable) {
  const out = []
  for await (const chunk of iterable) out.push(chunk)
  return out
}

test('a streamed result (AsyncIterable) is read to its end, settled, then delivered with the official SDK\'s _meta chunk last', async (t) => {
  const backend = await backendWith(t)
  const payments = Payments.getInstance({ nvmApiKey: offlineKey(), backendUrl: backend.url })
  payments.mcp.configure({ agentId: AGENT, serverName: 'weather', planId: PLAN })
  const seen = {}
  const chunks = [{ type: 'text', text: 'one' }, { type: 'text', text: 'two' }, { type: 'text', text: 'three' }]
  const stream = payments.mcp.withPaywall(async () => streamOf(chunks, backend, seen)(), { kind: 'tool', name: 'stream', credits: 5n })
  const iterable = await stream({}, { requestId: 1, _meta: PAYMENT })
  assert.equal(seen.settlesWhenItEnded, 0, 'settled after the last chunk')
  assert.equal(calls(backend, SETTLE).length, 1, 'and before any chunk is handed on')
  assert.equal(calls(backend, SETTLE)[0].json.maxAmount, '5')
  assert.equal(typeof iterable[Symbol.asyncIterator], 'function')
  const got = await collect(iterable)
  assert.deepEqual(got.slice(0, 3), chunks)
  assert.equal(got.length, 4)
  const { _meta } = got[3]
  assert.equal(_meta['x402/payment-response'].transaction, '0xtx')
  assert.deepEqual(_meta['nevermined/credits'], { txHash: '0xtx', creditsRedeemed: '5', remainingBalance: '7', planId: PLAN, subscriberAddress: '0xsubscriber', success: true })
  // A dynamic price is told the chunks.
  let told
  const priced = payments.mcp.withPaywall(async () => streamOf(chunks, backend, {})(), { kind: 'tool', name: 'priced', maxAmount: 9n, credits: (ctx) => { told = ctx.result; return BigInt(ctx.result.length) } })
  await collect(await priced({}, { requestId: 2, _meta: PAYMENT }))
  assert.deepEqual(told, chunks)
  assert.equal(calls(backend, SETTLE)[1].json.maxAmount, '3')
})

test('a streamed result whose settle fails delivers none of its chunks; one that throws partway is charged nothing', async (t) => {
  const backend = await backendWith(t, { settle: { json: { success: false, errorReason: 'no funds', transaction: '', network: NETWORK } } })
  const payments = Payments.getInstance({ nvmApiKey: offlineKey(), backendUrl: backend.url })
  payments.mcp.configure({ agentId: AGENT, serverName: 'weather', planId: PLAN })
  const secret = [{ type: 'text', text: 'secret-paid-chunk' }]
  const tool = payments.mcp.withPaywall(async () => streamOf(secret, backend, {})(), { kind: 'tool', name: 'stream' })
  const got = await collect(await tool({}, { requestId: 1, _meta: PAYMENT }))
  assert.ok(!JSON.stringify(got).includes('secret-paid-chunk'), 'no chunk of the unpaid stream')
  assert.equal(got.length, 1)
  const [refusal] = got
  assert.equal(refusal.isError, true)
  assert.equal(refusal.structuredContent.error, 'settlement failed')
  assert.equal(refusal.structuredContent.x402Version, 2)
  // The official SDK's last chunk of a stream whose settle failed: no receipt, the reason.
  assert.equal(refusal._meta['x402/payment-response'], undefined)
  assert.equal(refusal._meta['nevermined/credits'].success, false)
  assert.equal(refusal._meta['nevermined/credits'].errorReason, 'no funds')
  assert.equal(refusal._meta['nevermined/credits'].creditsRedeemed, '0')
  // A resource's stream: the JSON-RPC error, nothing of it.
  const resource = payments.mcp.withPaywall(async () => streamOf(secret, backend, {})(), { kind: 'resource', name: 'feed' })
  await assert.rejects(resource(new URL('weather://feed'), {}, { requestId: 2, _meta: PAYMENT }), (e) => e.code === -32003 && e.data.error === 'settlement failed' && !JSON.stringify(e).includes('secret-paid-chunk'))
  // A stream that throws partway: its error goes on, nothing is settled.
  const before = calls(backend, SETTLE).length
  const broken = payments.mcp.withPaywall(async () => (async function* () {
    yield { type: 'text', text: 'partial' }
    throw new Error('stream broke')
  })(), { kind: 'tool', name: 'broken' })
  await assert.rejects(broken({}, { requestId: 3, _meta: PAYMENT }), /stream broke/)
  assert.equal(calls(backend, SETTLE).length, before)
})

test('a settle the backend refuses for the logical URL is asked again with the HTTP URL (as verify is)', async (t) => {
  const backend = await backendWith(t, {
    settle: (call) => call.json.paymentRequired.resource.url === 'https://agent.example/mcp'
      ? { json: { success: true, transaction: '0xhttp', network: NETWORK, creditsRedeemed: call.json.maxAmount } }
      : { status: 400, json: { code: 'BCK.X402.0020', message: 'Endpoint not registered', httpStatus: 400 } },
  })
  const { client } = await serve(t, backend)
  const result = await client.callTool({ name: 'echo', arguments: { text: 'hi' }, _meta: PAYMENT })
  assert.deepEqual(result.content, [{ type: 'text', text: 'hi' }])
  assert.equal(result._meta['x402/payment-response'].transaction, '0xhttp')
  assert.deepEqual(calls(backend, SETTLE).map((s) => s.json.paymentRequired.resource.url), ['mcp://weather/tools/echo?text=hi', 'https://agent.example/mcp'])
})

test('onRedeemError "propagate": a settle that errs is the official SDK\'s -32002, still without the content', async (t) => {
  const backend = await backendWith(t, { settle: { status: 400, json: { code: 'BCK.X402.0059', message: 'Token already used', httpStatus: 400 } } })
  const payments = Payments.getInstance({ nvmApiKey: offlineKey(), backendUrl: backend.url })
  payments.mcp.configure({ agentId: AGENT, serverName: 'weather', planId: PLAN })
  const secret = async () => ({ content: [{ type: 'text', text: 'secret' }] })
  const propagate = payments.mcp.withPaywall(secret, { kind: 'tool', name: 'p', onRedeemError: 'propagate' })
  await assert.rejects(propagate({}, { requestId: 1, _meta: PAYMENT }), (e) => e.code === -32002 && e.message === 'Failed to redeem credits: Token already used')
  const ignore = await payments.mcp.withPaywall(secret, { kind: 'tool', name: 'i' })({}, { requestId: 2, _meta: PAYMENT })
  assert.equal(ignore.structuredContent.error, 'settlement failed')
  assert.ok(!JSON.stringify(ignore).includes('secret'))
  assert.throws(() => payments.mcp.withPaywall(secret, { name: 'x', onRedeemError: 'throw' }), /onRedeemError must be/)
})

test('a plans outage is the official SDK\'s refusal saying "plans unavailable": no content, nothing verified', async (t) => {
  const backend = await backendWith(t)
  backend.respond('GET', `${PLANS}${PLAN}`, { status: 502, body: '<html>bad gateway</html>' })
  const { client, handlerCalls } = await serve(t, backend)
  const result = await client.callTool({ name: 'echo', arguments: { text: 'x' }, _meta: PAYMENT })
  assert.equal(result.isError, true)
  assert.equal(result.structuredContent.error, 'plans unavailable')
  assert.deepEqual(result.structuredContent.accepts.map((a) => [a.planId, a.scheme]), [[PLAN, 'nvm:erc4337']])
  assert.deepEqual(JSON.parse(result.content[0].text), result.structuredContent)
  assert.equal(handlerCalls.length, 0)
  assert.equal(calls(backend, VERIFY).length, 0)
})

test('the official SDK\'s withPaywall assertions, on ours', async (t) => {
  const backend = await backendWith(t, { settle: () => ({ json: { success: true, transaction: '', network: NETWORK, creditsRedeemed: '10', remainingBalance: '90' } }) })
  const payments = Payments.getInstance({ nvmApiKey: offlineKey(), backendUrl: backend.url })
  payments.mcp.configure({ agentId: AGENT, serverName: 'test-mcp', planId: PLAN })
  const ok = async () => ({ content: [{ type: 'text', text: 'ok' }] })
  // Credits default to one (whatever maxAmount); verify checks maxAmount.
  const one = payments.mcp.withPaywall(ok, { kind: 'tool', name: 'test', maxAmount: 4n })
  const out = await one({}, { requestId: 1, _meta: PAYMENT })
  assert.equal(calls(backend, VERIFY)[0].json.maxAmount, '4')
  assert.equal(calls(backend, SETTLE)[0].json.maxAmount, '1')
  // creditsRedeemed comes from the settle's answer; an empty transaction is no txHash.
  assert.equal(out._meta['nevermined/credits'].creditsRedeemed, '10')
  assert.equal(out._meta['nevermined/credits'].txHash, undefined)
  assert.equal(out._meta['x402/payment-response'].success, true)
  // The in-band payment wins over the Authorization header.
  const other = TOKEN.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'))
  await one({}, { requestId: 2, _meta: PAYMENT, requestInfo: { headers: { authorization: `Bearer ${other}` } } })
  assert.equal(calls(backend, VERIFY)[1].json.x402AccessToken, TOKEN)
  // Without a payment: an error result carrying the PaymentRequired in both forms.
  const refused = await one({}, { requestId: 3, requestInfo: { headers: {} } })
  assert.equal(refused.isError, true)
  assert.equal(refused.structuredContent.x402Version, 2)
  assert.deepEqual(JSON.parse(refused.content[0].text), refused.structuredContent)
})
