// The package's JS API against a live nvm-local (not recorded answers): the
// builder and subscriber flows end to end, and the error paths a real backend
// produces. Each test gets its own in-memory nvm-local and fresh accounts.
import test from 'node:test'
import assert from 'node:assert/strict'
import {
  Payments,
  ONE_DAY_DURATION,
  buildPaymentRequired,
  decodeAccessToken,
  encodeAccessToken,
  getExpirableDurationConfig,
  getFiatPriceConfig,
  getDynamicCreditsConfig,
  getFixedCreditsConfig,
  getFreePriceConfig,
  resolveScheme,
} from 'nvm-x402'
import { NVM_LOCAL_BUILT, assertNoSecrets, assertSaidOnce, liveAccount, liveBackendFor, makeKey, paymentsError } from '../support/nvm.mjs'

const skip = !NVM_LOCAL_BUILT && 'target/release/nvm-local is not built (scripts/build.sh --all)'
const live = (name, fn) => test(name, { skip }, fn)

const AGENT_URL = 'http://127.0.0.1:8787/tasks'
const GRANTED = 10n
const PER_REQUEST = 2n

/** A builder with a free credits plan and an agent on it, and a subscriber who ordered it and holds a delegation. */
async function world(t, { credits = getFixedCreditsConfig(GRANTED, PER_REQUEST), order = true } = {}) {
  const backend = await liveBackendFor(t)
  const builder = await liveAccount(backend, 'builder-1')
  const subscriber = await liveAccount(backend, 'subscriber-1')
  const { planId } = await builder.payments.plans.registerCreditsPlan({ name: 'Credits plan', description: 'live test' }, getFreePriceConfig(), credits)
  const { agentId } = await builder.payments.agents.registerAgent({ name: 'Live agent' }, { endpoints: [{ POST: AGENT_URL }] }, [planId])
  if (order) await subscriber.payments.plans.orderPlan(planId)
  const { delegationId } = await subscriber.payments.delegation.createDelegation({ provider: 'erc4337', spendingLimitCents: 1000, durationSecs: 3600 })
  const paymentRequired = buildPaymentRequired(planId, { endpoint: AGENT_URL, agentId, httpVerb: 'POST' })
  const mint = (options = {}) => subscriber.payments.x402.getX402AccessToken(planId, agentId, { delegationConfig: { delegationId }, ...options })
  return { backend, builder, subscriber, planId, agentId, delegationId, paymentRequired, mint }
}

live('builder: register a plan and an agent; both read back through the public lookups', async (t) => {
  const { builder, planId, agentId } = await world(t, { order: false })
  assert.match(planId, /^\d+$/, 'a uint256 plan id as a decimal string')
  const plan = await builder.payments.plans.getPlan(planId)
  assert.equal(plan.id, planId)
  assert.equal(plan.metadata.main.name, 'Credits plan')
  assert.equal(plan.registry.price.isCrypto, true)
  assert.deepEqual(
    [plan.registry.credits.amount, plan.registry.credits.minAmount, plan.registry.credits.maxAmount],
    [GRANTED, PER_REQUEST, PER_REQUEST].map(String),
  )
  const mine = await builder.payments.plans.getPlans()
  assert.ok(mine.plans.some((p) => p.id === planId), 'getPlans lists it')
  const agent = await builder.payments.agents.getAgent(agentId)
  assert.equal(agent.id, agentId)
  const agentPlans = await builder.payments.agents.getAgentPlans(agentId)
  assert.deepEqual(agentPlans.plans.map((p) => p.planId ?? p.id), [planId])
  assert.deepEqual(await resolveScheme(builder.payments, planId), { scheme: 'nvm:erc4337', network: 'eip155:84532' })
})

live('subscriber: order, delegate, mint; agent: verify (consumes nothing), startProcessingRequest, settle', async (t) => {
  const { builder, subscriber, planId, agentId, delegationId, paymentRequired, mint } = await world(t, { order: false })
  const before = await subscriber.payments.plans.getPlanBalance(planId)
  assert.deepEqual([before.balance, before.isSubscriber], ['0', false])
  const order = await subscriber.payments.plans.orderPlan(planId)
  assert.equal(order.success, true)
  assert.deepEqual([order.alreadySubscribed, order.balanceBefore], [false, '0'])
  const ordered = await subscriber.payments.plans.getPlanBalance(planId)
  assert.deepEqual([ordered.planId, ordered.balance, ordered.isSubscriber, ordered.holderAddress], [planId, String(GRANTED), true, subscriber.address])

  const delegations = await subscriber.payments.delegation.listDelegations()
  assert.ok(delegations.delegations.some((d) => d.delegationId === delegationId))
  assert.equal(delegations.totalResults, delegations.delegations.length)
  const methods = await subscriber.payments.delegation.listPaymentMethods()
  assert.deepEqual(methods.map((m) => m.type).sort(), ['card', 'crypto_wallet'])
  assert.deepEqual(await subscriber.payments.delegation.listPaymentMethods({ provider: 'stripe' }), methods.filter((m) => m.provider === 'stripe'))

  const { accessToken } = await mint()
  const decoded = decodeAccessToken(accessToken)
  assert.deepEqual(decoded.accepted, { scheme: 'nvm:erc4337', network: 'eip155:84532', planId, extra: { version: '1', agentId } })
  assert.equal(decoded.payload.authorization.from, subscriber.address)
  assert.equal(decoded.payload.authorization.nonce, undefined, 'a v2 token has no nonce')

  const verified = await builder.payments.facilitator.verifyPermissions({ paymentRequired, x402AccessToken: accessToken, maxAmount: PER_REQUEST })
  assert.equal(verified.isValid, true, verified.invalidReason)
  assert.equal(verified.payer, subscriber.address)
  assert.equal(verified.agentRequest.balance.balance, String(GRANTED))
  assert.equal((await subscriber.payments.plans.getPlanBalance(planId)).balance, String(GRANTED), 'verify consumed nothing')

  const started = await builder.payments.requests.startProcessingRequest(agentId, accessToken, AGENT_URL, 'POST', { credits: PER_REQUEST })
  assert.equal(started.isValid, true, started.invalidReason)
  assert.equal(started.planId, planId)
  assert.deepEqual(started.paymentRequired, paymentRequired)
  assert.deepEqual([started.balance.balance, started.balance.isSubscriber], [String(GRANTED), true])
  assert.ok(started.agentRequestId)

  // A v2 token is reusable: settle it twice.
  let remaining = GRANTED
  for (let i = 0; i < 2; i++) {
    const settled = await builder.payments.facilitator.settlePermissions({ paymentRequired, x402AccessToken: accessToken, maxAmount: PER_REQUEST, agentRequestId: started.agentRequestId })
    remaining -= PER_REQUEST
    assert.equal(settled.success, true, settled.errorReason)
    assert.deepEqual([settled.creditsRedeemed, settled.remainingBalance, settled.payer], [String(PER_REQUEST), String(remaining), subscriber.address])
    assert.ok(settled.transaction)
  }
  assert.equal((await subscriber.payments.plans.getPlanBalance(planId)).balance, String(remaining))
  // maxAmount "0" means the plan's default credits per request.
  const byDefault = await builder.payments.facilitator.settlePermissions({ paymentRequired, x402AccessToken: accessToken, maxAmount: 0 })
  assert.deepEqual([byDefault.creditsRedeemed, byDefault.remainingBalance], [String(PER_REQUEST), String(remaining - PER_REQUEST)])
})

live('a padded standard-base64 re-encoding of a token is still valid', async (t) => {
  // A token whose length is a multiple of 4 and whose JSON yields no '-'/'_' reads the same in
  // every encoding; a new world (fresh random plan and agent ids) changes its length.
  let setup, accessToken, padded
  for (let attempt = 0; attempt < 8 && padded === accessToken; attempt++) {
    setup = await world(t)
    ;({ accessToken } = await setup.mint())
    padded = Buffer.from(accessToken, 'base64url').toString('base64')
  }
  assert.notEqual(padded, accessToken, 'found a token with a distinct padded standard-base64 form')
  const { builder, paymentRequired } = setup
  const verified = await builder.payments.facilitator.verifyPermissions({ paymentRequired, x402AccessToken: padded, maxAmount: 1n })
  assert.equal(verified.isValid, true, verified.invalidReason)
})

live('a forged token: verify says no, settle is BCK.X402.0005', async (t) => {
  const { builder, subscriber, paymentRequired, mint } = await world(t)
  const { accessToken } = await mint()
  const token = decodeAccessToken(accessToken)
  token.payload.authorization.from = builder.address
  const forged = encodeAccessToken(token)
  const verified = await builder.payments.facilitator.verifyPermissions({ paymentRequired, x402AccessToken: forged, maxAmount: 1n })
  assert.equal(verified.isValid, false)
  assert.ok(verified.invalidReason)
  const error = await paymentsError(builder.payments.facilitator.settlePermissions({ paymentRequired, x402AccessToken: forged, maxAmount: 1n }), { code: 'BCK.X402.0005', httpStatus: 402 })
  assert.ok(error.hint)
  assertNoSecrets(error, forged, builder.apiKey, subscriber.apiKey)
  const started = await builder.payments.requests.startProcessingRequest(token.accepted.extra.agentId, forged, AGENT_URL, 'POST')
  assert.equal(started.isValid, false)
})

live('a v3 token is bound to its request and single-use: the second settle is BCK.X402.0059', async (t) => {
  const { builder, subscriber, paymentRequired, mint } = await world(t)
  const { accessToken } = await mint({ tokenVersion: 3, resource: { url: AGENT_URL }, httpVerb: 'post' })
  const decoded = decodeAccessToken(accessToken)
  assert.match(decoded.payload.authorization.nonce, /.+/)
  assert.equal(decoded.accepted.extra.httpVerb, 'POST')
  const first = await builder.payments.facilitator.settlePermissions({ paymentRequired, x402AccessToken: accessToken, maxAmount: 1n })
  assert.equal(first.success, true, first.errorReason)
  const error = await paymentsError(builder.payments.facilitator.settlePermissions({ paymentRequired, x402AccessToken: accessToken, maxAmount: 1n }), { code: 'BCK.X402.0059' })
  assert.ok(error.hint)
  assertNoSecrets(error, accessToken, builder.apiKey, subscriber.apiKey)
})

live('a bad API key is BCK.APIKEY.0004 (401) on authenticated calls; public calls need no key', async (t) => {
  const { backend, builder, planId } = await world(t, { order: false })
  const stranger = makeKey('local')
  const edited = builder.apiKey.replace(/\.([^.]+)\./, (_, payload) => `.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url')), sub: '0x' + '00'.repeat(20) })).toString('base64url')}.`)
  for (const nvmApiKey of [stranger, edited]) {
    const payments = Payments.getInstance({ nvmApiKey, backendUrl: backend.url })
    const error = await paymentsError(payments.plans.getPlans(), { code: 'BCK.APIKEY.0004', httpStatus: 401, retryable: false })
    assert.ok(error.hint)
    assertNoSecrets(error, nvmApiKey)
    await paymentsError(payments.plans.orderPlan(planId), { code: 'BCK.APIKEY.0004' })
    assert.equal((await payments.plans.getPlan(planId)).id, planId, 'a public lookup sends no key')
  }
})

live('too few credits: verify is isValid:false, settle is success:false (values, not exceptions)', async (t) => {
  // A range plan whose terms allow a request to cost more than one order grants.
  const { builder, paymentRequired, mint } = await world(t, { credits: getDynamicCreditsConfig(GRANTED, 1n, GRANTED * 2n) })
  const { accessToken } = await mint()
  const tooMuch = GRANTED + 1n
  const verified = await builder.payments.facilitator.verifyPermissions({ paymentRequired, x402AccessToken: accessToken, maxAmount: tooMuch })
  assert.equal(verified.isValid, false)
  assert.ok(verified.invalidReason)
  const settled = await builder.payments.facilitator.settlePermissions({ paymentRequired, x402AccessToken: accessToken, maxAmount: tooMuch })
  assert.equal(settled.success, false)
  assert.ok(settled.errorReason)
  assert.equal(settled.transaction, '')
  assert.equal(settled.remainingBalance, String(GRANTED))
})

live('an expired delegation is BCK.X402.0013 at mint and at settle', async (t) => {
  const { backend, builder, subscriber, planId, agentId, paymentRequired } = await world(t)
  const { delegationId } = await subscriber.payments.delegation.createDelegation({ provider: 'erc4337', spendingLimitCents: 100, durationSecs: 60 })
  const { accessToken } = await subscriber.payments.x402.getX402AccessToken(planId, agentId, { delegationConfig: { delegationId } })
  const advanced = await fetch(`${backend.url}local/v1/clock/advance`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ seconds: 120 }) })
  assert.equal(advanced.status, 200)
  await paymentsError(builder.payments.facilitator.settlePermissions({ paymentRequired, x402AccessToken: accessToken, maxAmount: 1n }), { code: 'BCK.X402.0013' })
  const error = await paymentsError(subscriber.payments.x402.getX402AccessToken(planId, agentId, { delegationConfig: { delegationId } }), { code: 'BCK.X402.0013' })
  assertSaidOnce(error.message)
})

live('mint: no delegationConfig never reaches the backend; an unknown delegation is the backend\'s error', async (t) => {
  const { subscriber, planId, agentId } = await world(t)
  await paymentsError(subscriber.payments.x402.getX402AccessToken(planId, agentId, {}), { code: 'validation', message: /delegationConfig is required for nvm:erc4337/ })
  const error = await paymentsError(subscriber.payments.x402.getX402AccessToken(planId, agentId, { delegationConfig: { delegationId: '00000000-0000-0000-0000-000000000000' } }))
  assert.match(error.code, /^BCK\./)
  assert.equal(error.httpStatus >= 400 && error.httpStatus < 500, true)
})

live('only the plan or agent owner may settle: a subscriber burning its own credits is refused', async (t) => {
  const { subscriber, paymentRequired, mint } = await world(t)
  const { accessToken } = await mint()
  const error = await paymentsError(subscriber.payments.facilitator.settlePermissions({ paymentRequired, x402AccessToken: accessToken, maxAmount: 1n }))
  assert.match(error.code, /^BCK\./)
  assert.equal(error.httpStatus, 403)
})

live('fiat plans: card-delegation scheme, checkout link; ordering through /order and prices below $1 are refused', async (t) => {
  const backend = await liveBackendFor(t)
  const builder = await liveAccount(backend, 'builder-1')
  const subscriber = await liveAccount(backend, 'subscriber-1')
  const { planId } = await builder.payments.plans.registerCreditsPlan({ name: 'Fiat' }, getFiatPriceConfig(1_000_000n, builder.address), getFixedCreditsConfig(GRANTED))
  assert.deepEqual(await resolveScheme(subscriber.payments, planId), { scheme: 'nvm:card-delegation', network: 'stripe' })
  const checkout = await subscriber.payments.plans.orderFiatPlan(planId)
  assert.ok(checkout.result.stripeCheckoutSessionId)
  assert.ok(checkout.result.checkoutLink.startsWith(backend.url), checkout.result.checkoutLink)
  // orderPlan refuses a fiat plan before ordering (nvm-local would refuse it too), and what to do names orderFiatPlan.
  const error = await paymentsError(subscriber.payments.plans.orderPlan(planId), { code: 'validation' })
  assert.match(error.hint, /orderFiatPlan/)
  assert.equal((await subscriber.payments.plans.getPlanBalance(planId)).balance, '0', 'nothing bought')
  await paymentsError(builder.payments.plans.registerCreditsPlan({ name: 'Cheap' }, getFiatPriceConfig(999_999n, builder.address), getFixedCreditsConfig(GRANTED)), { code: 'BCK.PROTOCOL.0047', httpStatus: 400 })
  // The seeded demo world's fiat plan resolves the same way.
  assert.equal((await resolveScheme(subscriber.payments, backend.world.plans.fiat.planId)).scheme, backend.world.plans.fiat.scheme)
})

live('ordering a plan already held buys it again (as the official SDK) and says so: the answer and nvm-local\'s message', async (t) => {
  const { subscriber, planId } = await world(t)
  const again = await subscriber.payments.plans.orderPlan(planId)
  assert.deepEqual([again.success, again.alreadySubscribed, again.balanceBefore], [true, true, String(GRANTED)])
  assert.match(again.message, /ordered again/)
  assert.equal((await subscriber.payments.plans.getPlanBalance(planId)).balance, String(2n * GRANTED))
})

live('a trial plan can be ordered once per subscriber', async (t) => {
  const backend = await liveBackendFor(t)
  const builder = await liveAccount(backend, 'builder-1')
  const subscriber = await liveAccount(backend, 'subscriber-1')
  const { planId } = await builder.payments.plans.registerCreditsTrialPlan({ name: 'Trial' }, getFreePriceConfig(), getFixedCreditsConfig(GRANTED))
  assert.equal((await builder.payments.plans.getPlan(planId)).metadata.plan.isTrialPlan, true)
  assert.equal((await subscriber.payments.plans.orderPlan(planId)).success, true)
  const error = await paymentsError(subscriber.payments.plans.orderPlan(planId))
  assert.match(error.code, /^BCK\.PROTOCOL\./)
  assert.equal((await subscriber.payments.plans.getPlanBalance(planId)).balance, String(GRANTED), 'the refused order granted nothing')
})

live('registerAgentAndPlan and a time plan: ordering grants access, settling burns nothing', async (t) => {
  const backend = await liveBackendFor(t)
  const builder = await liveAccount(backend, 'builder-1')
  const subscriber = await liveAccount(backend, 'subscriber-1')
  const { agentId, planId } = await builder.payments.agents.registerAgentAndPlan({ name: 'Timed agent' }, { endpoints: [{ POST: AGENT_URL }] }, { name: 'Day pass' }, getFreePriceConfig(), getExpirableDurationConfig(ONE_DAY_DURATION))
  assert.deepEqual((await builder.payments.agents.getAgentPlans(agentId)).plans.map((p) => p.planId ?? p.id), [planId])
  assert.equal((await builder.payments.plans.getPlan(planId)).metadata.plan.accessLimit, 'time')
  await subscriber.payments.plans.orderPlan(planId)
  const { delegationId } = await subscriber.payments.delegation.createDelegation({ provider: 'erc4337', spendingLimitCents: 100, durationSecs: 600 })
  const { accessToken } = await subscriber.payments.x402.getX402AccessToken(planId, agentId, { delegationConfig: { delegationId } })
  const paymentRequired = buildPaymentRequired(planId, { endpoint: AGENT_URL, agentId, httpVerb: 'POST' })
  const settled = await builder.payments.facilitator.settlePermissions({ paymentRequired, x402AccessToken: accessToken, maxAmount: 1n })
  assert.equal(settled.success, true, settled.errorReason)
  assert.equal(settled.creditsRedeemed ?? '0', '0')
})

live('a request the agent did not register (wrong verb) is refused by verify', async (t) => {
  const { builder, planId, agentId, mint } = await world(t)
  const { accessToken } = await mint()
  const wrongVerb = buildPaymentRequired(planId, { endpoint: AGENT_URL, agentId, httpVerb: 'DELETE' })
  const verified = await builder.payments.facilitator.verifyPermissions({ paymentRequired: wrongVerb, x402AccessToken: accessToken, maxAmount: 1n })
  assert.equal(verified.isValid, false)
  assert.ok(verified.invalidReason)
})

live('the deprecated inline delegation fields still mint (a delegation is created on the fly), with the official warning on each call', async (t) => {
  const { builder, subscriber, planId, agentId, paymentRequired } = await world(t)
  const warn = t.mock.method(console, 'warn', () => {})
  const before = (await subscriber.payments.delegation.listDelegations({ accessible: true })).delegations.length
  for (let i = 0; i < 2; i++) {
    const { accessToken } = await subscriber.payments.x402.getX402AccessToken(planId, agentId, { delegationConfig: { spendingLimitCents: 100n, durationSecs: 60n } })
    const settled = await builder.payments.facilitator.settlePermissions({ paymentRequired, x402AccessToken: accessToken, maxAmount: 1n })
    assert.equal(settled.success, true, settled.errorReason)
  }
  assert.equal(warn.mock.calls.filter((c) => String(c.arguments[0]).startsWith('[DEPRECATED] delegationConfig')).length, 2)
  assert.equal((await subscriber.payments.delegation.listDelegations({ accessible: true })).delegations.length, before + 2)
  // {} names no delegation and asks for none: the backend's BCK.X402.0030, as the real backend answers.
  const bare = await paymentsError(subscriber.payments.x402.getX402AccessToken(planId, agentId, { delegationConfig: {} }), { code: 'BCK.X402.0030', httpStatus: 400, message: /\(HTTP 400\)$/ })
  assert.match(bare.hint, /delegation/)
  await paymentsError(subscriber.payments.x402.getX402AccessToken(planId, agentId, { delegationConfig: { apiKeyId: 'key-1' } }), { code: 'BCK.X402.0030' })
})

live("the builder's agents: listed, renamed, a plan added and removed (settling through the agent follows at once)", async (t) => {
  const { builder, subscriber, planId, agentId, paymentRequired, mint } = await world(t)
  const mine = await builder.payments.agents.getAgents()
  assert.deepEqual(mine.agents.map((a) => a.id), [agentId])
  assert.equal((await builder.payments.agents.getAgents(1, 100, 'name', 'asc')).total, 1)
  assert.deepEqual((await subscriber.payments.agents.getAgents()).agents, [], "another account's agents are not listed")
  assert.deepEqual((await builder.payments.plans.getAgentsAssociatedToAPlan(planId)).agents.map((a) => a.id), [agentId])

  const renamed = await builder.payments.agents.updateAgentMetadata(agentId, { name: 'Renamed agent' }, { endpoints: [{ POST: AGENT_URL }] })
  assert.equal(renamed.success, true)
  assert.equal((await builder.payments.agents.getAgent(agentId)).name, 'Renamed agent')
  await paymentsError(subscriber.payments.agents.updateAgentMetadata(agentId, { name: 'Mine now' }, undefined), { code: 'BCK.PROTOCOL.0910', httpStatus: 403 })
  await paymentsError(subscriber.payments.agents.removePlanFromAgent(planId, agentId), { code: 'BCK.PROTOCOL.0908', httpStatus: 403 })

  const { accessToken } = await mint()
  assert.equal((await builder.payments.agents.removePlanFromAgent(planId, agentId)).success, true)
  await paymentsError(builder.payments.facilitator.settlePermissions({ paymentRequired, x402AccessToken: accessToken, maxAmount: 1n }), { code: 'BCK.X402.0903' })
  assert.deepEqual((await builder.payments.plans.getAgentsAssociatedToAPlan(planId)).agents, [])
  await paymentsError(builder.payments.agents.removePlanFromAgent(planId, agentId), { code: 'BCK.PROTOCOL.0911', httpStatus: 404 })
  assert.equal((await builder.payments.agents.addPlanToAgent(planId, agentId)).success, true)
  const settled = await builder.payments.facilitator.settlePermissions({ paymentRequired, x402AccessToken: accessToken, maxAmount: 1n })
  assert.equal(settled.success, true, settled.errorReason)
})
