// payments.mcp.callTool against a scripted MCP server (JSON-RPC over HTTP,
// speaking 2026-07-28: it answers server/discover, then each tools/call as the
// test says): the decoded token travels in params._meta["x402/payment"], the
// receipt comes back from result._meta, a payment-required tool result is a
// 402 (one fresh mint after a refused cached token, then it stops), HTTP
// failures and overcharging receipts are errors — the same paying loop as
// fetchWithPayment. Real servers of both MCP revisions: mcp-client-eras.test.mjs.
import { describe, test, before, after, beforeEach } from 'node:test'
import assert from 'node:assert/strict'
import { Payments, PaymentsError, encodeAccessToken } from 'nvm-x402'
import { KEY } from '../support/nvm.mjs'
import { startRecorder } from '../support/servers.mjs'

const MINT = '/api/v1/x402/permissions'
const PLAN = '10'

describe('payments.mcp.callTool', () => {
  let backend, server, payments, minted

  before(async () => {
    ;[backend, server] = await Promise.all([startRecorder(), startRecorder()])
  })
  after(() => Promise.all([backend.close(), server.close()]))
  beforeEach(() => {
    backend.reset()
    server.reset()
    minted = 0
    backend.respond('POST', MINT, (call) => ({ status: 201, json: { accessToken: encodeAccessToken({ x402Version: 2, accepted: call.json.accepted, payload: { authorization: { from: '0xsub', seq: ++minted } } }) } }))
    backend.respond('GET', '/api/v1/delegation', { json: [{ delegationId: 'del-1', provider: 'erc4337', status: 'Active' }] })
    backend.respond('GET', `/api/v1/protocol/plans/${PLAN}`, { json: { registry: { price: { isCrypto: true }, credits: { maxAmount: '2' } } } })
    payments = Payments.getInstance({ nvmApiKey: KEY, backendUrl: backend.url })
  })

  const paymentRequired = { x402Version: 2, resource: { url: 'mcp://echo/tools/echo' }, accepts: [{ scheme: 'nvm:erc4337', network: 'eip155:84532', planId: PLAN, extra: { version: '1' } }], extensions: {} }
  const answer = (call, result) => ({ json: { jsonrpc: '2.0', id: call.json.id, result } })
  /** The server: server/discover offers 2026-07-28; a tools/call gets `tool(call)`. */
  const script = (tool) =>
    server.respond('POST', '/mcp', (call) =>
      call.json.method === 'server/discover' ? answer(call, { supportedVersions: ['2026-07-28'], capabilities: { tools: {} }, resultType: 'complete' }) : typeof tool === 'function' ? tool(call) : tool,
    )
  const toolCalls = () => server.requests.filter((r) => r.json?.method === 'tools/call')
  const callTool = (extra = {}) => payments.mcp.callTool({ url: `${server.url}mcp`, name: 'echo', arguments: { text: 'hi' }, planId: PLAN, agentId: 'agent-1', ...extra })

  test('pays up front: the decoded token in params._meta, the receipt from result._meta', async () => {
    script((call) => answer(call, { content: [{ type: 'text', text: call.json.params.arguments.text }], _meta: { 'x402/payment-response': { success: true, creditsRedeemed: '1', transaction: '0xtx' } } }))
    const { result, paymentResponse } = await callTool()
    assert.deepEqual(result.content, [{ type: 'text', text: 'hi' }])
    assert.equal(paymentResponse.creditsRedeemed, '1')
    assert.deepEqual(server.requests.map((r) => r.json.method), ['server/discover', 'tools/call'])
    assert.equal(server.requests[0].json.params._meta['x402/payment'], undefined, 'the probe carries no token')
    const sent = server.requests[1].json
    assert.equal(sent.params._meta['x402/payment'].accepted.planId, PLAN, 'the token, decoded')
    assert.equal(sent.params._meta['x402/payment'].payload.authorization.seq, 1)
    assert.equal(minted, 1)
  })

  test('the server\'s reason reaches the caller: a misconfigured server reads otherwise than "buy credits"', async () => {
    for (const [reason, hint] of [['Insufficient credits for plan 10', /orderPlan/], [`${server.url}mcp is not an endpoint of agent agent-1 (registered: POST https://elsewhere/mcp)`, /has not registered this URL/]]) {
      server.reset()
      script((call) => answer(call, { isError: true, structuredContent: { ...paymentRequired, error: reason }, content: [{ type: 'text', text: reason }] }))
      await assert.rejects(callTool(), (e) => e.code === 'payment_required' && e.message.includes(reason) && hint.test(e.hint))
    }
  })

  test('a refused cached token gets one fresh mint; a refused fresh one is payment_required, no loop', async () => {
    script((call) =>
      call.json.params._meta['x402/payment'].payload.authorization.seq === 1
        ? answer(call, { isError: true, structuredContent: paymentRequired, content: [{ type: 'text', text: JSON.stringify(paymentRequired) }] })
        : answer(call, { content: [{ type: 'text', text: 'second token worked' }] }),
    )
    await assert.rejects(callTool(), (e) => e instanceof PaymentsError && e.code === 'payment_required' && e.details.accepts[0].planId === PLAN)
    assert.equal(toolCalls().length, 1, 'a fresh token refused: no retry')
    const { result } = await callTool()
    assert.deepEqual(result.content, [{ type: 'text', text: 'second token worked' }])
    assert.equal(minted, 2)
    assert.deepEqual(toolCalls().map((r) => r.json.params._meta['x402/payment'].payload.authorization.seq), [1, 1, 2], 'cached, then one fresh mint')
    assert.equal(server.requests.length, 4, 'one probe: the revision is remembered')
  })

  test('an HTTP failure is an error with its status; an overcharging receipt is max_credits_exceeded', async () => {
    script({ status: 500, json: { message: 'the model is down' } })
    await assert.rejects(callTool(), (e) => e.code === 'http_500' && /model is down/.test(e.message))
    script((call) => answer(call, { content: [], _meta: { 'x402/payment-response': { success: true, creditsRedeemed: '9' } } }))
    await assert.rejects(callTool({ maxCredits: 2 }), (e) => e.code === 'max_credits_exceeded' && e.details.creditsRedeemed === '9')
  })

  test('a server that fails the negotiation is an error before anything paid is sent', async () => {
    // A server error on the probe is an HTTP error naming the step; 2026-07-28 pinned to a server that lacks it, mcp_negotiation_failed.
    server.respond('POST', '/mcp', { status: 503, json: { jsonrpc: '2.0', id: null, error: { code: -32603, message: 'overloaded' } } })
    await assert.rejects(callTool(), (e) => e.code === 'http_503' && /server\/discover/.test(e.message) && /overloaded/.test(e.message))
    server.respond('POST', '/mcp', (call) => answer(call, { supportedVersions: ['2025-11-25'] }))
    await assert.rejects(callTool({ protocolVersion: '2026-07-28' }), (e) => e instanceof PaymentsError && e.code === 'mcp_negotiation_failed' && /protocolVersion/.test(e.hint))
    await assert.rejects(callTool({ protocolVersion: '2025-06-18' }), (e) => e.code === 'validation' && /protocolVersion/.test(e.message))
    assert.deepEqual(toolCalls(), [], 'no tools/call')
    assert.ok(server.requests.every((r) => r.json.params?._meta?.['x402/payment'] === undefined && r.headers['payment-signature'] === undefined))
  })
})
