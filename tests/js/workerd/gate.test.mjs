// The gate's knobs that the Worker example doesn't have, on real workerd
// (wrangler dev --local) against a live nvm-local through a counting proxy:
// an explicit-scheme route, HEAD, dynamic credits, failing handlers, upfront
// mode, a CORS origin list, a backend that times out or breaks mid-payment,
// and the Hono adapter. The test Worker (gate-worker/) serves an agent that the
// builder registers here, at the Worker's URL, before the Worker starts.
import { describe, test, before, after, beforeEach } from 'node:test'
import assert from 'node:assert/strict'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Payments, getDynamicCreditsConfig, getFreePriceConfig } from 'nvm-x402'
import { freePort, startNvmLocal, startWrangler } from '../support/servers.mjs'
import { SETTLE, VERIFY, assertNoTokenLogged, assertPaymentRequired, decodeHeader, jsonOf, newSubscriber, paymentCalls, startCountingProxy, stopAll } from '../support/gate.mjs'

const WORKER = join(dirname(fileURLToPath(import.meta.url)), 'gate-worker')
/** The prices the test Worker is started with (vars), so each assertion can tell them apart. */
const PRICES = { ITEMS_CREDITS: 2n, DYNAMIC_MIN_CREDITS: 2n, UPFRONT_CREDITS: 3n, HONO_CREDITS: 1n }
/** The plan's terms: what one order grants, and the range a request may cost (the backend holds every charge to it). */
const PLAN_CREDITS = 10n
const PER_REQUEST = [1n, 5n]
const ALLOWED_ORIGIN = 'http://app.localhost:5173'
/** The endpoints the agent registers, relative to the Worker's URL. */
const ENDPOINTS = [['GET', 'items/:id'], ['POST', 'dynamic'], ['POST', 'fails'], ['POST', 'throws'], ['POST', 'fixed'], ['POST', 'upfront/tasks'], ['POST', 'hono/tasks']]

describe('the gate on workerd: the knobs the example lacks', () => {
  let nvm, proxy, worker, world, planId, agentId, subscriber, fixedScheme, broke

  const post = (path, token, body = {}) =>
    fetch(`${worker.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { 'payment-signature': token } : {}) }, body: JSON.stringify(body) })

  before(async () => {
    nvm = await startNvmLocal()
    world = nvm.world
    const port = await freePort()
    const base = `http://127.0.0.1:${port}/`
    const builder = Payments.getInstance({ nvmApiKey: world.accounts.builder.apiKey, backendUrl: nvm.url })
    ;({ planId } = await builder.plans.registerCreditsPlan({ name: 'Gate test plan' }, getFreePriceConfig(), getDynamicCreditsConfig(PLAN_CREDITS, ...PER_REQUEST)))
    ;({ agentId } = await builder.agents.registerAgent(
      { name: 'Gate test agent' },
      { endpoints: ENDPOINTS.map(([verb, path]) => ({ [verb]: `${base}${path}` })) },
      [planId, world.plans.fiat.planId],
    ))
    fixedScheme = await builder.resolveScheme(world.plans.fiat.planId)
    proxy = await startCountingProxy(nvm.url)
    const prices = Object.fromEntries(Object.entries(PRICES).map(([name, value]) => [name, String(value)]))
    worker = await startWrangler({
      cwd: WORKER,
      port,
      vars: {
        NVM_API_KEY: world.accounts.builder.apiKey,
        NVM_BACKEND_URL: proxy.url,
        NVM_AGENT_ID: agentId,
        NVM_PLAN_ID: planId,
        NVM_FIXED_PLAN_ID: world.plans.fiat.planId,
        NVM_FIXED_SCHEME: fixedScheme.scheme,
        NVM_FIXED_NETWORK: fixedScheme.network,
        NVM_TIMEOUT_MS: '1500',
        CORS_ORIGINS: `${ALLOWED_ORIGIN},http://other.localhost`,
        ...prices,
      },
    })
    subscriber = await newSubscriber(nvm, { planId, agentId })
  })
  after(() => stopAll(worker, proxy, nvm))
  beforeEach(async () => {
    proxy.reset()
    await subscriber.topUp(PLAN_CREDITS) // enough for any one test
  })

  // First, while nothing is cached: the route names its scheme, so no plan lookup is ever needed.
  test('a route with an explicit scheme answers 402 with no backend call at all, even cold', async () => {
    const genuine = await subscriber.token() // for the free plan; this route takes the fiat plan
    for (const token of [undefined, 'not-a-token', genuine]) {
      const { required } = await assertPaymentRequired(await post('fixed', token))
      assert.deepEqual(required.accepts.map((a) => [a.planId, a.scheme, a.network]), [[world.plans.fiat.planId, fixedScheme.scheme, fixedScheme.network]])
    }
    assert.deepEqual(proxy.seen(), [])
  })

  test('HEAD is gated like GET, and pays like GET', async () => {
    const head = await fetch(`${worker.url}items/7`, { method: 'HEAD' })
    assert.equal(head.status, 402)
    assert.equal(head.headers.get('cache-control'), 'no-store')
    const required = decodeHeader(head.headers.get('payment-required'))
    assert.equal(required.accepts[0].extra.httpVerb, 'GET', 'a HEAD runs the GET handler, so it is sold as GET')
    assert.equal((await fetch(`${worker.url}items/7`)).status, 402)
    const before = await subscriber.balance()
    const token = await subscriber.token()
    const paidHead = await fetch(`${worker.url}items/7`, { method: 'HEAD', headers: { 'payment-signature': token } })
    assert.equal(paidHead.status, 200)
    assert.equal(decodeHeader(paidHead.headers.get('payment-response')).success, true)
    const paidGet = await fetch(`${worker.url}items/7`, { headers: { 'payment-signature': token } })
    assert.equal(paidGet.status, 200)
    assert.deepEqual(await jsonOf(paidGet), { item: '7' })
    assert.equal(await subscriber.balance(), before - 2n * PRICES.ITEMS_CREDITS)
    assert.equal((await fetch(`${worker.url}free`)).status, 200, 'an unpaid GET passes')
  })

  test('dynamic credits: verify checks minCredits, the handler runs, then exactly its cost is settled', async () => {
    const before = await subscriber.balance()
    const cost = PRICES.DYNAMIC_MIN_CREDITS + 1n
    const response = await post('dynamic', await subscriber.token(), { cost: Number(cost) })
    assert.equal(response.status, 200)
    assert.deepEqual(await jsonOf(response), { cost: Number(cost), work: 'done' })
    assert.deepEqual(paymentCalls(proxy), [`POST ${VERIFY}`, `POST ${SETTLE}`])
    assert.equal(proxy.callsTo(VERIFY)[0].json.maxAmount, String(PRICES.DYNAMIC_MIN_CREDITS))
    assert.equal(proxy.callsTo(SETTLE)[0].json.maxAmount, String(cost), 'the amount only the handler knew')
    const receipt = decodeHeader(response.headers.get('payment-response'))
    assert.equal(BigInt(receipt.creditsRedeemed), cost)
    assert.equal(await subscriber.balance(), before - cost)
  })

  test('a handler answering 500 is passed through; nothing is settled or burned', async () => {
    const before = await subscriber.balance()
    const response = await post('fails', await subscriber.token())
    assert.equal(response.status, 500)
    assert.deepEqual(await jsonOf(response), { error: 'the model is down' })
    assert.equal(response.headers.get('payment-response'), null)
    assert.deepEqual(paymentCalls(proxy), [`POST ${VERIFY}`])
    assert.equal(await subscriber.balance(), before)
  })

  test('a handler that throws becomes a 500; nothing is settled or burned', async () => {
    const before = await subscriber.balance()
    const response = await post('throws', await subscriber.token())
    assert.equal(response.status, 500)
    const body = await jsonOf(response)
    assert.equal(body.error, 'Internal Server Error')
    assert.doesNotMatch(JSON.stringify(body), /exploded/, 'the error itself is not shown to the caller')
    assert.equal(response.headers.get('payment-response'), null)
    assert.deepEqual(paymentCalls(proxy), [`POST ${VERIFY}`])
    assert.equal(await subscriber.balance(), before)
  })

  test('upfront mode settles before the handler, in a single backend round trip', async () => {
    assert.equal((await post('upfront/tasks')).status, 402) // the plan's scheme is now known
    proxy.reset()
    const before = await subscriber.balance()
    const response = await post('upfront/tasks', await subscriber.token())
    assert.equal(response.status, 200)
    assert.deepEqual(await jsonOf(response), { upfront: true })
    assert.deepEqual(proxy.seen(), [`POST ${SETTLE}`])
    const receipt = decodeHeader(response.headers.get('payment-response'))
    assert.deepEqual(receipt, proxy.calls[0].responseJson)
    assert.equal(BigInt(receipt.creditsRedeemed), PRICES.UPFRONT_CREDITS)
    assert.equal(await subscriber.balance(), before - PRICES.UPFRONT_CREDITS)

    broke = await newSubscriber(nvm, { planId, agentId, order: false })
    const refused = await post('upfront/tasks', await broke.token())
    const { body } = await assertPaymentRequired(refused)
    assert.equal(body.upfront, undefined, 'the handler did not run')
    assert.equal(decodeHeader(refused.headers.get('payment-response')).success, false)
  })

  test('a CORS origin list: listed origins are reflected (preflight and answers), others get no CORS headers', async () => {
    const preflight = (origin) => fetch(`${worker.url}dynamic`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'payment-signature' } })
    const allowed = await preflight(ALLOWED_ORIGIN)
    assert.equal(allowed.status, 204)
    assert.equal(allowed.headers.get('access-control-allow-origin'), ALLOWED_ORIGIN)
    assert.match(allowed.headers.get('vary'), /Origin/)
    assert.ok(allowed.headers.get('access-control-allow-headers').split(',').map((h) => h.trim()).includes('payment-signature'))
    const stranger = await preflight('http://evil.localhost')
    assert.equal(stranger.headers.get('access-control-allow-origin'), null)
    assert.equal(stranger.headers.get('access-control-allow-headers'), null)

    const ask = (origin) => fetch(`${worker.url}dynamic`, { method: 'POST', headers: { origin }, body: '{}' })
    const listed = await ask(ALLOWED_ORIGIN)
    assert.equal(listed.status, 402)
    assert.equal(listed.headers.get('access-control-allow-origin'), ALLOWED_ORIGIN)
    assert.deepEqual(listed.headers.get('access-control-expose-headers').split(',').map((h) => h.trim()).sort(), ['payment-required', 'payment-response'])
    const unlisted = await ask('http://evil.localhost')
    assert.equal(unlisted.status, 402)
    assert.equal(unlisted.headers.get('access-control-allow-origin'), null)
    assert.equal(unlisted.headers.get('access-control-expose-headers'), null)
    assert.deepEqual(paymentCalls(proxy), [], 'preflights and tokenless requests need no backend')
  })

  test('verify times out: 503 with a clear JSON error, the handler never runs', async () => {
    proxy.intercept('POST', VERIFY, { hang: true })
    const before = await subscriber.balance()
    const response = await post('dynamic', await subscriber.token(), { cost: 1 })
    assert.equal(response.status, 503)
    const body = await jsonOf(response)
    assert.equal(body.error, 'Service Unavailable')
    assert.equal(body.code, 'timeout')
    assert.match(body.message, /verif/i)
    assert.deepEqual(paymentCalls(proxy), [`POST ${VERIFY}`])
    assert.equal(await subscriber.balance(), before)
  })

  test('settle answers an HTML 502 after the handler ran: 503, the paid body withheld, nothing burned', async () => {
    proxy.intercept('POST', SETTLE, { status: 502, headers: { 'content-type': 'text/html' }, body: '<html>Bad Gateway</html>' })
    const before = await subscriber.balance()
    const response = await post('dynamic', await subscriber.token(), { cost: 1 })
    assert.equal(response.status, 503)
    const body = await jsonOf(response)
    assert.equal(body.error, 'Service Unavailable')
    assert.equal(body.work, undefined)
    assert.equal(response.headers.get('payment-response'), null)
    assert.deepEqual(paymentCalls(proxy), [`POST ${VERIFY}`, `POST ${SETTLE}`])
    assert.equal(await subscriber.balance(), before)
  })

  test('the Hono adapter (nvm-x402/hono) gates a Hono app the same way', async () => {
    const health = await fetch(`${worker.url}hono/health`)
    assert.equal(health.status, 200)
    assert.deepEqual(await jsonOf(health), { ok: true })
    assert.equal(health.headers.get('payment-required'), null)

    const { required } = await assertPaymentRequired(await post('hono/tasks', undefined, { task: 'x' }))
    assert.equal(required.resource.url, `${worker.url}hono/tasks`)
    assert.deepEqual(required.accepts.map((a) => [a.planId, a.extra.agentId, a.extra.httpVerb]), [[planId, agentId, 'POST']])
    proxy.reset()
    await assertPaymentRequired(await post('hono/tasks', 'not-a-token', { task: 'x' }))
    assert.deepEqual(proxy.seen(), [], 'a malformed token costs no backend call')

    const before = await subscriber.balance()
    const paid = await post('hono/tasks', await subscriber.token(), { task: 'sum' })
    assert.equal(paid.status, 200)
    assert.deepEqual(await jsonOf(paid), { done: 'sum' })
    const receipt = decodeHeader(paid.headers.get('payment-response'))
    assert.deepEqual(receipt, proxy.callsTo(SETTLE)[0].responseJson)
    assert.equal(BigInt(receipt.creditsRedeemed), PRICES.HONO_CREDITS)
    assert.equal(await subscriber.balance(), before - PRICES.HONO_CREDITS)
  })

  test('the Worker never logged a token it was paid with, not even when its handler threw', () => {
    assert.match(worker.output(), /the handler exploded/, 'the thrown error was logged')
    assertNoTokenLogged(worker.output(), [subscriber, broke])
  })
})
