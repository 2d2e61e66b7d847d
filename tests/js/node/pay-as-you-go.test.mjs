// Pay-as-you-go (issue #23). The helpers as the official SDK's unit tests
// assert them (nevermined-io/payments tests/unit/pay-as-you-go.test.ts), then
// the whole flow against a live nvm-local: a builder registers pay-as-you-go
// plans with the helpers (the template from `GET /`), an agent's paywall sells
// them, and a subscriber pays each request by crypto (an erc4337 allowance) and
// by card (a card delegation): one charge of the price per request, receipts
// with billingModel 'pay-as-you-go', creditsRedeemed "0" and orderTx, and the
// delegation's budget down by exactly the price. The money cap (maxPriceCents)
// refuses a plan above it before anything is minted.
import test from 'node:test'
import assert from 'node:assert/strict'
import { Payments, PlanRedemptionType, ZeroAddress, decodePaymentHeader, getFiatPriceConfig, getPayAsYouGoCreditsConfig, getPayAsYouGoPriceConfig } from 'nvm-x402'
import { Payments as AgentPayments } from 'nvm-x402/agent'
import { NVM_LOCAL_BUILT, assertRequests, backendFor, clientFor, liveAccount, liveBackendFor } from '../support/nvm.mjs'

const receiver = '0x75faf114eafb1BDbe2F0316DF893fd58CE46AA4d'
const templateAddress = '0x5e852077b30099106Aa65B4d329FFF9b5C9a8e7C'
const USDC = '0x036CbD53842c5426634e7929541eC2318f3dCF7e'

// ---- the official unit tests' assertions -------------------------------------------------

test('plan helpers require templateAddress and set defaults (the official unit test)', () => {
  assert.throws(() => getPayAsYouGoPriceConfig(100n, receiver), (e) => e.code === 'validation' && /^templateAddress is required\. Use ContractsAPI\.getPayAsYouGoTemplateAddress\(\) or Payments\.plans\.getPayAsYouGoPriceConfig\(\)$/.test(e.message))
  const priceConfig = getPayAsYouGoPriceConfig(100n, receiver, undefined, templateAddress)
  assert.equal(priceConfig.templateAddress, templateAddress)
  assert.equal(priceConfig.isCrypto, true)
  assert.deepEqual(priceConfig.amounts, ['100'], 'amounts as decimal strings (the official: bigints)')
  assert.deepEqual(priceConfig.receivers, [receiver])
  assert.equal(priceConfig.tokenAddress, ZeroAddress)

  const credits = getPayAsYouGoCreditsConfig()
  assert.equal(credits.isRedemptionAmountFixed, false)
  assert.equal(credits.redemptionType, PlanRedemptionType.ONLY_SUBSCRIBER)
  assert.equal(credits.durationSecs, '0')
  assert.equal(credits.amount, '1')
  assert.deepEqual([credits.minAmount, credits.maxAmount, credits.onchainMirror], ['1', '1', false])
})

test('the receiver is checked before the template, as the official does; addresses are checked', () => {
  for (const template of [undefined, templateAddress]) {
    assert.throws(() => getPayAsYouGoPriceConfig(100n, '0x12', undefined, template), (e) => e.code === 'validation' && /^Receiver address "0x12" is not a valid Ethereum address/.test(e.message))
  }
  assert.throws(() => getPayAsYouGoPriceConfig(100n, receiver, undefined, 'not-an-address'), (e) => e.code === 'validation' && /Template address/.test(e.message))
  assert.equal(getPayAsYouGoPriceConfig(5n, receiver, USDC, templateAddress).tokenAddress, USDC)
})

test('PlansAPI builds pay-as-you-go configs using the contracts API (the official unit test)', async (t) => {
  const backend = await backendFor(t)
  backend.respond('GET', '/', { json: { deployment: { contracts: { PayAsYouGoTemplate: templateAddress } } } })
  const payments = clientFor(backend)
  const priceConfig = await payments.plans.getPayAsYouGoPriceConfig(200n, receiver)
  assert.equal(priceConfig.templateAddress, templateAddress)
  assert.ok(priceConfig.tokenAddress !== undefined)
  assert.deepEqual(priceConfig.amounts, ['200'])
  const credits = payments.plans.getPayAsYouGoCreditsConfig()
  assert.equal(credits.redemptionType, PlanRedemptionType.ONLY_SUBSCRIBER)
  assert.equal(await payments.contracts.getPayAsYouGoTemplateAddress(), templateAddress)
  // One public GET / for both (the deployment is read once per instance, as the official SDK's).
  assertRequests(backend, [{ method: 'GET', url: '/', key: null }])
  backend.respond('GET', '/', { json: { deployment: { contracts: {} } } })
  await assert.rejects(clientFor(backend).plans.getPayAsYouGoPriceConfig(200n, receiver), (e) => e.code === 'invalid_response' && e.message === 'Contract address not found for PayAsYouGoTemplate')
})

// ---- end to end against nvm-local -------------------------------------------------------

const live = (name, fn) => test(name, { skip: !NVM_LOCAL_BUILT && 'nvm-local is not built (scripts/build.sh --all)' }, fn)
const ORIGIN = 'http://127.0.0.1:8787'

/**
 * A builder with two pay-as-you-go plans (25 cents in USDC; $1.00 by card) on an agent whose
 * paywall sells them (POST /tasks and POST /card), and a subscriber whose client reaches that
 * paywall in-process (everything else goes to nvm-local) and counts its mints.
 */
async function world(t) {
  const backend = await liveBackendFor(t)
  const builder = await liveAccount(backend, `payg-builder-${process.pid}`)
  const subscriber = await liveAccount(backend, `payg-subscriber-${process.pid}`)
  const template = await builder.payments.contracts.getPayAsYouGoTemplateAddress()
  const { contracts } = await builder.payments.contracts.getDeploymentInfo()
  assert.equal(template, contracts.PayAsYouGoTemplate)
  const cryptoPrice = await builder.payments.plans.getPayAsYouGoPriceConfig(250_000n, builder.address, USDC)
  assert.equal(cryptoPrice.templateAddress, template)
  const { planId: crypto } = await builder.payments.plans.registerCreditsPlan({ name: 'PAYG in USDC' }, cryptoPrice, builder.payments.plans.getPayAsYouGoCreditsConfig())
  const cardPrice = { ...getFiatPriceConfig(1_000_000n, builder.address), templateAddress: template }
  const { planId: card } = await builder.payments.plans.registerCreditsPlan({ name: 'PAYG by card' }, cardPrice, getPayAsYouGoCreditsConfig())
  const { agentId } = await builder.payments.agents.registerAgent({ name: 'PAYG agent' }, { endpoints: [{ POST: `${ORIGIN}/tasks` }, { POST: `${ORIGIN}/card` }] }, [crypto, card])
  const served = []
  const gate = AgentPayments.getInstance({ nvmApiKey: builder.apiKey, backendUrl: backend.url }).paywall({
    agentId,
    routes: { 'POST /tasks': { planId: crypto }, 'POST /card': { planId: card } },
    onAfterSettle: (_request, _credits, settlement) => served.push(settlement),
  })
  const mints = []
  const fetch = async (input, init) => {
    const request = new Request(input, init)
    if (request.url.endsWith('/api/v1/x402/permissions')) mints.push(request.url)
    return request.url.startsWith(ORIGIN) ? gate.handle(request, () => new Response('paid work')) : globalThis.fetch(request)
  }
  const payer = Payments.getInstance({ nvmApiKey: subscriber.apiKey, backendUrl: backend.url, fetch })
  return { backend, builder, subscriber, payer, crypto, card, template, mints, served }
}

async function spentOf(payer, delegationId) {
  const { delegations } = await payer.delegation.listDelegations()
  const d = delegations.find((x) => x.delegationId === delegationId)
  return { spent: Number(d.amountSpentCents), left: Number(d.remainingBudgetCents), count: Number(d.transactionCount) }
}

function assertCharged(paymentResponse, network) {
  assert.equal(paymentResponse.success, true)
  assert.equal(paymentResponse.billingModel, 'pay-as-you-go')
  assert.equal(paymentResponse.creditsRedeemed, '0', 'no credits: one direct charge')
  assert.equal(paymentResponse.network, network)
  assert.match(paymentResponse.orderTx, /^0x[0-9a-f]{64}$/)
  assert.match(paymentResponse.transaction, /^0x[0-9a-f]{64}$/)
}

live('a registered pay-as-you-go plan reads back with the deployment template; ordering it grants no credits', async (t) => {
  const { builder, subscriber, crypto, template } = await world(t)
  const plan = await builder.payments.plans.getPlan(crypto)
  assert.equal(plan.registry.price.templateAddress.toLowerCase(), template.toLowerCase())
  assert.notEqual(plan.registry.price.templateAddress, ZeroAddress)
  const ordered = await subscriber.payments.plans.orderPlan(crypto)
  assert.equal(ordered.success, true)
  assert.equal((await subscriber.payments.plans.getPlanBalance(crypto)).balance, '0')
})

live('crypto: each request is one charge of the price to the erc4337 allowance, without an order', async (t) => {
  const { payer, crypto, served } = await world(t)
  const { delegationId } = await payer.delegation.createDelegation({ provider: 'erc4337', spendingLimitCents: 100, durationSecs: 3600 })
  const options = { planIds: [crypto], maxPriceCents: 25, tokenOptions: { delegationConfig: { delegationId } } }
  const orders = new Set()
  for (let n = 1; n <= 4; n++) {
    const { response, paymentResponse } = await payer.fetch(`${ORIGIN}/tasks`, { method: 'POST', body: '{}' }, options)
    assert.equal(response.status, 200)
    assert.equal(await response.text(), 'paid work')
    assertCharged(paymentResponse, 'eip155:84532')
    // The HTTP paywall's receipt header is the settle answer: billingModel and orderTx included.
    assert.deepEqual(decodePaymentHeader(response.headers.get('payment-response')), paymentResponse)
    assert.deepEqual(served.at(-1), paymentResponse)
    orders.add(paymentResponse.orderTx)
    assert.deepEqual(await spentOf(payer, delegationId), { spent: 25 * n, left: 100 - 25 * n, count: n })
  }
  assert.equal(orders.size, 4, 'each charge its own order')
  // The allowance is spent: refused (402), nothing charged, nothing delivered.
  const { response } = await payer.fetch(`${ORIGIN}/tasks`, { method: 'POST', body: '{}' }, options)
  assert.equal(response.status, 402)
  assert.notEqual(await response.text(), 'paid work')
  assert.deepEqual(await spentOf(payer, delegationId), { spent: 100, left: 0, count: 4 })
})

live('card: each request is one charge of the price to the card delegation, without a checkout', async (t) => {
  const { payer, card } = await world(t)
  const [method] = await payer.delegation.listPaymentMethods({ provider: 'stripe' })
  const { delegationId } = await payer.delegation.createDelegation({ provider: 'stripe', providerPaymentMethodId: method.id, spendingLimitCents: 250, durationSecs: 3600 })
  const options = { planIds: [card], maxPriceCents: 100, tokenOptions: { delegationConfig: { delegationId } } }
  for (let n = 1; n <= 2; n++) {
    const { response, paymentResponse } = await payer.fetch(`${ORIGIN}/card`, { method: 'POST', body: '{}' }, options)
    assert.equal(response.status, 200)
    assertCharged(paymentResponse, 'stripe')
    assert.deepEqual(await spentOf(payer, delegationId), { spent: 100 * n, left: 250 - 100 * n, count: n })
  }
  const { response } = await payer.fetch(`${ORIGIN}/card`, { method: 'POST', body: '{}' }, options)
  assert.equal(response.status, 402, '50 cents left: less than the price')
  assert.deepEqual(await spentOf(payer, delegationId), { spent: 200, left: 50, count: 2 })
})

live('the money cap refuses a pay-as-you-go plan above it before any mint; maxCredits alone is no money cap', async (t) => {
  const { payer, crypto, card, mints } = await world(t)
  const attempts = [
    [`${ORIGIN}/tasks`, { planIds: [crypto], maxPriceCents: 24 }, /Plan \d+ charges 25 cents per request, more than maxPriceCents \(24\)/],
    [`${ORIGIN}/card`, { planIds: [card], maxPriceCents: 99 }, /charges 100 cents per request, more than maxPriceCents \(99\)/],
    [`${ORIGIN}/tasks`, { planIds: [crypto], maxCredits: 5 }, /is pay-as-you-go: pass maxPriceCents \(maxCredits is no money cap\)/],
    [`${ORIGIN}/card`, { planIds: [card], maxCredits: 1, eager: false }, /maxCredits is no money cap/],
  ]
  for (const [url, options, message] of attempts) {
    await assert.rejects(payer.fetch(url, { method: 'POST', body: '{}' }, options), (e) => e.code === 'max_price_exceeded' && message.test(e.message) && /maxPriceCents/.test(e.hint))
  }
  await assert.rejects(payer.queryAgent({ agentUrl: `${ORIGIN}/tasks`, prompt: 'hi', planId: crypto, maxPriceCents: 10 }), (e) => e.code === 'max_price_exceeded')
  assert.deepEqual(mints, [], 'nothing minted')
  const { delegations } = await payer.delegation.listDelegations()
  assert.deepEqual(delegations, [], 'no delegation made either')
})
