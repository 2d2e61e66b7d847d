// The paywall in-process in Node against a scripted backend: what the outside
// audit broke (issue #9, items 1-4) and the promise that `handle()` always
// resolves to a Response. The same checks run through `nvm-x402/hono`. And
// repeatPayers against a live nvm-local with a card delegation (issue #20, item 4).
import { describe, test, before, after, beforeEach } from 'node:test'
import assert from 'node:assert/strict'
import { Hono } from 'hono'
import { PaymentsError, encodeAccessToken, decodePaymentHeader, redactToken } from 'nvm-x402'
import { Payments } from 'nvm-x402/agent'
import { paywall as honoPaywall } from 'nvm-x402/hono'
import { KEY, NVM_LOCAL_BUILT, liveAccount, liveBackendFor } from '../support/nvm.mjs'
import { freePort, startRecorder } from '../support/servers.mjs'

const AGENT = 'agent-1'
const PLAN = '10'
const ORIGIN = 'http://127.0.0.1:8787'
const VERIFY = '/api/v1/x402/verify'
const SETTLE = '/api/v1/x402/settle'
const token = encodeAccessToken({
  x402Version: 2,
  accepted: { scheme: 'nvm:erc4337', network: 'eip155:84532', planId: PLAN, extra: { version: '1' } },
  payload: { signature: '0xsig', authorization: { from: '0xsubscriber', sessionKeys: [] } },
  extensions: {},
})
const ROUTE = { planId: PLAN, scheme: 'nvm:erc4337' } // a fixed scheme: no plan lookups to script

/** Captures console.error while `run` runs (the paywall logs what it answers 500 for). */
async function quietly(run) {
  const original = console.error
  const lines = []
  console.error = (...args) => lines.push(args.map(String).join(' '))
  try {
    return { result: await run(), logged: lines.join('\n') }
  } finally {
    console.error = original
  }
}

const paid = (path, init = {}) => new Request(`${ORIGIN}${path}`, { method: 'POST', ...init, headers: { 'payment-signature': token, ...(init.headers ?? {}) } })

/**
 * A recording backend for a describe block, and a client of it: verify says yes and settle burns
 * what it is asked, scripted afresh before each test; `ready(backend, payments)` gets both.
 */
function scriptedBackend(ready) {
  let backend
  before(async () => {
    backend = await startRecorder()
    ready(backend, Payments.getInstance({ nvmApiKey: KEY, backendUrl: backend.url, timeoutMs: 2000 }))
  })
  after(() => backend.close())
  beforeEach(() => {
    backend.reset()
    backend.respond('POST', VERIFY, { json: { isValid: true, payer: '0xsubscriber', agentRequestId: 'req-1' } })
    backend.respond('POST', SETTLE, (call) => ({ json: { success: true, transaction: '0xtx', network: 'eip155:84532', payer: '0xsubscriber', creditsRedeemed: call.json.maxAmount, remainingBalance: '5' } }))
  })
}

describe('the paywall in Node (audit items 1-4)', () => {
  let backend, payments
  scriptedBackend((b, p) => {
    backend = b
    payments = p
  })
  const settles = () => backend.requests.filter((r) => r.path === SETTLE)

  test('repeatPayers: a token that settled here pays the next requests with settle alone; a refused settle still withholds the body and is forgotten', async () => {
    const gate = payments.paywall({ agentId: AGENT, repeatPayers: { windowMs: 60_000 }, routes: { 'POST /tasks': { ...ROUTE, credits: 2 } } })
    const count = () => ({ verify: backend.requests.filter((r) => r.path === VERIFY).length, settle: settles().length })
    const answer = () => new Response('the paid answer')
    for (let i = 0; i < 3; i++) {
      const response = await gate.handle(paid('/tasks'), answer)
      assert.equal(response.status, 200)
      assert.equal(await response.text(), 'the paid answer')
    }
    assert.deepEqual(count(), { verify: 1, settle: 3 }, 'verify once, then one round trip a request')
    backend.respond('POST', SETTLE, { json: { success: false, errorReason: 'Insufficient credits', transaction: '', network: 'eip155:84532' } })
    const refused = await gate.handle(paid('/tasks'), answer)
    assert.equal(refused.status, 402)
    assert.ok(!(await refused.text()).includes('the paid answer'), 'withheld')
    backend.respond('POST', VERIFY, { json: { isValid: false, invalidReason: 'Insufficient credits' } })
    assert.equal((await gate.handle(paid('/tasks'), answer)).status, 402)
    assert.deepEqual(count(), { verify: 2, settle: 4 }, 'after a refused settle it verifies again')
    assert.throws(() => payments.paywall({ agentId: AGENT, upfront: true, repeatPayers: true, routes: { 'POST /tasks': ROUTE } }), /pick one/)
  })

  test('1. a handler that redirects is settled before the redirect leaves (300-308)', async () => {
    const gate = payments.paywall({ agentId: AGENT, routes: { 'POST /download': { ...ROUTE, credits: 2 } } })
    for (const status of [300, 301, 302, 303, 307, 308]) {
      const location = `https://cdn.example/file?sig=${status}`
      const response = await gate.handle(paid('/download'), () => new Response(null, { status, headers: { location } }))
      assert.equal(response.status, status)
      assert.equal(response.headers.get('location'), location)
      const receipt = decodePaymentHeader(response.headers.get('payment-response'))
      assert.equal(receipt.creditsRedeemed, '2')
    }
    assert.equal(settles().length, 6)
    // Response.redirect's headers are immutable: the receipt goes on a copy, the handler's own headers kept.
    const immutable = await gate.handle(paid('/download'), () => Response.redirect('https://cdn.example/file?sig=im', 302))
    assert.equal(immutable.headers.get('location'), 'https://cdn.example/file?sig=im')
    assert.equal(decodePaymentHeader(immutable.headers.get('payment-response')).creditsRedeemed, '2')
    // A Response the handler made itself gets the receipt in place: the same object comes back.
    const own = new Response('paid', { status: 200, headers: { 'x-mine': '1' } })
    const same = await gate.handle(paid('/download'), () => own)
    assert.equal(same, own)
    assert.equal(same.headers.get('x-mine'), '1')
    assert.ok(same.headers.get('payment-response'))
    assert.equal(await same.text(), 'paid')
    assert.equal(settles().length, 8)
    // A body-less Response the handler hands out again is never stamped: the receipt goes on a copy.
    const shared = new Response(null, { status: 204 })
    const first = await gate.handle(paid('/download'), () => shared)
    assert.ok(first.headers.get('payment-response'))
    assert.equal(shared.headers.get('payment-response'), null, 'the shared Response carries no one\'s receipt')
    assert.equal(settles().length, 9)
    // A refused settle withholds the redirect: no Location leaves the gate.
    backend.respond('POST', SETTLE, { json: { success: false, errorReason: 'Insufficient credits', transaction: '', network: 'eip155:84532' } })
    const refused = await gate.handle(paid('/download'), () => Response.redirect('https://cdn.example/file?sig=secret', 302))
    assert.equal(refused.status, 402)
    assert.equal(refused.headers.get('location'), null)
    assert.doesNotMatch(await refused.text(), /sig=secret/)
  })

  test('2. a credits function that gives no valid amount is a 500 with a code, and nothing is charged', async () => {
    const bad = [undefined, null, NaN, Infinity, -1, 1.5, 2 ** 53 + 2, -1n, '1.5', '-1', 'abc', '', {}, [], true]
    for (const credits of bad) {
      const gate = payments.paywall({ agentId: AGENT, routes: { 'POST /priced': { ...ROUTE, credits: () => credits } } })
      const { result: response } = await quietly(() => gate.handle(paid('/priced'), () => Response.json({ answer: 42 })))
      assert.equal(response.status, 500, String(credits))
      const body = await response.json()
      assert.equal(body.code, 'invalid_credits', String(credits))
      assert.doesNotMatch(JSON.stringify(body), /42/, 'the paid body is not delivered')
    }
    const throwing = payments.paywall({ agentId: AGENT, routes: { 'POST /priced': { ...ROUTE, credits: () => { throw new Error('no price') } } } })
    const { result: threw, logged } = await quietly(() => throwing.handle(paid('/priced'), () => Response.json({ answer: 42 })))
    assert.equal(threw.status, 500)
    assert.equal((await threw.json()).code, 'invalid_credits')
    assert.match(logged, /credits function threw/)
    assert.equal(settles().length, 0)
    // Valid amounts in every form a JS function may give them; 0 is free.
    for (const [credits, burned] of [[3, '3'], [3n, '3'], ['3', '3'], [2n ** 60n, String(2n ** 60n)], [async () => 4, '4']]) {
      const gate = payments.paywall({ agentId: AGENT, routes: { 'POST /priced': { ...ROUTE, credits: typeof credits === 'function' ? credits : () => credits } } })
      const response = await gate.handle(paid('/priced'), () => Response.json({ answer: 42 }))
      assert.equal(response.status, 200, String(credits))
      assert.equal(decodePaymentHeader(response.headers.get('payment-response')).creditsRedeemed, burned)
    }
    const free = payments.paywall({ agentId: AGENT, routes: { 'POST /priced': { ...ROUTE, credits: () => 0 } } })
    assert.equal((await free.handle(paid('/priced'), () => Response.json({ answer: 42 }))).status, 200)
    assert.equal(settles().length, 5)
  })

  test('2. in upfront mode a throwing handler is a 500 that says the credits were already spent', async () => {
    const gate = payments.paywall({ agentId: AGENT, upfront: true, routes: { 'POST /tasks': { ...ROUTE, credits: 3 } } })
    const { result: response } = await quietly(() =>
      gate.handle(paid('/tasks'), () => {
        throw new TypeError('boom')
      }),
    )
    assert.equal(response.status, 500)
    const body = await response.json()
    assert.equal(body.code, 'handler_failed_after_payment')
    assert.match(body.message, /already spent/)
    assert.equal(decodePaymentHeader(response.headers.get('payment-response')).creditsRedeemed, '3', 'the receipt says what was spent')
    assert.equal(settles().length, 1)
  })

  test('3. a request whose URL is not absolute is a 500 configuration error; the handler never runs', async () => {
    const gate = payments.paywall({ agentId: AGENT, routes: { 'POST /tasks': ROUTE } })
    let ran = 0
    for (const url of ['/tasks', 'tasks', 'http:/tasks', '//127.0.0.1/tasks', '']) {
      const request = { url, method: 'POST', headers: new Headers() } // what a home-made adapter might pass
      const response = await gate.handle(request, () => {
        ran++
        return Response.json({ paid: 'content' })
      })
      assert.equal(response.status, 500, url)
      const body = await response.json()
      assert.equal(body.code, 'invalid_request', url)
      assert.match(body.message, /not an absolute http\(s\) URL/)
    }
    assert.equal(ran, 0)
    assert.equal(backend.requests.length, 0)
  })

  test('4. a 503 says which call failed, not where the backend is', async () => {
    const port = await freePort() // nothing listens there
    const offline = Payments.getInstance({ nvmApiKey: KEY, backendUrl: `http://127.0.0.1:${port}`, timeoutMs: 2000 })
    const gate = offline.paywall({ agentId: AGENT, routes: { 'POST /tasks': ROUTE } })
    const original = console.warn
    const warned = []
    console.warn = (...args) => warned.push(args.join(' '))
    let response
    try {
      response = await gate.handle(paid('/tasks'), () => Response.json({ paid: 'content' }))
    } finally {
      console.warn = original
    }
    assert.equal(response.status, 503)
    const body = await response.json()
    assert.deepEqual(body, { error: 'Service Unavailable', message: 'Payment verification is unavailable: the payment backend could not be reached', code: 'network_error' })
    assert.match(warned.join('\n'), new RegExp(`127\\.0\\.0\\.1:${port}`), 'the agent\'s own log has the detail')
  })

  test('a handler whose Response body was already read is not charged: it could not be delivered', async () => {
    const gate = payments.paywall({ agentId: AGENT, routes: { 'POST /tasks': ROUTE } })
    const { result: response, logged } = await quietly(() =>
      gate.handle(paid('/tasks'), async () => {
        const used = new Response('gone')
        await used.text()
        return used
      }),
    )
    assert.equal(response.status, 500)
    assert.equal((await response.json()).code, 'handler_failed')
    assert.match(logged, /already read/)
    assert.equal(settles().length, 0)
  })

  test('handle() always resolves: throwing, non-Response and failing handlers on paid and free routes', async () => {
    const gate = payments.paywall({ agentId: AGENT, routes: { 'POST /tasks': ROUTE } })
    const cases = [
      [paid('/tasks'), () => { throw new Error('paid route blew up') }],
      [paid('/tasks'), () => undefined],
      [paid('/tasks'), () => ({ status: 'not a response' })],
      [paid('/tasks'), () => Promise.reject(new Error('async blow-up'))],
      [new Request(`${ORIGIN}/free`), () => { throw new Error('free route blew up') }],
      [new Request(`${ORIGIN}/free`), () => 'text'],
    ]
    for (const [request, handler] of cases) {
      const { result: response, logged } = await quietly(() => gate.handle(request, handler))
      assert.equal(response.status, 500)
      assert.equal((await response.json()).code, 'handler_failed')
      assert.match(logged, /handler/)
    }
    assert.equal(settles().length, 0)
  })
})

describe('the official lifecycle hooks (issue #21)', () => {
  let backend, payments
  scriptedBackend((b, p) => {
    backend = b
    payments = p
  })

  /** A paywall whose four hooks record their calls (or do what `behave(name)` says). */
  function recorded(behave = () => undefined) {
    const calls = []
    const hook = (name) => async (...args) => {
      calls.push([name, ...args])
      return behave(name)
    }
    const gate = payments.paywall({
      agentId: AGENT,
      routes: { 'POST /tasks': { ...ROUTE, credits: 2 } },
      onBeforeVerify: hook('onBeforeVerify'),
      onAfterVerify: hook('onAfterVerify'),
      onAfterSettle: hook('onAfterSettle'),
      onPaymentError: hook('onPaymentError'),
    })
    return { gate, calls }
  }

  test('a paid request calls onBeforeVerify, onAfterVerify, then onAfterSettle, with the official arguments', async () => {
    const { gate, calls } = recorded()
    const request = paid('/tasks')
    let handled = 0
    const response = await gate.handle(request, () => {
      handled = calls.length
      return new Response('the paid answer')
    })
    assert.equal(response.status, 200)
    assert.equal(await response.text(), 'the paid answer')
    assert.deepEqual(calls.map(([name]) => name), ['onBeforeVerify', 'onAfterVerify', 'onAfterSettle'])
    assert.equal(handled, 2, 'the verify hooks ran before the handler')
    const [[, r1, required], [, r2, verification], [, r3, creditsUsed, settlement]] = calls
    for (const r of [r1, r2, r3]) assert.equal(r, request, 'each gets the Request')
    assert.equal(required.accepts[0].planId, PLAN)
    assert.equal(required.resource.url, `${ORIGIN}/tasks`)
    assert.equal(verification.isValid, true)
    assert.equal(verification.agentRequestId, 'req-1')
    assert.equal(creditsUsed, 2)
    assert.deepEqual(settlement, decodePaymentHeader(response.headers.get('payment-response')))
  })

  test('onPaymentError is told of 402s and 503s as a PaymentsError; the gate still answers them', async () => {
    const { gate, calls } = recorded()
    const missing = await gate.handle(new Request(`${ORIGIN}/tasks`, { method: 'POST' }), () => new Response('never'))
    assert.equal(missing.status, 402)
    backend.respond('POST', SETTLE, { json: { success: false, errorReason: 'Insufficient credits', transaction: '', network: 'eip155:84532' } })
    const refused = await gate.handle(paid('/tasks'), () => new Response('withheld'))
    assert.equal(refused.status, 402)
    assert.doesNotMatch(await refused.text(), /withheld/)
    backend.respond('POST', VERIFY, { status: 500, body: 'upstream down' })
    const { result: down } = await quietly(() => gate.handle(paid('/tasks'), () => new Response('never')))
    assert.equal(down.status, 503)
    const errors = calls.filter(([name]) => name === 'onPaymentError').map(([, error, request]) => ({ isPaymentsError: error instanceof PaymentsError, code: error.code, httpStatus: error.httpStatus, message: error.message, request: request instanceof Request }))
    assert.deepEqual(errors, [
      { isPaymentsError: true, code: 'payment_required', httpStatus: 402, message: 'Missing x402 payment token. Send token in payment-signature header.', request: true },
      { isPaymentsError: true, code: 'payment_required', httpStatus: 402, message: 'Insufficient credits', request: true },
      { isPaymentsError: true, code: 'http_500', httpStatus: 503, message: 'Payment verification is unavailable', request: true },
    ])
  })

  test('a hook that throws or rejects never opens the gate, never withholds what was paid, and handle() still resolves', async () => {
    for (const how of ['throws', 'rejects']) {
      const { gate, calls } = recorded((name) => {
        if (how === 'throws') throw new Error(`${name} exploded`)
        return Promise.reject(new Error(`${name} rejected`))
      })
      const { result: unpaid, logged } = await quietly(() => gate.handle(new Request(`${ORIGIN}/tasks`, { method: 'POST' }), () => new Response('paid content')))
      assert.equal(unpaid.status, 402, how)
      assert.doesNotMatch(await unpaid.text(), /paid content/)
      assert.match(logged, /onPaymentError threw; the payment goes on as decided/)
      const { result: bought, logged: logged2 } = await quietly(() => gate.handle(paid('/tasks'), () => new Response('paid content')))
      assert.equal(bought.status, 200, how)
      assert.equal(await bought.text(), 'paid content')
      assert.equal(decodePaymentHeader(bought.headers.get('payment-response')).success, true)
      for (const name of ['onBeforeVerify', 'onAfterVerify', 'onAfterSettle']) assert.match(logged2, new RegExp(`${name} threw`))
      assert.ok(!logged2.includes(token.slice(6, -4)), 'no token in the log')
      assert.equal(calls.length, 4)
    }
  })

  test('a hook that throws synchronously is logged like one that rejects', async () => {
    const gate = payments.paywall({
      agentId: AGENT,
      routes: { 'POST /tasks': { ...ROUTE, credits: 2 } },
      onAfterVerify: () => {
        throw new Error('sync blow-up')
      },
      onPaymentError: () => {
        throw new Error('sync blow-up')
      },
    })
    const { result: bought, logged } = await quietly(() => gate.handle(paid('/tasks'), () => new Response('paid content')))
    assert.equal(bought.status, 200)
    assert.equal(await bought.text(), 'paid content')
    assert.match(logged, /onAfterVerify threw; the payment goes on as decided/)
    const { result: unpaid } = await quietly(() => gate.handle(new Request(`${ORIGIN}/tasks`, { method: 'POST' }), () => new Response('paid content')))
    assert.equal(unpaid.status, 402)
  })

  test("a hook that never finishes is waited for only the client's time limit: the answer still comes", async () => {
    const quick = Payments.getInstance({ nvmApiKey: KEY, backendUrl: backend.url, timeoutMs: 200 })
    const never = () => new Promise(() => {})
    const gate = quick.paywall({ agentId: AGENT, routes: { 'POST /tasks': { ...ROUTE, credits: 2 } }, onAfterSettle: never, onPaymentError: never })
    const { result: bought, logged } = await quietly(() => gate.handle(paid('/tasks'), () => new Response('paid content')))
    assert.equal(bought.status, 200, 'the settled answer is delivered')
    assert.equal(await bought.text(), 'paid content')
    assert.match(logged, /onAfterSettle did not finish within 200 ms; the payment goes on as decided/)
    const { result: unpaid } = await quietly(() => gate.handle(new Request(`${ORIGIN}/tasks`, { method: 'POST' }), () => new Response('never')))
    assert.equal(unpaid.status, 402)
  })

  test('onSettled is told the route and plan of a settle that failed, as of one that succeeded', async () => {
    const events = []
    const gate = payments.paywall({ agentId: AGENT, routes: { 'POST /tasks': { ...ROUTE, credits: 2 } }, onSettled: (event) => events.push(event) })
    backend.respond('POST', SETTLE, { json: { success: false, errorReason: 'Insufficient credits', transaction: '', network: 'eip155:84532' } })
    const refused = await gate.handle(paid('/tasks'), () => new Response('withheld'))
    assert.equal(refused.status, 402)
    await new Promise((ok) => setImmediate(ok))
    assert.equal(events.length, 1)
    assert.deepEqual({ route: events[0].route, planId: events[0].planId, success: events[0].settlement.success }, { route: 'POST /tasks', planId: PLAN, success: false })
  })

  test('a hook that is not a function is refused when the paywall is made', () => {
    for (const name of ['onBeforeVerify', 'onAfterVerify', 'onAfterSettle', 'onPaymentError', 'onSettled']) {
      assert.throws(() => payments.paywall({ agentId: AGENT, routes: { 'POST /tasks': ROUTE }, [name]: 'console.log' }), (e) => e instanceof PaymentsError && e.code === 'validation' && e.message === `paywall: ${name} must be a function`)
    }
  })

  test("the README's structured log: one JSON line per event, the token redacted", async () => {
    const lines = []
    const log = (event, request, fields = {}) => lines.push(JSON.stringify({ event, method: request.method, url: request.url, token: redactToken(request.headers.get('payment-signature') ?? ''), ...fields }))
    const gate = payments.paywall({
      agentId: AGENT,
      routes: { 'POST /tasks': { ...ROUTE, credits: 2 } },
      onAfterVerify: (request, verification) => log('nvm.verified', request, { agentRequestId: verification.agentRequestId }),
      onAfterSettle: (request, creditsUsed, settlement) => log('nvm.settled', request, { creditsUsed, transaction: settlement.transaction }),
      onPaymentError: (error, request) => log('nvm.refused', request, { code: error.code, status: error.httpStatus }),
    })
    await gate.handle(paid('/tasks'), () => new Response('ok'))
    await gate.handle(new Request(`${ORIGIN}/tasks`, { method: 'POST' }), () => new Response('ok'))
    const events = lines.map((line) => JSON.parse(line))
    assert.deepEqual(events.map((e) => e.event), ['nvm.verified', 'nvm.settled', 'nvm.refused'])
    assert.equal(events[1].creditsUsed, 2)
    assert.equal(events[0].token, redactToken(token))
    assert.ok(!lines.join('\n').includes(token.slice(6, -4)), 'no whole token')
  })
})

describe('the same through nvm-x402/hono', () => {
  let backend, payments

  before(async () => {
    backend = await startRecorder()
    payments = Payments.getInstance({ nvmApiKey: KEY, backendUrl: backend.url })
  })
  after(() => backend.close())
  beforeEach(() => {
    backend.reset()
    backend.respond('POST', VERIFY, { json: { isValid: true, payer: '0xsubscriber', agentRequestId: 'req-1' } })
    backend.respond('POST', SETTLE, (call) => ({ json: { success: true, transaction: '0xtx', network: 'eip155:84532', creditsRedeemed: call.json.maxAmount, remainingBalance: '5' } }))
  })

  function app(credits, upfront = false) {
    const hono = new Hono()
    hono.use(honoPaywall(payments, { agentId: AGENT, upfront, routes: { 'POST /tasks': { ...ROUTE, credits } } }))
    hono.post('/tasks', (c) => c.json({ answer: 42 }))
    hono.get('/go', (c) => c.redirect('https://cdn.example/file'))
    hono.post('/boom', () => {
      throw new Error('boom')
    })
    return hono
  }

  test('invalid dynamic credits: 500 invalid_credits, nothing charged', async () => {
    for (const credits of [undefined, null, NaN, -1, 1.5]) {
      const { result: response } = await quietly(() => app(() => credits).request(paid('/tasks')))
      assert.equal(response.status, 500, String(credits))
      assert.equal((await response.json()).code, 'invalid_credits')
    }
    assert.equal(backend.requests.filter((r) => r.path === SETTLE).length, 0)
    const ok = await app(() => 2n).request(paid('/tasks'))
    assert.equal(decodePaymentHeader(ok.headers.get('payment-response')).creditsRedeemed, '2')
  })

  test('onSettled gets the settlement; through Hono it is handed to the ExecutionContext when there is one, and just runs when there is none', async () => {
    const events = []
    const hono = new Hono()
    hono.use(honoPaywall(payments, { agentId: AGENT, onSettled: (event) => events.push(event), routes: { 'POST /tasks': { ...ROUTE, credits: 3 } } }))
    hono.post('/tasks', (c) => c.json({ answer: 42 }))
    // Node: no ExecutionContext (c.executionCtx throws); the callback still runs.
    const plain = await hono.request(paid('/tasks'))
    assert.equal(plain.status, 200)
    await new Promise((ok) => setImmediate(ok))
    assert.equal(events.length, 1)
    assert.deepEqual({ ...events[0], settlement: undefined }, { route: 'POST /tasks', planId: PLAN, method: 'POST', url: `${ORIGIN}/tasks`, settlement: undefined })
    assert.equal(events[0].settlement.creditsRedeemed, '3')
    // A Workers-style call: the callback's promise goes to ctx.waitUntil.
    const waited = []
    const worker = await hono.fetch(paid('/tasks'), {}, { waitUntil: (promise) => waited.push(promise), passThroughOnException() {} })
    assert.equal(worker.status, 200)
    assert.equal(waited.length, 1)
    await waited[0]
    assert.equal(events.length, 2)
    // Free answers settle nothing and call nothing.
    const refused = await hono.request(new Request(`${ORIGIN}/tasks`, { method: 'POST' }))
    assert.equal(refused.status, 402)
    assert.equal(events.length, 2)
  })

  test('a redirect from a paid Hono route is settled', async () => {
    const hono = new Hono()
    hono.use(honoPaywall(payments, { agentId: AGENT, routes: { 'GET /go': { ...ROUTE, credits: 1 } } }))
    hono.get('/go', (c) => c.redirect('https://cdn.example/file'))
    const response = await hono.request(new Request(`${ORIGIN}/go`, { headers: { 'payment-signature': token } }))
    assert.equal(response.status, 302)
    assert.equal(decodePaymentHeader(response.headers.get('payment-response')).creditsRedeemed, '1')
  })
})

describe('repeatPayers with a card delegation against nvm-local (issue #20, item 4)', { skip: !NVM_LOCAL_BUILT && 'nvm-local is not built (scripts/build.sh --all)' }, () => {
  test('a subscriber who can still top up is served past what its last receipt showed, as without repeatPayers', async (t) => {
    const live = await liveBackendFor(t)
    const { world } = live
    const fiat = world.plans.fiat.planId // 10 credits per $1.00 order, 1 a request
    const agentUrl = new URL(world.agent.url)
    const answers = {}
    for (const repeatPayers of [true, false]) {
      const subscriber = await liveAccount(live, `card-repeat-${repeatPayers}-${process.pid}`)
      const [card] = await subscriber.payments.delegation.listPaymentMethods({ provider: 'stripe' })
      const { delegationId } = await subscriber.payments.delegation.createDelegation({ provider: 'stripe', providerPaymentMethodId: card.id, spendingLimitCents: 1000, durationSecs: 3600 })
      const { accessToken } = await subscriber.payments.x402.getX402AccessToken(fiat, world.agent.agentId, { scheme: 'nvm:card-delegation', network: 'stripe', delegationConfig: { delegationId } })
      const gate = Payments.getInstance({ nvmApiKey: world.accounts.builder.apiKey, backendUrl: live.url }).paywall({ agentId: world.agent.agentId, repeatPayers, routes: { [`POST ${agentUrl.pathname}`]: { planId: fiat, credits: 1 } } })
      const statuses = []
      for (let i = 0; i < 12; i++) {
        const response = await gate.handle(new Request(agentUrl, { method: 'POST', headers: { 'payment-signature': accessToken } }), () => new Response('served'))
        statuses.push(response.status)
      }
      answers[repeatPayers] = statuses
      const [delegation] = (await subscriber.payments.delegation.listDelegations()).delegations.filter((d) => d.delegationId === delegationId)
      assert.equal(String(delegation.amountSpentCents), String(2 * (world.plans.fiat.price / 10000)), `repeatPayers ${repeatPayers}: two $1.00 top-ups for 12 credits`)
    }
    assert.deepEqual(answers.true, answers.false, 'repeatPayers answers what the gate without it answers')
    assert.deepEqual(answers.true, Array(12).fill(200), 'all twelve served')
  })
})
