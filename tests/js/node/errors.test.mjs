// Every error path on representative calls: the backend's 4xx envelope, an
// HTML 5xx page, connection refused, a dropped connection, invalid JSON in a
// 2xx, a timeout, a 2xx of the wrong shape; and that no error ever shows the
// API key or a token.
import test from 'node:test'
import assert from 'node:assert/strict'
import { Payments, buildPaymentRequired, encodeAccessToken, getCryptoPriceConfig, getFixedCreditsConfig, getFreePriceConfig, resolveScheme } from 'nvm-x402'
import { freePort } from '../support/servers.mjs'
import { ACCOUNT, KEY, assertNoSecrets, backendFor, clientFor, makeKey, occurrences, paymentsError } from '../support/nvm.mjs'

const paymentRequired = buildPaymentRequired('1', { endpoint: 'https://agent.example/tasks' })
// A realistic, long access token (base64 of a token object).
const TOKEN = encodeAccessToken({
  x402Version: 2,
  accepted: { scheme: 'nvm:erc4337', network: 'eip155:84532', planId: '1', extra: { version: '1' } },
  payload: { signature: '0x' + 'ab'.repeat(65), authorization: { from: ACCOUNT, sessionKeysProvider: 'zerodev', sessionKeys: ['k'.repeat(40)] } },
  extensions: {},
})

/** Representative calls: [name, method, path the backend sees, the call]. */
const CALLS = [
  ['x402.getX402AccessToken', 'POST', '/api/v1/x402/permissions', (p) => p.x402.getX402AccessToken('1', 'a', { delegationConfig: { delegationId: 'd' } })],
  ['facilitator.verifyPermissions', 'POST', '/api/v1/x402/verify', (p) => p.facilitator.verifyPermissions({ paymentRequired, x402AccessToken: TOKEN, maxAmount: 1n })],
  ['facilitator.settlePermissions', 'POST', '/api/v1/x402/settle', (p) => p.facilitator.settlePermissions({ paymentRequired, x402AccessToken: TOKEN, maxAmount: 1n })],
  ['requests.startProcessingRequest', 'POST', '/api/v1/x402/verify', (p) => p.requests.startProcessingRequest('a', TOKEN, 'https://agent.example/tasks', 'POST')],
  ['plans.getPlan', 'GET', '/api/v1/protocol/plans/1', (p) => p.plans.getPlan('1')],
  ['plans.getPlans', 'GET', '/api/v1/protocol/plans', (p) => p.plans.getPlans()],
  ['plans.getPlanBalance', 'GET', `/api/v1/protocol/plans/1/balance/${ACCOUNT}`, (p) => p.plans.getPlanBalance('1')],
  // orderPlan reads the plan (a crypto one) and the caller's balance first (answered below), then orders.
  ['plans.orderPlan', 'POST', '/api/v1/protocol/plans/1/order', (p) => p.plans.orderPlan('1'), (backend) => {
    backend.respond('GET', '/api/v1/protocol/plans/1', { json: { id: '1', registry: { price: { isCrypto: true } } } })
    backend.respond('GET', `/api/v1/protocol/plans/1/balance/${ACCOUNT}`, { json: { planId: '1', balance: '0', isSubscriber: false } })
  }],
  ['plans.orderFiatPlan', 'POST', '/api/v1/fiat/stripe/payment', (p) => p.plans.orderFiatPlan('1')],
  ['plans.registerCreditsPlan', 'POST', '/api/v1/protocol/plans', (p) => p.plans.registerCreditsPlan({ name: 'P' }, getFreePriceConfig(), getFixedCreditsConfig(1n))],
  ['agents.registerAgent', 'POST', '/api/v1/protocol/agents', (p) => p.agents.registerAgent({ name: 'A' }, undefined, ['1'])],
  ['agents.getAgent', 'GET', '/api/v1/protocol/agents/a', (p) => p.agents.getAgent('a')],
  ['delegation.createDelegation', 'POST', '/api/v1/delegation/create', (p) => p.delegation.createDelegation({ provider: 'erc4337', spendingLimitCents: 1, durationSecs: 1 })],
  ['delegation.listDelegations', 'GET', '/api/v1/delegation', (p) => p.delegation.listDelegations()],
  ['delegation.listPaymentMethods', 'GET', '/api/v1/payment-methods', (p) => p.delegation.listPaymentMethods()],
  ['resolveScheme', 'GET', '/api/v1/protocol/plans/1', (p) => resolveScheme(p, '1')],
]

/** Runs `check(error, name)` for every representative call answered with `answer`. */
async function eachCall(t, answer, check, options = {}) {
  const backend = await backendFor(t)
  for (const [name, method, path, call, prepare] of CALLS) {
    backend.reset()
    prepare?.(backend)
    backend.respond(method, path, answer)
    const error = await paymentsError(call(clientFor(backend, options)))
    assert.equal(backend.requests.filter((r) => r.path === path && r.method === method).length, 1, `${name}: one request, no retry`)
    assert.equal(backend.requests.at(-1).path, path, name)
    check(error, name)
    assertNoSecrets(error, KEY, TOKEN)
  }
}

test('a 4xx backend envelope passes through: code, message said once (ending with the status, as the official SDK\'s), httpStatus, hint, extra fields', async (t) => {
  const envelope = { code: 'BCK.X402.0013', message: 'Delegation expired', httpStatus: 402, hint: 'Create a new delegation and mint a new token', category: 'payment', retryable: false, details: { delegationId: 'd' } }
  await eachCall(t, { status: 402, json: envelope }, (error, name) => {
    assert.equal(error.code, envelope.code, name)
    assert.equal(error.message, `${envelope.message} (HTTP 402)`, name)
    assert.equal(occurrences(String(error), envelope.message), 1, `${name}: the message is said once`)
    assert.equal(error.httpStatus, envelope.httpStatus, name)
    assert.equal(error.hint, envelope.hint, name)
    assert.deepEqual(error.details, { category: envelope.category, retryable: envelope.retryable, details: envelope.details }, name)
    assert.equal(error.retryable, false, name)
  })
})

test('an envelope whose hint repeats its message does not say it twice; known codes get a hint', async (t) => {
  const envelope = { code: 'BCK.X402.0013', message: 'Delegation expired', httpStatus: 400, hint: 'Delegation expired' }
  await eachCall(t, { status: 400, json: envelope }, (error, name) => {
    assert.equal(error.message, `${envelope.message} (HTTP 400)`, name)
    assert.ok(error.hint, `${name}: a hint`)
    assert.notEqual(error.hint, envelope.message, name)
    assert.equal(occurrences(`${error.message} ${error.hint}`, envelope.message), 1, `${name}: "${envelope.message}" said once`)
  })
})

test('BCK.APIKEY.0004 (401) without a hint gets one; retryable follows the envelope or the status', async (t) => {
  const backend = await backendFor(t)
  backend.respond('GET', '*', { status: 401, json: { code: 'BCK.APIKEY.0004', message: 'Invalid API key', httpStatus: 401 } })
  const error = await paymentsError(clientFor(backend).plans.getPlans(), { code: 'BCK.APIKEY.0004', message: 'Invalid API key (HTTP 401)', httpStatus: 401, retryable: false })
  assert.match(error.hint, /API key/)
  backend.respond('GET', '*', { status: 503, json: { code: 'BCK.COMMON.0001', message: 'Try later', httpStatus: 503 } })
  await paymentsError(clientFor(backend).plans.getPlans(), { code: 'BCK.COMMON.0001', httpStatus: 503, retryable: true })
  backend.respond('GET', '*', { status: 503, json: { code: 'BCK.COMMON.0001', message: 'Never', httpStatus: 503, retryable: false } })
  await paymentsError(clientFor(backend).plans.getPlans(), { code: 'BCK.COMMON.0001', retryable: false })
})

test('an HTML 502 page becomes http_502 and the message mentions no HTML', async (t) => {
  const page = '<!doctype html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1><p>upstream nginx/1.25</p></body></html>'
  await eachCall(t, { status: 502, body: page, headers: { 'content-type': 'text/html' } }, (error, name) => {
    assert.equal(error.code, 'http_502', name)
    assert.equal(error.httpStatus, 502, name)
    assert.equal(error.retryable, true, name)
    assert.match(error.message, /502/, name)
    for (const fragment of ['<', 'html', 'nginx', 'upstream']) assert.ok(!error.message.toLowerCase().includes(fragment), `${name}: ${error.message}`)
    assert.ok(error.hint, name)
  })
})

test('other non-envelope error bodies: http_<status> with their message when they have one', async (t) => {
  const backend = await backendFor(t)
  const payments = clientFor(backend)
  const cases = [
    [{ status: 404, json: { statusCode: 404, message: 'Cannot GET /x' } }, { code: 'http_404', httpStatus: 404, message: 'Cannot GET /x (HTTP 404)' }],
    [{ status: 400, json: { message: ['planId must be a string', 'nonce is required'] } }, { code: 'http_400', httpStatus: 400, message: 'planId must be a string; nonce is required (HTTP 400)' }],
    // A proxy's JSON with a code of its own: not a backend code (http_<status>), its code kept in details.
    [{ status: 502, json: { code: 'ECONNRESET', message: 'upstream reset' } }, { code: 'http_502', httpStatus: 502, message: 'upstream reset (HTTP 502)', details: { code: 'ECONNRESET' } }],
    [{ status: 500, body: '' }, { code: 'http_500', httpStatus: 500, retryable: true }],
    [{ status: 429, body: 'slow down' }, { code: 'http_429', httpStatus: 429, retryable: true }],
    [{ status: 418, json: [] }, { code: 'http_418', httpStatus: 418, retryable: false }],
  ]
  for (const [answer, fields] of cases) {
    backend.respond('GET', '*', answer)
    const error = await paymentsError(payments.plans.getPlan('1'), fields)
    assert.ok(error.hint, `${answer.status}: a hint`)
  }
})

test('connection refused is network_error (retryable, no httpStatus)', async (t) => {
  const port = await freePort()
  for (const [name, , , call] of CALLS) {
    const payments = Payments.getInstance({ nvmApiKey: KEY, backendUrl: `http://127.0.0.1:${port}` })
    const error = await paymentsError(call(payments), { code: 'network_error', retryable: true, httpStatus: undefined })
    assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${port}`), name)
    assert.ok(error.hint, name)
    assertNoSecrets(error, KEY, TOKEN)
  }
})

test('a dropped connection is network_error', async (t) => {
  await eachCall(t, { destroy: true }, (error, name) => {
    assert.equal(error.code, 'network_error', name)
    assert.equal(error.retryable, true, name)
  })
})

test('invalid JSON in a 200 is invalid_response', async (t) => {
  await eachCall(t, { status: 200, body: '{"accessToken": "t", "isValid": true, ', headers: { 'content-type': 'application/json' } }, (error, name) => {
    assert.equal(error.code, 'invalid_response', name)
    assert.equal(error.httpStatus, 200, name)
    assert.equal(error.retryable, false, name)
    assert.ok(!error.message.includes('accessToken'), `${name}: the body is not echoed`)
  })
})

test('no answer within timeoutMs is timeout (retryable)', async (t) => {
  const timeoutMs = 40
  await eachCall(
    t,
    { hang: true },
    (error, name) => {
      assert.equal(error.code, 'timeout', name)
      assert.equal(error.retryable, true, name)
      assert.match(error.message, new RegExp(`${timeoutMs} ms`), name)
      assert.ok(error.hint, name)
    },
    { timeoutMs },
  )
})

test('a 2xx of the wrong shape is invalid_response', async (t) => {
  const backend = await backendFor(t)
  const payments = clientFor(backend)
  const cases = [
    ['POST', '/api/v1/x402/permissions', { token: 'x' }, () => payments.x402.getX402AccessToken('1', 'a', { delegationConfig: { delegationId: 'd' } }), /accessToken/],
    ['POST', '/api/v1/x402/permissions', { accessToken: '' }, () => payments.x402.getX402AccessToken('1', 'a', { delegationConfig: { delegationId: 'd' } }), /accessToken/],
    ['POST', '/api/v1/x402/permissions', null, () => payments.x402.getX402AccessToken('1', 'a', { delegationConfig: { delegationId: 'd' } }), /accessToken/],
    ['POST', '/api/v1/x402/verify', { valid: true }, () => payments.facilitator.verifyPermissions({ paymentRequired, x402AccessToken: 't' }), /isValid/],
    ['POST', '/api/v1/x402/verify', { isValid: 'true' }, () => payments.requests.startProcessingRequest('a', TOKEN, '/t', 'GET'), /isValid/],
    ['POST', '/api/v1/x402/settle', { transaction: '0x' }, () => payments.facilitator.settlePermissions({ paymentRequired, x402AccessToken: 't' }), /success/],
    ['POST', '/api/v1/protocol/plans', { id: '1' }, () => payments.plans.registerCreditsPlan({ name: 'P' }, getFreePriceConfig(), getFixedCreditsConfig(1n)), /planId/],
    ['GET', `/api/v1/protocol/plans/1/balance/${ACCOUNT}`, [1, 2], () => payments.plans.getPlanBalance('1'), /balance/],
    ['POST', '/api/v1/protocol/agents', { data: { id: 'a' } }, () => payments.agents.registerAgent({ name: 'A' }, undefined, ['1']), /agentId/],
    ['POST', '/api/v1/delegation/create', {}, () => payments.delegation.createDelegation({ provider: 'erc4337', spendingLimitCents: 1, durationSecs: 1 }), /delegationId/],
    ['GET', '/api/v1/delegation', 42, () => payments.delegation.listDelegations(), /delegations/],
    ['GET', '/api/v1/payment-methods', { methods: [] }, () => payments.delegation.listPaymentMethods(), /payment methods/],
  ]
  for (const [method, path, json, call, message] of cases) {
    backend.respond(method, path, { status: 200, json })
    await paymentsError(call, { code: 'invalid_response', httpStatus: 200, message })
  }
})

test('security: Authorization carries the whole key; no error message, hint or String(error) ever does', async (t) => {
  const backend = await backendFor(t)
  const key = makeKey('sandbox', { sub: ACCOUNT, o11y: 'o'.repeat(64), secret: 'never-show-this-claim-value' })
  const payments = clientFor(backend, { nvmApiKey: key, timeoutMs: 40 })
  backend.respond('POST', '/api/v1/x402/verify', { status: 400, json: { code: 'BCK.X402.0005', message: 'Invalid access token', httpStatus: 400 } })
  backend.respond('GET', '/api/v1/protocol/plans/502', { status: 502, body: `<html>${key}</html>` })
  backend.respond('GET', '/api/v1/protocol/plans/bad-json', { status: 200, body: `{"echo":"${key}"` })
  backend.respond('GET', '/api/v1/protocol/plans/hang', { hang: true })
  backend.respond('GET', '/api/v1/protocol/plans/404', { status: 404, body: key })
  const port = await freePort()
  const failures = [
    () => payments.facilitator.verifyPermissions({ paymentRequired, x402AccessToken: TOKEN }),
    () => payments.plans.getPlan('502'),
    () => payments.plans.getPlan('bad-json'),
    () => payments.plans.getPlan('hang'),
    () => payments.plans.getPlan('404'),
    () => payments.x402.getX402AccessToken('1', 'a', { delegationConfig: { delegationId: ' ' } }),
    () => payments.facilitator.verifyPermissions({ paymentRequired: { x402Version: 1 }, x402AccessToken: TOKEN }),
    () => payments.facilitator.settlePermissions({ paymentRequired, x402AccessToken: TOKEN, maxAmount: TOKEN }),
    () => Payments.getInstance({ nvmApiKey: key, backendUrl: `http://127.0.0.1:${port}` }).plans.getPlans(),
    () => Payments.getInstance({ nvmApiKey: key, backendUrl: 'http://backend.example.com' }),
    () => Payments.getInstance({ nvmApiKey: key.replace('.c2ln', '.c2ln.extra') + '.x' }),
    () => Payments.getInstance({ nvmApiKey: `acme:${key.split(':')[1]}` }),
    () => getCryptoPriceConfig(1n, key),
    () => payments.plans.registerCreditsPlan({ name: 'P' }, { amounts: [1], receivers: [key] }, getFixedCreditsConfig(1n)),
  ]
  for (const failure of failures) {
    const error = await paymentsError(failure)
    assertNoSecrets(error, key, TOKEN)
  }
  const verify = backend.requests.find((r) => r.path === '/api/v1/x402/verify')
  assert.equal(verify.headers.authorization, `Bearer ${key}`)
  for (const request of backend.requests) {
    const expected = request.path.startsWith('/api/v1/protocol/plans/') ? undefined : `Bearer ${key}`
    assert.equal(request.headers.authorization, expected, request.path)
  }
})

// A key passed in the wrong option (swapped configuration variables) must not end up whole in the error.
test('security: a key passed as environment or backendUrl is not echoed whole', async () => {
  for (const options of [{ environment: KEY }, { backendUrl: KEY }]) {
    const error = await paymentsError(() => Payments.getInstance({ nvmApiKey: makeKey('acme'), ...options }), { code: 'validation' })
    assertNoSecrets(error, KEY)
  }
})

test('internal: a non-JSON throw from the core still surfaces as a PaymentsError', async () => {
  // An injected fetch that throws synchronously with a non-Error value.
  const payments = Payments.getInstance({
    nvmApiKey: KEY,
    fetch: () => {
      throw 'boom' // eslint-disable-line no-throw-literal
    },
  })
  await paymentsError(payments.plans.getPlan('1'), { code: 'network_error', message: /boom/ })
})

test('an error from the core is a PaymentsError built by the core: an Error with a stack and its fields, thrown the same from every path', async (t) => {
  const { PaymentsError, decodePaymentHeader } = await import('nvm-x402')
  const { Payments: AgentPayments } = await import('nvm-x402/agent')
  const backend = await backendFor(t)
  backend.respond('GET', '/api/v1/protocol/plans/1', { status: 404, json: { code: 'BCK.PLAN.0001', message: 'Plan not found', httpStatus: 404, hint: 'Check the id', category: 'plans' } })
  const payments = clientFor(backend)
  const caught = []
  const keep = (run) => Promise.resolve().then(run).then(() => assert.fail('no error'), (e) => caught.push(e))
  await keep(() => Payments.getInstance({ nvmApiKey: 'not-a-key' })) // the constructor
  await keep(() => decodePaymentHeader('%%%')) // a pure function
  await keep(() => payments.plans.getPlan('1')) // a backend call (its envelope passes through)
  await keep(() => payments.fetch('http://agent.example/tasks', {}, { planIds: ['1'], paymentType: 'crypto' })) // the paying loop (plain http to a non-loopback host)
  await keep(() => AgentPayments.getInstance({ nvmApiKey: KEY }).paywall({ agentId: 'a', routes: { 'GET /x': { planId: '1', credits: -1 } } })) // a paywall's options
  assert.equal(caught.length, 5)
  for (const e of caught) {
    assert.ok(e instanceof Error && e instanceof PaymentsError, String(e))
    assert.equal(e.name, 'PaymentsError')
    assert.equal(typeof e.code, 'string')
    assert.equal(typeof e.retryable, 'boolean')
    assert.match(e.stack, /PaymentsError/)
    assert.equal(Object.keys(e).includes('message'), false, 'message is the Error\'s own, not a copied field')
  }
  const envelope = caught[2]
  assert.deepEqual([envelope.code, envelope.httpStatus, envelope.hint, envelope.message, envelope.details?.category], ['BCK.PLAN.0001', 404, 'Check the id', 'Plan not found (HTTP 404)', 'plans'])
  assert.equal(caught[3].code, 'insecure_transport')
})

// ---- every error has a hint (#23) ---------------------------------------------

test('every error has a hint: validation errors of the core and of the JavaScript facade, with the same text', async (t) => {
  const { PaymentsError, decodePaymentHeader, fetchWithPayment } = await import('nvm-x402')
  const backend = await backendFor(t)
  const payments = clientFor(backend)
  const failures = [
    () => payments.plans.getPlan(''),
    () => decodePaymentHeader('%%%'),
    () => buildPaymentRequired('1', { endpoint: 5 }),
    () => Payments.getInstance({ nvmApiKey: KEY, fetch: 'not a function' }),
    () => payments.setOrganizationId(5),
    () => fetchWithPayment('http://127.0.0.1:9/', {}, { payments: {} }),
    () => resolveScheme({}, '1'),
  ]
  const hints = new Set()
  for (const failure of failures) {
    const error = await paymentsError(failure, { code: 'validation' })
    assert.equal(typeof error.hint, 'string')
    assert.ok(error.hint.length > 0, error.message)
    hints.add(error.hint)
  }
  assert.deepEqual([...hints], ['Nothing was sent: fix the argument the message names.'], 'the core\'s and the facade\'s are one text')
  // A PaymentsError made from a validation detail gets it too; one with its own hint keeps it.
  assert.equal(new PaymentsError({ code: 'validation', message: 'm' }).hint, [...hints][0])
  assert.equal(new PaymentsError({ code: 'validation', message: 'm', hint: 'h' }).hint, 'h')
  assert.equal(backend.requests.length, 0)
})

test('every PaymentsError the JavaScript files make has a hint: its own, or a validation error\'s', async () => {
  const { readdirSync, readFileSync } = await import('node:fs')
  const { join } = await import('node:path')
  const { ROOT } = await import('../support/servers.mjs')
  const dir = join(ROOT, 'pkg-template')
  let sites = 0
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.js'))) {
    const text = readFileSync(join(dir, file), 'utf8')
    for (const match of text.matchAll(/new PaymentsError\(\{([\s\S]*?)\}\)/g)) {
      sites++
      const literal = match[1]
      const code = /code: '([a-z_]+)'/.exec(literal)?.[1]
      assert.ok(code === 'validation' || /\bhint:/.test(literal), `${file}: ${literal.slice(0, 120)}`)
    }
  }
  assert.ok(sites >= 10, `only ${sites} sites found`)
})

test('a backend or agent a browser page can\'t reach: the hint says it may be CORS (a fetch TypeError is all a page sees)', async (t) => {
  const failed = () => Promise.reject(new TypeError('Failed to fetch'))
  // Node has no `location`; a page or a web worker has one.
  const payments = Payments.getInstance({ nvmApiKey: KEY, backendUrl: 'https://backend.example', fetch: failed })
  const server = await paymentsError(payments.plans.getPlan('1'), { code: 'network_error', retryable: true })
  assert.doesNotMatch(server.hint, /CORS/)
  globalThis.location = new URL('https://app.example/page')
  t.after(() => delete globalThis.location)
  const backend = await paymentsError(payments.plans.getPlan('1'), { code: 'network_error', retryable: true, message: /Failed to fetch/ })
  assert.match(backend.hint, /the backend does not allow this origin \(CORS\)/)
  const agent = await paymentsError(payments.queryAgent({ agentUrl: 'https://agent.example/tasks', prompt: 'hi', planId: '1', eager: false }), { code: 'network_error' })
  assert.match(agent.hint, /the agent does not allow this origin \(CORS\)/)
  // Another failure (an abort is a timeout) says nothing of CORS.
  const refused = Payments.getInstance({ nvmApiKey: KEY, backendUrl: 'https://backend.example', fetch: () => Promise.reject(new Error('connect ECONNREFUSED')) })
  assert.doesNotMatch((await paymentsError(refused.plans.getPlan('1'))).hint, /CORS/)
})

test('queryAgent without a plan names the missing parameter before anything is sent', async (t) => {
  const backend = await backendFor(t)
  let agentCalls = 0
  const payments = clientFor(backend, { fetch: async (input, init) => (input instanceof Request ? (agentCalls++, new Response('{}')) : fetch(input, init)) })
  const error = await paymentsError(payments.queryAgent({ agentUrl: 'http://127.0.0.1:9/tasks', prompt: 'hi' }), { code: 'validation', message: /^planId is required/ })
  assert.match(error.hint, /Pass planId/)
  assert.equal(agentCalls + backend.requests.length, 0)
})
