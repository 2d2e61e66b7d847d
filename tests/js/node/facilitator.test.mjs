// facilitator.verifyPermissions / settlePermissions and
// requests.startProcessingRequest against a recording backend.
import test from 'node:test'
import assert from 'node:assert/strict'
import { buildPaymentRequired, encodeAccessToken } from 'nvm-x402'
import { assertRequests, backendFor, clientFor, makeKey, paymentsError } from '../support/nvm.mjs'

const VERIFY = '/api/v1/x402/verify'
const SETTLE = '/api/v1/x402/settle'

// backend-api.md, wire example of verify.
const SPEC_VERIFY_BODY = '{"paymentRequired":{"x402Version":2,"resource":{"url":"/x"},"accepts":[{"scheme":"nvm:erc4337","network":"eip155:84532","planId":"123","extra":{"version":"1"}}],"extensions":{}},"x402AccessToken":"tok","maxAmount":"1"}'

test('verify: the spec wire example, byte for byte, for maxAmount as bigint, number and decimal string', async (t) => {
  const backend = await backendFor(t)
  backend.respond('POST', VERIFY, { json: { isValid: true, payer: '0xpayer', network: 'eip155:84532' } })
  const payments = clientFor(backend)
  const paymentRequired = buildPaymentRequired('123', { endpoint: '/x' })
  for (const maxAmount of [1n, 1, '1']) {
    const result = await payments.facilitator.verifyPermissions({ paymentRequired, x402AccessToken: 'tok', maxAmount })
    assert.deepEqual(result, { isValid: true, payer: '0xpayer', network: 'eip155:84532' })
  }
  assertRequests(backend, [1, 2, 3].map(() => ({ method: 'POST', url: VERIFY, body: SPEC_VERIFY_BODY })))
})

test('verify: big maxAmounts travel as exact decimal strings; no maxAmount sends none', async (t) => {
  const backend = await backendFor(t)
  backend.respond('POST', VERIFY, { json: { isValid: true } })
  const payments = clientFor(backend)
  const paymentRequired = buildPaymentRequired('123', { endpoint: '/x' })
  const huge = 2n ** 255n + 7n
  for (const [maxAmount, sent] of [
    [huge, huge.toString()],
    [huge.toString(), huge.toString()],
    [Number.MAX_SAFE_INTEGER, String(Number.MAX_SAFE_INTEGER)],
    [2n ** 53n + 1n, (2n ** 53n + 1n).toString()],
    ['0', '0'],
    ['000042', '42'],
  ]) {
    await payments.facilitator.verifyPermissions({ paymentRequired, x402AccessToken: 'tok', maxAmount })
    assert.equal(backend.last().json.maxAmount, sent, String(maxAmount))
    assert.ok(backend.last().body.endsWith(`"maxAmount":"${sent}"}`), backend.last().body)
  }
  await payments.facilitator.verifyPermissions({ paymentRequired, x402AccessToken: 'tok' })
  assert.equal(backend.last().body, JSON.stringify({ paymentRequired, x402AccessToken: 'tok' }))
})

test('verify: a maxAmount a JS number cannot hold exactly (2^53 + 1), negative, fractional or non-numeric is rejected before sending', async (t) => {
  const backend = await backendFor(t)
  const payments = clientFor(backend)
  const paymentRequired = buildPaymentRequired('123', { endpoint: '/x' })
  const imprecise = await paymentsError(payments.facilitator.verifyPermissions({ paymentRequired, x402AccessToken: 'tok', maxAmount: 2 ** 53 + 1 }), { code: 'validation' })
  assert.match(imprecise.message, /maxAmount/)
  assert.match(imprecise.message, /string or a bigint/)
  for (const maxAmount of [-1, 1.5, '1.5', '-1', '0x10', '1e3', ' 1', true, {}, 1e21, 2n ** 256n]) {
    await paymentsError(payments.facilitator.verifyPermissions({ paymentRequired, x402AccessToken: 'tok', maxAmount }), { code: 'validation', message: /maxAmount/ })
  }
  assert.equal(backend.requests.length, 0)
})

test('verify: isValid:false is a value, not an exception', async (t) => {
  const backend = await backendFor(t)
  const answer = { isValid: false, invalidReason: 'Insufficient credits', payer: '0xabc' }
  backend.respond('POST', VERIFY, { json: answer })
  const result = await clientFor(backend).facilitator.verifyPermissions({ paymentRequired: buildPaymentRequired('1'), x402AccessToken: 'tok', maxAmount: 5n })
  assert.deepEqual(result, answer)
})

test('verify: agentRequest.balance is normalised (numbers to decimal strings); unknown fields pass through', async (t) => {
  const backend = await backendFor(t)
  backend.respond('POST', VERIFY, {
    status: 200,
    body: '{"isValid":true,"agentRequestId":"r1","agentRequest":{"agentRequestId":"r1","agentName":"A","balance":{"planId":5,"balance":18446744073709551615,"pricePerCredit":0.5}},"future":{"n":1}}',
  })
  const result = await clientFor(backend).facilitator.verifyPermissions({ paymentRequired: buildPaymentRequired('5'), x402AccessToken: 'tok' })
  assert.deepEqual(result, {
    isValid: true,
    agentRequestId: 'r1',
    agentRequest: { agentRequestId: 'r1', agentName: 'A', balance: { planId: '5', balance: '18446744073709551615', pricePerCredit: 0.5, isSubscriber: false } },
    future: { n: 1 },
  })
})

test('verify/settle: a bad paymentRequired or a missing token is rejected before sending', async (t) => {
  const backend = await backendFor(t)
  const payments = clientFor(backend)
  const paymentRequired = buildPaymentRequired('1')
  const bad = [
    undefined,
    null,
    'params',
    { x402AccessToken: 'tok' },
    { paymentRequired: { ...paymentRequired, x402Version: 1 }, x402AccessToken: 'tok' },
    { paymentRequired: { x402Version: 2, resource: { url: '/' } }, x402AccessToken: 'tok' },
    { paymentRequired: { x402Version: 2, accepts: [] }, x402AccessToken: 'tok' },
    { paymentRequired },
    { paymentRequired, x402AccessToken: '' },
    { paymentRequired, x402AccessToken: '   ' },
    { paymentRequired, x402AccessToken: 42 },
  ]
  for (const params of bad) {
    await paymentsError(payments.facilitator.verifyPermissions(params), { code: 'validation' })
    await paymentsError(payments.facilitator.settlePermissions(params), { code: 'validation' })
  }
  assert.equal(backend.requests.length, 0)
})

test('settle: verify\'s body plus agentRequestId, batch, marginPercent, in order; answer normalised', async (t) => {
  const backend = await backendFor(t)
  backend.respond('POST', SETTLE, { status: 200, body: '{"success":true,"transaction":"0xtx","network":"eip155:84532","payer":"0xp","creditsRedeemed":2,"remainingBalance":18446744073709551616}' })
  const payments = clientFor(backend)
  const paymentRequired = buildPaymentRequired('123', { endpoint: 'https://agent.example/tasks', agentId: 'ag', httpVerb: 'POST' })
  const result = await payments.facilitator.settlePermissions({ paymentRequired, x402AccessToken: 'tok', maxAmount: 2n, agentRequestId: 'req-1', batch: false, marginPercent: 0.5 })
  assert.deepEqual(result, { success: true, transaction: '0xtx', network: 'eip155:84532', payer: '0xp', creditsRedeemed: '2', remainingBalance: '18446744073709551616' })
  assertRequests(backend, [
    { method: 'POST', url: SETTLE, body: { paymentRequired, x402AccessToken: 'tok', maxAmount: '2', agentRequestId: 'req-1', batch: false, marginPercent: 0.5 } },
  ])
})

test('settle: only the given optional fields are sent; maxAmount "0" is sent as is', async (t) => {
  const backend = await backendFor(t)
  backend.respond('POST', SETTLE, { json: { success: true, transaction: '0x', network: 'n' } })
  const payments = clientFor(backend)
  const paymentRequired = buildPaymentRequired('1')
  await payments.facilitator.settlePermissions({ paymentRequired, x402AccessToken: 'tok', maxAmount: 0, batch: true })
  await payments.facilitator.settlePermissions({ paymentRequired, x402AccessToken: 'tok', agentRequestId: 12 })
  assertRequests(backend, [
    { method: 'POST', url: SETTLE, body: { paymentRequired, x402AccessToken: 'tok', maxAmount: '0', batch: true } },
    { method: 'POST', url: SETTLE, body: { paymentRequired, x402AccessToken: 'tok', agentRequestId: '12' } },
  ])
})

test('settle: success:false is a value with transaction "" and network ""', async (t) => {
  const backend = await backendFor(t)
  backend.respond('POST', SETTLE, { json: { success: false, errorReason: 'Insufficient balance', transaction: null, remainingBalance: 0 } })
  const result = await clientFor(backend).facilitator.settlePermissions({ paymentRequired: buildPaymentRequired('1'), x402AccessToken: 'tok', maxAmount: '3' })
  assert.deepEqual(result, { success: false, errorReason: 'Insufficient balance', transaction: '', remainingBalance: '0', network: '' })
})

test('settle: a negative or non-numeric marginPercent, a non-boolean batch are rejected before sending', async (t) => {
  const backend = await backendFor(t)
  const payments = clientFor(backend)
  const paymentRequired = buildPaymentRequired('1')
  for (const extra of [{ marginPercent: -1 }, { marginPercent: '5' }, { batch: 'yes' }, { agentRequestId: {} }, { maxAmount: 2 ** 53 + 1 }]) {
    await paymentsError(payments.facilitator.settlePermissions({ paymentRequired, x402AccessToken: 'tok', ...extra }), { code: 'validation' })
  }
  assert.equal(backend.requests.length, 0)
})

// ---- requests.startProcessingRequest ----------------------------------------------

const token = (accepted, from = '0x' + '11'.repeat(20)) =>
  encodeAccessToken({ x402Version: 2, accepted, payload: { signature: '0xsig', authorization: { from, sessionKeysProvider: 'zerodev', sessionKeys: [] } }, extensions: {} })

test('startProcessingRequest: builds the PaymentRequired for url and verb and verifies in one call', async (t) => {
  const backend = await backendFor(t)
  backend.respond('POST', VERIFY, {
    json: { isValid: true, agentRequestId: 'req-9', agentRequest: { agentRequestId: 'req-9', balance: { planId: '77', planName: 'P', balance: 42, isSubscriber: true, pricePerCredit: 1 } } },
  })
  const accepted = { scheme: 'nvm:erc4337', network: 'eip155:84532', planId: '77', extra: { version: '1' } }
  const accessToken = token(accepted)
  const url = 'https://agent.example/tasks?q=1'
  const result = await clientFor(backend).requests.startProcessingRequest('agent-7', accessToken, url, 'post')
  const paymentRequired = buildPaymentRequired('77', { endpoint: url, agentId: 'agent-7', httpVerb: 'POST', network: accepted.network, scheme: accepted.scheme })
  assert.deepEqual(result, {
    isValid: true,
    agentRequestId: 'req-9',
    planId: '77',
    paymentRequired,
    balance: { planId: '77', planName: 'P', balance: '42', isSubscriber: true, pricePerCredit: 1 },
  })
  assertRequests(backend, [{ method: 'POST', url: VERIFY, body: { paymentRequired, x402AccessToken: accessToken, maxAmount: '1' } }])
})

test('startProcessingRequest: options.planId and options.credits; the token\'s scheme and network are kept', async (t) => {
  const backend = await backendFor(t)
  backend.respond('POST', VERIFY, { json: { isValid: true, agentRequest: { agentRequestId: 'r', balance: { planId: '5', balance: '10', isSubscriber: true } } } })
  const accepted = { scheme: 'nvm:card-delegation', network: 'visa', planId: '77', extra: { version: '1' } }
  const accessToken = token(accepted)
  const key = makeKey('live')
  const result = await clientFor(backend, { nvmApiKey: key }).requests.startProcessingRequest('ag', accessToken, '/tasks', 'GET', { planId: '5', credits: 3n })
  const paymentRequired = buildPaymentRequired('5', { endpoint: '/tasks', agentId: 'ag', httpVerb: 'GET', network: 'visa', scheme: 'nvm:card-delegation' })
  assert.deepEqual(result, { isValid: true, agentRequestId: 'r', planId: '5', paymentRequired, balance: { planId: '5', balance: '10', isSubscriber: true } })
  assertRequests(backend, [{ method: 'POST', url: VERIFY, key, body: { paymentRequired, x402AccessToken: accessToken, maxAmount: '3' } }])
})

test('startProcessingRequest: a token without scheme/network gets the environment defaults', async (t) => {
  const backend = await backendFor(t)
  backend.respond('POST', VERIFY, { json: { isValid: false, invalidReason: 'nope' } })
  const accessToken = encodeAccessToken({ x402Version: 2, accepted: { planId: '3' } })
  await clientFor(backend, { nvmApiKey: makeKey('live') }).requests.startProcessingRequest('ag', accessToken, '/t', 'GET')
  assert.deepEqual(backend.last().json.paymentRequired.accepts, [{ scheme: 'nvm:erc4337', network: 'eip155:8453', planId: '3', extra: { version: '1', agentId: 'ag', httpVerb: 'GET' } }])
})

test('startProcessingRequest: isValid:false is returned with its reason and an empty balance', async (t) => {
  const backend = await backendFor(t)
  backend.respond('POST', VERIFY, { json: { isValid: false, invalidReason: 'Insufficient credits' } })
  const accessToken = token({ scheme: 'nvm:erc4337', network: 'eip155:84532', planId: '8', extra: {} })
  const result = await clientFor(backend).requests.startProcessingRequest('ag', accessToken, '/t', 'GET')
  assert.equal(result.isValid, false)
  assert.equal(result.invalidReason, 'Insufficient credits')
  assert.equal(result.agentRequestId, undefined)
  assert.deepEqual(result.balance, { planId: '8', balance: '0', isSubscriber: false })
  assert.equal(backend.requests.length, 1)
})

test('startProcessingRequest: a missing or undecodable token is isValid:false with no request at all', async (t) => {
  const backend = await backendFor(t)
  const payments = clientFor(backend)
  for (const accessToken of [undefined, null, '', '   ']) {
    const result = await payments.requests.startProcessingRequest('ag', accessToken, '/t', 'GET')
    assert.deepEqual(result, { isValid: false, invalidReason: 'Missing x402 payment token', balance: { planId: '', balance: '0', isSubscriber: false } })
  }
  const garbage = ['not a token!', 'e30 ', Buffer.from('123').toString('base64url'), Buffer.from('{nope').toString('base64url'), 'A'.repeat(70_000)]
  for (const accessToken of garbage) {
    const result = await payments.requests.startProcessingRequest('ag', accessToken, '/t', 'GET', { planId: '4' })
    assert.equal(result.isValid, false)
    assert.match(result.invalidReason, /^The access token /)
    assert.ok(!result.invalidReason.includes(accessToken), 'the reason does not echo the token')
    assert.deepEqual(result.balance, { planId: '4', balance: '0', isSubscriber: false })
  }
  const noPlan = await payments.requests.startProcessingRequest('ag', encodeAccessToken({ x402Version: 2 }), '/t', 'GET')
  assert.equal(noPlan.isValid, false)
  assert.match(noPlan.invalidReason, /no plan/)
  assert.equal(backend.requests.length, 0)
})

test('startProcessingRequest: a valid answer without a balance looks the balance up for the payer (second request)', async (t) => {
  const backend = await backendFor(t)
  const payer = '0x' + '22'.repeat(20)
  backend.respond('POST', VERIFY, { json: { isValid: true, payer, agentRequestId: 'r2' } })
  backend.respond('GET', `/api/v1/protocol/plans/6/balance/${payer}`, { json: { planId: 6, balance: 9, isSubscriber: true } })
  const accessToken = token({ scheme: 'nvm:erc4337', network: 'eip155:84532', planId: '6', extra: {} })
  const result = await clientFor(backend).requests.startProcessingRequest('ag', accessToken, '/t', 'GET')
  assert.equal(result.isValid, true)
  assert.equal(result.agentRequestId, 'r2')
  assert.deepEqual(result.balance, { planId: '6', balance: '9', isSubscriber: true })
  assert.deepEqual(
    backend.requests.map((r) => `${r.method} ${r.url}`),
    [`POST ${VERIFY}`, `GET /api/v1/protocol/plans/6/balance/${payer}`],
  )
})

test('startProcessingRequest: url and httpVerb are required', async (t) => {
  const backend = await backendFor(t)
  const payments = clientFor(backend)
  const accessToken = token({ planId: '1' })
  await paymentsError(payments.requests.startProcessingRequest('ag', accessToken, undefined, 'GET'), { code: 'validation', message: /url/ })
  await paymentsError(payments.requests.startProcessingRequest('ag', accessToken, '/t'), { code: 'validation', message: /httpVerb/ })
  assert.equal(backend.requests.length, 0)
})
