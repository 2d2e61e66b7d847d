// nvm-x402/next: an App Router route handler behind the paywall. Next calls a
// route handler as (request, { params }) with a NextRequest (a Request); these
// tests call the wrapped handler exactly so, in-process, against a recording
// backend, and check that the gate runs around the real handler: what it
// answered is what is settled, and a failed settle withholds it.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Payments, decodePaymentHeader } from 'nvm-x402/agent'
import { withPaywall } from 'nvm-x402/next'
import { KEY, backendFor } from '../support/nvm.mjs'
import { benchToken } from '../support/gate.mjs'

const NETWORK = 'eip155:84532'
const PLAN = '1234567890'

function script(backend, { settle = true } = {}) {
  backend.respond('POST', '/api/v1/x402/verify', { json: { isValid: true, payer: '0xbb', network: NETWORK, agentRequestId: 'r-1' } })
  backend.respond('POST', '/api/v1/x402/settle', (call) => ({ json: settle ? { success: true, payer: '0xbb', transaction: '0x01', network: NETWORK, creditsRedeemed: call.json.maxAmount, remainingBalance: '9' } : { success: false, errorReason: 'Insufficient credits', transaction: '', network: NETWORK } }))
}

test('every request that reaches the wrapped handler is paid; the handler gets Next\'s context and the payment', async (t) => {
  const backend = await backendFor(t)
  script(backend)
  const payments = Payments.getInstance({ nvmApiKey: KEY, backendUrl: backend.url })
  const seen = []
  const POST = withPaywall(async (request, context, payment) => {
    seen.push({ params: await context.params, payment })
    return Response.json({ answer: 42 })
  }, { payments, agentId: 'agent-1', planId: PLAN, credits: 2, scheme: 'nvm:erc4337' })
  const url = 'http://127.0.0.1:3000/api/ask/7'
  const context = { params: Promise.resolve({ id: '7' }) }
  const refused = await POST(new Request(url, { method: 'POST' }), context)
  assert.equal(refused.status, 402)
  assert.equal(decodePaymentHeader(refused.headers.get('payment-required')).accepts[0].planId, PLAN)
  assert.equal(seen.length, 0, 'the handler did not run')
  const token = benchToken({ planId: PLAN, agentId: 'agent-1', network: NETWORK })
  const paid = await POST(new Request(url, { method: 'POST', headers: { 'payment-signature': token } }), context)
  assert.equal(paid.status, 200)
  assert.deepEqual(await paid.json(), { answer: 42 })
  assert.equal(decodePaymentHeader(paid.headers.get('payment-response')).creditsRedeemed, '2')
  assert.deepEqual(seen, [{ params: { id: '7' }, payment: { paid: true, planId: PLAN, credits: '2' } }])
})

test('a settle that is refused withholds what the handler answered; a dynamic price reads the response', async (t) => {
  const backend = await backendFor(t)
  script(backend, { settle: false })
  const payments = Payments.getInstance({ nvmApiKey: KEY, backendUrl: backend.url })
  const token = benchToken({ planId: PLAN, agentId: 'agent-1', network: NETWORK })
  const GET = withPaywall(() => Response.json({ secret: 'paid content' }), { payments, agentId: 'agent-1', planId: PLAN, scheme: 'nvm:erc4337', credits: async (request, response) => (await response.json()).secret.length })
  const response = await GET(new Request('http://127.0.0.1:3000/api/report', { headers: { 'payment-signature': token } }), { params: Promise.resolve({}) })
  assert.equal(response.status, 402)
  assert.doesNotMatch(await response.text(), /paid content/)
  const settled = backend.requests.filter((r) => r.url.endsWith('/x402/settle'))
  assert.equal(settled.length, 1)
  assert.equal(settled[0].json.maxAmount, String('paid content'.length), 'priced from the handler\'s answer')
})

test('withPaywall checks what it is given', () => {
  const payments = Payments.getInstance({ nvmApiKey: KEY, backendUrl: 'http://127.0.0.1:9/' })
  assert.throws(() => withPaywall(null, { payments, agentId: 'a', planId: PLAN }), /handler must be a function/)
  assert.throws(() => withPaywall(() => new Response(), { agentId: 'a', planId: PLAN }), /options.payments/)
  assert.throws(() => withPaywall(() => new Response(), { payments, planId: PLAN }), (e) => e.code === 'validation' && /agentId/.test(e.message))
})
