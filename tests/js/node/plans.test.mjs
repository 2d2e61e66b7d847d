// plans.*: lookup, balance, ordering, registration bodies, and the
// price/credits helpers whose output registers unchanged.
import test from 'node:test'
import assert from 'node:assert/strict'
import * as nvm from 'nvm-x402'
import { ACCOUNT, assertRequests, backendFor, clientFor, makeKey, paymentsError } from '../support/nvm.mjs'

const { ZeroAddress, ONE_DAY_DURATION, ONE_WEEK_DURATION, ONE_MONTH_DURATION, ONE_YEAR_DURATION } = nvm
const { getFreePriceConfig, getCryptoPriceConfig, getNativeTokenPriceConfig, getERC20PriceConfig, getFiatPriceConfig } = nvm
const { getFixedCreditsConfig, getDynamicCreditsConfig, getExpirableDurationConfig, getNonExpirableDurationConfig } = nvm

const PLANS = '/api/v1/protocol/plans'
const RECEIVER = '0x1234567890abcdef1234567890ABCDEF12345678'
const USDC = '0x036CbD53842c5426634e7929541eC2318f3dCF7e'
// A realistic Nevermined plan id: a uint256 far beyond 2^64.
const BIG_PLAN_ID = '84537562196237864853096924547108151127536962412307123401931048542183040958813'

// ---- lookups ------------------------------------------------------------------

test('getPlan: public GET, the plan returned as sent; ids are path-encoded', async (t) => {
  const backend = await backendFor(t)
  const plan = { id: BIG_PLAN_ID, metadata: { main: { name: 'P' }, plan: { fiatPaymentProvider: 'stripe' } }, registry: { price: { isCrypto: false, amounts: ['1000000'], receivers: [RECEIVER] } } }
  backend.respond('GET', `${PLANS}/${BIG_PLAN_ID}`, { json: plan })
  backend.respond('GET', `${PLANS}/did:nv:a%2Fb%20c`, { json: { id: 'odd' } })
  const payments = clientFor(backend)
  assert.deepEqual(await payments.plans.getPlan(BIG_PLAN_ID), plan)
  assert.deepEqual(await payments.plans.getPlan(BigInt(BIG_PLAN_ID)), plan)
  assert.deepEqual(await payments.plans.getPlan('did:nv:a/b c'), { id: 'odd' })
  assertRequests(backend, [
    { method: 'GET', url: `${PLANS}/${BIG_PLAN_ID}`, key: null },
    { method: 'GET', url: `${PLANS}/${BIG_PLAN_ID}`, key: null },
    { method: 'GET', url: `${PLANS}/did:nv:a%2Fb%20c`, key: null },
  ])
})

test('getPlan: integers a JS number cannot hold arrive as exact decimal strings', async (t) => {
  const backend = await backendFor(t)
  const u64max = 2n ** 64n - 1n
  const beyond = 2n ** 64n
  backend.respond('GET', `${PLANS}/1`, { status: 200, body: `{"id":${BIG_PLAN_ID},"registry":{"credits":{"amount":${u64max},"minAmount":1,"maxAmount":${beyond}},"price":{"amounts":[${beyond * 10n}, 5]}}}` })
  const plan = await clientFor(backend).plans.getPlan('1')
  assert.deepEqual(plan, {
    id: BIG_PLAN_ID,
    registry: { credits: { amount: u64max.toString(), minAmount: 1, maxAmount: beyond.toString() }, price: { amounts: [(beyond * 10n).toString(), 5] } },
  })
})

test('getPlan: a blank planId is rejected before sending', async (t) => {
  const backend = await backendFor(t)
  for (const planId of [undefined, '', '  ', {}]) await paymentsError(clientFor(backend).plans.getPlan(planId), { code: 'validation', message: /planId/ })
  assert.equal(backend.requests.length, 0)
})

test('getPlans: authenticated, default paging and sort in the query', async (t) => {
  const backend = await backendFor(t)
  const answer = { total: 1, page: 1, offset: 100, plans: [{ id: '1' }] }
  backend.respond('GET', PLANS, { json: answer })
  const payments = clientFor(backend)
  assert.deepEqual(await payments.plans.getPlans(), answer)
  await payments.plans.getPlans({ page: 3, offset: 25, sortBy: 'name', sortOrder: 'asc' })
  await payments.plans.getPlans({ sortBy: 'updated at' })
  assertRequests(backend, [
    { method: 'GET', url: `${PLANS}?page=1&offset=100&sortBy=created&sortOrder=desc` },
    { method: 'GET', url: `${PLANS}?page=3&offset=25&sortBy=name&sortOrder=asc` },
    { method: 'GET', url: `${PLANS}?page=1&offset=100&sortBy=updated%20at&sortOrder=desc` },
  ])
})

test('getPlans: the official SDK\'s positional form (page, offset, sortBy, sortOrder, orgId) and the object form send the same query', async (t) => {
  const backend = await backendFor(t)
  backend.respond('GET', PLANS, { json: { total: 0, page: 1, offset: 100, plans: [] } })
  const payments = clientFor(backend)
  await payments.plans.getPlans(2, 20, 'name', 'asc', 'org-1')
  await payments.plans.getPlans({ page: 2, offset: 20, sortBy: 'name', sortOrder: 'asc', orgId: 'org-1' })
  await payments.plans.getPlans(3)
  await payments.plans.getPlans(undefined, undefined, undefined, undefined, 'org 2')
  // As the official SDK: an empty orgId is left out.
  await payments.plans.getPlans(1, 100, 'created', 'desc', '')
  assertRequests(backend, [
    { method: 'GET', url: `${PLANS}?page=2&offset=20&sortBy=name&sortOrder=asc&orgId=org-1` },
    { method: 'GET', url: `${PLANS}?page=2&offset=20&sortBy=name&sortOrder=asc&orgId=org-1` },
    { method: 'GET', url: `${PLANS}?page=3&offset=100&sortBy=created&sortOrder=desc` },
    { method: 'GET', url: `${PLANS}?page=1&offset=100&sortBy=created&sortOrder=desc&orgId=org%202` },
    { method: 'GET', url: `${PLANS}?page=1&offset=100&sortBy=created&sortOrder=desc` },
  ])
})

test('getPlans: a bad sortOrder or paging value is rejected before sending', async (t) => {
  const backend = await backendFor(t)
  for (const options of [{ sortOrder: 'up' }, { page: -1 }, { offset: 'ten' }, { sortBy: 5 }, 'page=1']) {
    await paymentsError(clientFor(backend).plans.getPlans(options), { code: 'validation' })
  }
  assert.equal(backend.requests.length, 0)
})

test('getPlanBalance: public GET; the holder defaults to the key\'s sub; numbers normalised to strings', async (t) => {
  const backend = await backendFor(t)
  const other = '0x' + '9f'.repeat(20)
  backend.respond('GET', `${PLANS}/7/balance/${ACCOUNT}`, { json: { planId: 7, planName: 'Seven', planType: 'credits', holderAddress: ACCOUNT, balance: 12, creditsContract: '0xc', isSubscriber: true, pricePerCredit: 0.25 } })
  backend.respond('GET', `${PLANS}/7/balance/${other}`, { status: 200, body: `{"planId":"7","balance":${2n ** 70n}}` })
  const payments = clientFor(backend)
  assert.deepEqual(await payments.plans.getPlanBalance('7'), { planId: '7', planName: 'Seven', planType: 'credits', holderAddress: ACCOUNT, balance: '12', creditsContract: '0xc', isSubscriber: true, pricePerCredit: 0.25 })
  assert.deepEqual(await payments.plans.getPlanBalance('7', other), { planId: '7', balance: (2n ** 70n).toString(), isSubscriber: false })
  assertRequests(backend, [
    { method: 'GET', url: `${PLANS}/7/balance/${ACCOUNT}`, key: null },
    { method: 'GET', url: `${PLANS}/7/balance/${other}`, key: null },
  ])
})

test('getPlanBalance: an absent balance reads "0" and isSubscriber false', async (t) => {
  const backend = await backendFor(t)
  backend.respond('GET', `${PLANS}/7/balance/${ACCOUNT}`, { json: { planId: '7', balance: null } })
  assert.deepEqual(await clientFor(backend).plans.getPlanBalance('7'), { planId: '7', balance: '0', isSubscriber: false })
})

test('getPlanBalance: a key without sub needs an explicit holder (nothing is sent)', async (t) => {
  const backend = await backendFor(t)
  const payments = clientFor(backend, { nvmApiKey: makeKey('local', { o11y: 'x' }) })
  await paymentsError(payments.plans.getPlanBalance('7'), { code: 'validation', message: /holder/ })
  assert.equal(backend.requests.length, 0)
})

// ---- ordering -----------------------------------------------------------------

/** A backend with plan `id` (crypto unless `fiat`), the caller's balance of it and an order answer. */
async function orderBackend(t, { id = BIG_PLAN_ID, balance = { balance: '0', isSubscriber: false }, fiat = false } = {}) {
  const backend = await backendFor(t)
  backend.respond('GET', `${PLANS}/${id}`, { json: { id, registry: { price: { isCrypto: !fiat, amounts: ['1000000'], receivers: [RECEIVER] } } } })
  backend.respond('GET', `${PLANS}/${id}/balance/${ACCOUNT}`, { json: { planId: id, ...balance } })
  backend.respond('POST', `${PLANS}/${id}/order`, { json: { success: true, txHash: '0xabc' } })
  return backend
}

test('orderPlan: reads the plan and the caller\'s balance, then an authenticated POST with no body; the answer says what was held', async (t) => {
  const backend = await orderBackend(t)
  assert.deepEqual(await clientFor(backend).plans.orderPlan(BIG_PLAN_ID), { success: true, txHash: '0xabc', alreadySubscribed: false, balanceBefore: '0' })
  assertRequests(backend, [
    { method: 'GET', url: `${PLANS}/${BIG_PLAN_ID}`, key: null },
    { method: 'GET', url: `${PLANS}/${BIG_PLAN_ID}/balance/${ACCOUNT}`, key: null },
    { method: 'POST', url: `${PLANS}/${BIG_PLAN_ID}/order` },
  ])
})

test('orderPlan: a plan the caller already holds is bought again (as the official SDK), and the answer says so', async (t) => {
  // The case: 7 credits held, an order of 10 more.
  const backend = await orderBackend(t, { balance: { balance: 7, isSubscriber: true } })
  const answer = await clientFor(backend).plans.orderPlan(BIG_PLAN_ID)
  assert.equal(answer.alreadySubscribed, true)
  assert.equal(answer.balanceBefore, '7')
  assert.equal(backend.requests.filter((r) => r.method === 'POST').length, 1, 'ordered once')
})

test('orderPlan: a fiat plan is refused before anything is read or bought; the hint names orderFiatPlan', async (t) => {
  const backend = await orderBackend(t, { id: '5', fiat: true })
  const payments = clientFor(backend)
  const error = await paymentsError(payments.plans.orderPlan(' 5 '), { code: 'validation', message: 'Plan 5 is a fiat plan' })
  assert.equal(error.httpStatus, undefined)
  assert.match(error.hint, /plans\.orderFiatPlan\(planId\)/)
  // The plan's lookup only: no balance read, no order.
  assertRequests(backend, [{ method: 'GET', url: `${PLANS}/5`, key: null }])
  // The plan is kept (5 minutes, as resolveScheme's): asking again sends nothing.
  await paymentsError(payments.plans.orderPlan('5'), { code: 'validation' })
  assert.equal(backend.requests.length, 1)
})

test('orderPlan: when the plan cannot be read, nothing is bought', async (t) => {
  const backend = await orderBackend(t)
  backend.respond('GET', `${PLANS}/${BIG_PLAN_ID}`, { status: 503, json: { message: 'down' } })
  await paymentsError(clientFor(backend).plans.orderPlan(BIG_PLAN_ID), { code: 'http_503' })
  assert.equal(backend.requests.filter((r) => r.method === 'POST').length, 0)
})

test('orderPlan: when the balance cannot be read, nothing is bought', async (t) => {
  const backend = await orderBackend(t)
  backend.respond('GET', `${PLANS}/${BIG_PLAN_ID}/balance/${ACCOUNT}`, { status: 503, json: { message: 'down' } })
  await paymentsError(clientFor(backend).plans.orderPlan(BIG_PLAN_ID), { code: 'http_503' })
  assert.equal(backend.requests.filter((r) => r.method === 'POST').length, 0)
})

test('orderFiatPlan: POST api/v1/fiat/stripe/payment {sessionType:"embedded", planId}', async (t) => {
  const backend = await backendFor(t)
  const answer = { result: { stripeCheckoutSessionId: 'cs_1', checkoutLink: 'https://checkout.example/cs_1', clientReferenceId: 'ref', linkCreatedAt: 'a', linkExpiresAt: 'b' } }
  backend.respond('POST', '/api/v1/fiat/stripe/payment', { json: answer })
  assert.deepEqual(await clientFor(backend).plans.orderFiatPlan('123'), answer)
  assertRequests(backend, [{ method: 'POST', url: '/api/v1/fiat/stripe/payment', body: '{"sessionType":"embedded","planId":"123"}' }])
})

// ---- price and credits helpers -------------------------------------------------

const zeroSlots = { contractAddress: ZeroAddress, feeController: ZeroAddress, externalPriceAddress: ZeroAddress, templateAddress: ZeroAddress }
const price = (tokenAddress, amounts, receivers, isCrypto) => ({ tokenAddress, amounts, receivers, ...zeroSlots, isCrypto })

test('price helpers: free, crypto, native, ERC20 and fiat shapes; amounts as decimal strings', () => {
  assert.equal(ZeroAddress, '0x' + '0'.repeat(40))
  assert.deepEqual(getFreePriceConfig(), price(ZeroAddress, [], [], true))
  for (const amount of [5n, 5, '5', '005']) {
    assert.deepEqual(getCryptoPriceConfig(amount, RECEIVER), price(ZeroAddress, ['5'], [RECEIVER], true))
    assert.deepEqual(getCryptoPriceConfig(amount, RECEIVER, USDC), price(USDC, ['5'], [RECEIVER], true))
    assert.deepEqual(getNativeTokenPriceConfig(amount, RECEIVER), price(ZeroAddress, ['5'], [RECEIVER], true))
    assert.deepEqual(getERC20PriceConfig(amount, USDC, RECEIVER), price(USDC, ['5'], [RECEIVER], true))
  }
  const dollars = 10n ** 6n
  assert.deepEqual(getFiatPriceConfig(dollars, RECEIVER), { ...price(ZeroAddress, [dollars.toString()], [RECEIVER], false), currency: 'USD' })
  assert.deepEqual(getFiatPriceConfig(dollars, RECEIVER, 'EUR'), { ...price(ZeroAddress, [dollars.toString()], [RECEIVER], false), currency: 'EUR' }, 'the currency is sent, not ignored')
  assert.deepEqual(nvm.getEURCPriceConfig(29_000_000n, RECEIVER), { ...price('0x60a3E35Cc302bFA44Cb288Bc5a4F316Fdb1adb42', ['29000000'], [RECEIVER], true), currency: 'EURC' })
  const huge = 2n ** 255n
  assert.deepEqual(getCryptoPriceConfig(huge, RECEIVER).amounts, [huge.toString()])
})

test('price helpers: bad addresses and amounts are validation errors', async () => {
  for (const call of [
    () => getCryptoPriceConfig(1n, '0x123'),
    () => getCryptoPriceConfig(1n, RECEIVER, 'usdc'),
    () => getNativeTokenPriceConfig(1n, 'not an address'),
    () => getERC20PriceConfig(1n, RECEIVER, '0xzz34567890abcdef1234567890ABCDEF12345678'),
    () => getFiatPriceConfig(1n, undefined),
    () => getFiatPriceConfig(-1, RECEIVER),
    () => getCryptoPriceConfig(2 ** 53 + 1, RECEIVER),
    () => getCryptoPriceConfig(undefined, RECEIVER),
    () => getCryptoPriceConfig(1.5, RECEIVER),
  ]) {
    await paymentsError(call, { code: 'validation' })
  }
})

// redemptionType 4 (ONLY_SUBSCRIBER), as payments-py's and the TS SDK's helpers send.
const credits = (fixed, durationSecs, amount, minAmount, maxAmount) => ({ isRedemptionAmountFixed: fixed, redemptionType: 4, onchainMirror: false, durationSecs, amount, minAmount, maxAmount })

test('credits helpers: fixed, dynamic, expirable and non-expirable shapes', () => {
  assert.deepEqual(getFixedCreditsConfig(100n, 2n), credits(true, '0', '100', '2', '2'))
  assert.deepEqual(getFixedCreditsConfig('100'), credits(true, '0', '100', '1', '1'))
  assert.deepEqual(getDynamicCreditsConfig(100, 1, 5), credits(false, '0', '100', '1', '5'))
  assert.deepEqual(getDynamicCreditsConfig(100n), credits(false, '0', '100', '1', '1'))
  for (const duration of [ONE_DAY_DURATION, ONE_WEEK_DURATION, ONE_MONTH_DURATION, ONE_YEAR_DURATION]) {
    assert.equal(typeof duration, 'bigint')
    assert.deepEqual(getExpirableDurationConfig(duration), credits(false, duration.toString(), '1', '1', '1'))
  }
  assert.deepEqual([ONE_DAY_DURATION, ONE_WEEK_DURATION], [86_400n, 7n * 86_400n])
  assert.deepEqual(getNonExpirableDurationConfig(), credits(false, '0', '1', '1', '1'))
  assert.throws(() => getFixedCreditsConfig(), { name: 'PaymentsError', code: 'validation', message: /creditsGranted/ })
  assert.throws(() => getExpirableDurationConfig('a day'), { name: 'PaymentsError', code: 'validation', message: /durationOfPlan/ })
})

test('plans.* carries the same helpers as the top-level exports', async (t) => {
  const backend = await backendFor(t)
  const plans = clientFor(backend).plans
  for (const name of ['getFreePriceConfig', 'getCryptoPriceConfig', 'getNativeTokenPriceConfig', 'getERC20PriceConfig', 'getFiatPriceConfig', 'getEURCPriceConfig', 'getFixedCreditsConfig', 'getDynamicCreditsConfig', 'getExpirableDurationConfig', 'getNonExpirableDurationConfig']) {
    assert.equal(plans[name], nvm[name], name)
  }
})

// ---- registration ------------------------------------------------------------

async function registerBackend(t, answer = { planId: '4242' }) {
  const backend = await backendFor(t)
  backend.respond('POST', PLANS, { json: answer })
  return backend
}

/** The body registration must send (nonce taken from what was sent: it is random). */
const registration = (sent, metadataAttributes, priceConfig, creditsConfig, isTrialPlan, accessLimit) => ({
  metadataAttributes,
  priceConfig,
  creditsConfig,
  nonce: sent.json.nonce,
  isTrialPlan,
  accessLimit,
  ...(priceConfig.currency ? { currency: priceConfig.currency } : {}), // repeated at the top level, as both SDKs do
})

test('register*Plan: helper output registers unchanged, with accessLimit, isTrialPlan and a random numeric nonce', async (t) => {
  const backend = await registerBackend(t)
  const payments = clientFor(backend)
  const metadata = { name: 'Plan', description: 'd', tags: ['a'] }
  const cryptoPrice = getERC20PriceConfig(20n, USDC, RECEIVER)
  const fixed = getFixedCreditsConfig(100n, 1n)
  const week = getExpirableDurationConfig(ONE_WEEK_DURATION)
  const cases = [
    ['registerCreditsPlan', fixed, false, 'credits'],
    ['registerTimePlan', week, false, 'time'],
    ['registerCreditsTrialPlan', fixed, true, 'credits'],
    ['registerTimeTrialPlan', week, true, 'time'],
  ]
  for (const [method, creditsConfig, trial, accessLimit] of cases) {
    backend.requests.length = 0
    assert.deepEqual(await payments.plans[method](metadata, cryptoPrice, creditsConfig), { planId: '4242' }, method)
    const sent = backend.requests[0]
    const metadataAttributes = trial ? { ...metadata, isTrialPlan: true } : metadata
    assertRequests(backend, [{ method: 'POST', url: PLANS, body: registration(sent, metadataAttributes, cryptoPrice, creditsConfig, trial, accessLimit) }])
    assert.match(sent.json.nonce, /^\d+$/, 'the nonce is a decimal string')
  }
  const nonces = new Set()
  for (let i = 0; i < 8; i++) {
    await payments.plans.registerCreditsPlan(metadata, getFreePriceConfig(), fixed)
    nonces.add(backend.last().json.nonce)
  }
  assert.equal(nonces.size, 8, 'every registration has its own nonce')
  // 128 random bits, as both official SDKs: 8 draws below 2^64 would have odds of 2^-512.
  assert.ok([...nonces].some((n) => BigInt(n) >= 2n ** 64n), 'nonces are wider than 64 bits')
  assert.ok([...nonces].every((n) => BigInt(n) < 2n ** 128n))
})

test('registerPlan: accessLimit given or implied by the credits config (a duration means time)', async (t) => {
  const backend = await registerBackend(t)
  const payments = clientFor(backend)
  const free = getFreePriceConfig()
  await payments.plans.registerPlan({ name: 'A' }, free, getFixedCreditsConfig(10n))
  await payments.plans.registerPlan({ name: 'B' }, free, getExpirableDurationConfig(ONE_DAY_DURATION))
  await payments.plans.registerPlan({ name: 'C' }, free, getNonExpirableDurationConfig(), 'time')
  await payments.plans.registerPlan({ name: 'D', isTrialPlan: true }, free, getFixedCreditsConfig(10n), 'credits')
  assert.deepEqual(
    backend.requests.map((r) => [r.json.metadataAttributes.name, r.json.accessLimit, r.json.isTrialPlan]),
    [['A', 'credits', false], ['B', 'time', false], ['C', 'time', false], ['D', 'credits', true]],
  )
  await paymentsError(payments.plans.registerPlan({ name: 'E' }, free, getFixedCreditsConfig(10n), 'forever'), { code: 'validation', message: /accessLimit/ })
  assert.equal(backend.requests.length, 4)
})

test("registerPlan: the official (nonce?, accessLimit?) order; the caller's nonce is sent as given", async (t) => {
  const backend = await registerBackend(t)
  const plans = clientFor(backend).plans
  const free = getFreePriceConfig()
  await plans.registerPlan({ name: 'A' }, free, getNonExpirableDurationConfig(), undefined, 'time')
  await plans.registerPlan({ name: 'B' }, free, getFixedCreditsConfig(10n), 2n ** 100n)
  await plans.registerPlan({ name: 'C' }, free, getFixedCreditsConfig(10n), '77', 'credits')
  const sent = backend.requests.map((r) => [r.json.metadataAttributes.name, r.json.accessLimit])
  assert.deepEqual(sent, [['A', 'time'], ['B', 'credits'], ['C', 'credits']])
  // The nonce: the caller's as a decimal string, else 128 random bits.
  assert.equal(backend.requests[1].json.nonce, (2n ** 100n).toString())
  assert.equal(backend.requests[2].json.nonce, '77')
  assert.ok(BigInt(backend.requests[0].json.nonce) < 2n ** 128n)
  await paymentsError(plans.registerPlan({ name: 'D' }, free, getFixedCreditsConfig(10n), undefined, 'forever'), { code: 'validation', message: /accessLimit/ })
  await paymentsError(plans.registerPlan({ name: 'E' }, free, getFixedCreditsConfig(10n), -1), { code: 'validation' })
  assert.equal(backend.requests.length, 3)
})

test('registerPlan: hand-written configs are normalised (amounts to strings, zero-address slots, wire order, extra fields kept)', async (t) => {
  const backend = await registerBackend(t, { data: { planId: 99 } })
  const result = await clientFor(backend).plans.registerPlan(
    { name: 'Fiat', extraMeta: 1 },
    { amounts: [2_000_000n], receivers: [RECEIVER], isCrypto: false, currency: 'USD', vendor: 'x' },
    { amount: 10, minAmount: '1', maxAmount: 2n, proofRequired: false },
  )
  assert.deepEqual(result, { planId: '99' })
  const sent = backend.last()
  assert.deepEqual(
    sent.body,
    JSON.stringify(
      registration(
        sent,
        { name: 'Fiat', extraMeta: 1 },
        { tokenAddress: ZeroAddress, amounts: ['2000000'], receivers: [RECEIVER], ...zeroSlots, isCrypto: false, currency: 'USD', vendor: 'x' },
        { isRedemptionAmountFixed: false, redemptionType: 4, onchainMirror: false, durationSecs: '0', amount: '10', minAmount: '1', maxAmount: '2', proofRequired: false },
        false,
        'credits',
      ),
    ),
  )
})

test('registerPlan: validation errors are raised before sending', async (t) => {
  const backend = await registerBackend(t)
  const plans = clientFor(backend).plans
  const free = getFreePriceConfig()
  const fixed = getFixedCreditsConfig(10n)
  const cases = [
    [{}, free, fixed, /name/],
    [{ name: '  ' }, free, fixed, /name/],
    ['Plan', free, fixed, /planMetadata/],
    [{ name: 'P' }, { amounts: [1], receivers: [] }, fixed, /same length/],
    [{ name: 'P' }, { amounts: [1], receivers: ['nope'] }, fixed, /not a valid Ethereum address/],
    [{ name: 'P' }, { amounts: [-5], receivers: [RECEIVER] }, fixed, /amounts/],
    [{ name: 'P' }, { amounts: [2 ** 53 + 1], receivers: [RECEIVER] }, fixed, /amounts/],
    [{ name: 'P' }, { ...free, tokenAddress: 'usdc' }, fixed, /tokenAddress/],
    [{ name: 'P' }, free, { ...fixed, amount: '0' }, /at least 1/],
    [{ name: 'P' }, free, { ...fixed, minAmount: '5', maxAmount: '2' }, /minAmount/],
    [{ name: 'P' }, free, { ...fixed, redemptionType: 7 }, /redemptionType/],
    [{ name: 'P' }, free, null, /creditsConfig/],
    [{ name: 'P' }, null, fixed, /priceConfig/],
  ]
  for (const [metadata, priceConfig, creditsConfig, message] of cases) {
    await paymentsError(plans.registerPlan(metadata, priceConfig, creditsConfig), { code: 'validation', message })
  }
  await paymentsError(plans.registerCreditsTrialPlan({ name: 'P' }, free, { ...fixed, amount: 0 }), { code: 'validation', message: /at least 1/ })
  assert.equal(backend.requests.length, 0)
})

test('registerTimePlan: a time plan needs no credits amount', async (t) => {
  const backend = await registerBackend(t)
  await clientFor(backend).plans.registerTimePlan({ name: 'T' }, getFreePriceConfig(), { durationSecs: ONE_DAY_DURATION })
  assert.deepEqual(backend.last().json.creditsConfig, { isRedemptionAmountFixed: false, redemptionType: 4, onchainMirror: false, durationSecs: ONE_DAY_DURATION.toString(), amount: '0', minAmount: '1', maxAmount: '1' })
  assert.equal(backend.last().json.accessLimit, 'time')
})

// ---- the calls the official SDK has that we lacked (#23) ---------------------------

test('getAgentsAssociatedToAPlan: public GET .../plans/:id/agents with the TS SDK pagination; the answer as sent', async (t) => {
  const backend = await backendFor(t)
  const answer = { total: 1, page: 1, offset: 10, agents: [{ id: 'a-1', name: 'A' }] }
  backend.respond('GET', `${PLANS}/${BIG_PLAN_ID}/agents`, { json: answer })
  const plans = clientFor(backend).plans
  assert.deepEqual(await plans.getAgentsAssociatedToAPlan(BIG_PLAN_ID), answer)
  await plans.getAgentsAssociatedToAPlan(BIG_PLAN_ID, { page: 2, offset: 5, sortBy: 'name', sortOrder: 'asc' })
  assertRequests(backend, [
    { method: 'GET', url: `${PLANS}/${BIG_PLAN_ID}/agents?sortOrder=desc&page=1&pageSize=10`, key: null },
    { method: 'GET', url: `${PLANS}/${BIG_PLAN_ID}/agents?sortBy=name&sortOrder=asc&page=2&pageSize=5`, key: null },
  ])
  await paymentsError(plans.getAgentsAssociatedToAPlan(' '), { code: 'validation', message: /planId/ })
  await paymentsError(plans.getAgentsAssociatedToAPlan('1', { sortOrder: 'up' }), { code: 'validation', message: /sortOrder/ })
  assert.equal(backend.requests.length, 2)
  backend.respond('GET', `${PLANS}/9/agents`, { status: 404, json: { code: 'BCK.PROTOCOL.0900', message: 'Plan 9 not found', httpStatus: 404 } })
  await paymentsError(plans.getAgentsAssociatedToAPlan('9'), { code: 'BCK.PROTOCOL.0900', httpStatus: 404 })
})
