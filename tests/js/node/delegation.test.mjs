// delegation.*: createDelegation, listDelegations, listPaymentMethods, getPurchasingPower, updatePaymentMethod.
import test from 'node:test'
import assert from 'node:assert/strict'
import { assertRequests, backendFor, clientFor, paymentsError } from '../support/nvm.mjs'

const CREATE = '/api/v1/delegation/create'
const LIST = '/api/v1/delegation'
const METHODS = '/api/v1/payment-methods'

test('createDelegation: every field, in spec order; the answer returned', async (t) => {
  const backend = await backendFor(t)
  const answer = { delegationId: 'del-1', delegationToken: 'dtok' }
  backend.respond('POST', CREATE, { json: answer })
  const result = await clientFor(backend).delegation.createDelegation({
    apiKeyId: 'key-1',
    maxTransactions: 5n,
    merchantAccountId: 'acct_1',
    planId: 123n,
    currency: 'EUR',
    durationSecs: '3600',
    spendingLimitCents: 1000,
    providerPaymentMethodId: 'pm_1',
    provider: 'Stripe',
  })
  assert.deepEqual(result, answer)
  assertRequests(backend, [
    {
      method: 'POST',
      url: CREATE,
      body: '{"provider":"stripe","providerPaymentMethodId":"pm_1","spendingLimitCents":1000,"durationSecs":3600,"currency":"eur","planId":"123","merchantAccountId":"acct_1","maxTransactions":5,"apiKeyId":"key-1"}',
    },
  ])
})

test('createDelegation: currency defaults to usd for cards and usdc for erc4337', async (t) => {
  const backend = await backendFor(t)
  backend.respond('POST', CREATE, { json: { delegationId: 'd' } })
  const payments = clientFor(backend)
  for (const provider of ['stripe', 'braintree', 'visa']) {
    await payments.delegation.createDelegation({ provider, providerPaymentMethodId: 'pm', spendingLimitCents: 1, durationSecs: 2 })
    assert.equal(backend.last().body, `{"provider":"${provider}","providerPaymentMethodId":"pm","spendingLimitCents":1,"durationSecs":2,"currency":"usd"}`)
  }
  await payments.delegation.createDelegation({ provider: 'erc4337', spendingLimitCents: 1000, durationSecs: 3600 })
  assert.equal(backend.last().body, '{"provider":"erc4337","spendingLimitCents":1000,"durationSecs":3600,"currency":"usdc"}')
})

test('createDelegation: validation errors are raised before sending', async (t) => {
  const backend = await backendFor(t)
  const delegation = clientFor(backend).delegation
  const ok = { provider: 'erc4337', spendingLimitCents: 1, durationSecs: 1 }
  const cases = [
    [{ ...ok, provider: 'paypal' }, /provider/],
    [{ ...ok, provider: undefined }, /provider/],
    [{ ...ok, provider: 'stripe' }, /providerPaymentMethodId/],
    [{ ...ok, provider: 'visa', providerPaymentMethodId: '  ' }, /providerPaymentMethodId/],
    [{ ...ok, spendingLimitCents: 0 }, /spendingLimitCents/],
    [{ ...ok, spendingLimitCents: undefined }, /spendingLimitCents/],
    [{ ...ok, spendingLimitCents: -5 }, /spendingLimitCents/],
    [{ ...ok, durationSecs: undefined }, /durationSecs/],
    [{ ...ok, durationSecs: 1.5 }, /durationSecs/],
    [{ ...ok, currency: 'btc' }, /currency/],
    [{ ...ok, maxTransactions: 0 }, /maxTransactions/],
    [{ ...ok, spendingLimitCents: 2n ** 64n }, /spendingLimitCents/],
    [null, /createDelegation/],
    ['stripe', /createDelegation/],
  ]
  for (const [payload, message] of cases) {
    await paymentsError(delegation.createDelegation(payload), { code: 'validation', message })
  }
  assert.equal(backend.requests.length, 0)
})

test('createDelegation: an answer without delegationId is invalid_response', async (t) => {
  const backend = await backendFor(t)
  backend.respond('POST', CREATE, { json: { id: 'd' } })
  await paymentsError(clientFor(backend).delegation.createDelegation({ provider: 'erc4337', spendingLimitCents: 1, durationSecs: 1 }), { code: 'invalid_response', message: /delegationId/ })
})

const DELEGATION = { delegationId: 'd1', provider: 'erc4337', providerPaymentMethodId: null, status: 'Active', spendingLimitCents: 1000, amountSpentCents: 10, remainingBudgetCents: 990, currency: 'usdc', transactionCount: 1, expiresAt: '2030-01-01T00:00:00Z', createdAt: '2025-01-01T00:00:00Z', apiKeyId: null }

test('listDelegations: the paged object is returned as sent; accessible adds ?accessible=true', async (t) => {
  const backend = await backendFor(t)
  const paged = { delegations: [DELEGATION], totalResults: 11, page: 2, offset: 10 }
  backend.respond('GET', LIST, { json: paged })
  const payments = clientFor(backend)
  assert.deepEqual(await payments.delegation.listDelegations(), paged)
  assert.deepEqual(await payments.delegation.listDelegations({ accessible: true }), paged)
  await payments.delegation.listDelegations({ accessible: false })
  assertRequests(backend, [
    { method: 'GET', url: LIST },
    { method: 'GET', url: `${LIST}?accessible=true` },
    { method: 'GET', url: LIST },
  ])
})

test('listDelegations: a bare array is normalised to the paged shape', async (t) => {
  const backend = await backendFor(t)
  const items = [DELEGATION, { ...DELEGATION, delegationId: 'd2' }]
  backend.respond('GET', LIST, { json: items })
  assert.deepEqual(await clientFor(backend).delegation.listDelegations(), { delegations: items, totalResults: items.length, page: 1, offset: items.length })
  backend.respond('GET', LIST, { json: [] })
  assert.deepEqual((await clientFor(backend).delegation.listDelegations()).delegations, [])
})

test('listDelegations: an answer that is not a list is invalid_response', async (t) => {
  const backend = await backendFor(t)
  backend.respond('GET', LIST, { json: 'nope' })
  await paymentsError(clientFor(backend).delegation.listDelegations(), { code: 'invalid_response' })
  backend.respond('GET', LIST, { json: { delegations: 'nope' } })
  await paymentsError(clientFor(backend).delegation.listDelegations(), { code: 'invalid_response' })
})

test('listPaymentMethods: filters in the query; the list returned', async (t) => {
  const backend = await backendFor(t)
  const methods = [
    { id: 'pm_1', type: 'card', brand: 'visa', last4: '4242', expMonth: 12, expYear: 2030, alias: 'work', provider: 'stripe', status: 'active' },
    { id: '0xwallet', type: 'crypto_wallet', brand: 'ethereum' },
  ]
  backend.respond('GET', METHODS, { json: methods })
  const payments = clientFor(backend)
  assert.deepEqual(await payments.delegation.listPaymentMethods(), methods)
  await payments.delegation.listPaymentMethods({ accessible: true })
  await payments.delegation.listPaymentMethods({ provider: 'stripe' })
  await payments.delegation.listPaymentMethods({ accessible: true, provider: 'braintree' })
  await payments.delegation.listPaymentMethods({ accessible: false, provider: '' })
  assertRequests(backend, [
    { method: 'GET', url: METHODS },
    { method: 'GET', url: `${METHODS}?accessible=true` },
    { method: 'GET', url: `${METHODS}?provider=stripe` },
    { method: 'GET', url: `${METHODS}?accessible=true&provider=braintree` },
    { method: 'GET', url: METHODS },
  ])
})

test('listPaymentMethods: wrapped lists are unwrapped; bad filters are rejected before sending', async (t) => {
  const backend = await backendFor(t)
  const methods = [{ id: 'pm_1', type: 'card', brand: 'visa' }]
  const payments = clientFor(backend)
  for (const answer of [{ paymentMethods: methods }, { data: methods }]) {
    backend.respond('GET', METHODS, { json: answer })
    assert.deepEqual(await payments.delegation.listPaymentMethods(), methods)
  }
  backend.respond('GET', METHODS, { json: { x: 1 } })
  await paymentsError(payments.delegation.listPaymentMethods(), { code: 'invalid_response' })
  const sent = backend.requests.length
  await paymentsError(payments.delegation.listPaymentMethods({ accessible: 'yes' }), { code: 'validation' })
  await paymentsError(payments.delegation.listPaymentMethods({ provider: 5 }), { code: 'validation' })
  assert.equal(backend.requests.length, sent)
})

test('getPurchasingPower: the accessible cards and delegations, their remainingBudgetCents added up, the first one\'s currency', async (t) => {
  const backend = await backendFor(t)
  const cards = [{ id: 'pm_1', type: 'card', brand: 'visa', last4: '4242' }]
  const delegations = [
    { delegationId: 'd-1', remainingBudgetCents: '1250', currency: 'eur' },
    { delegationId: 'd-2', remainingBudgetCents: 300, currency: 'usd' },
    { delegationId: 'd-3', remainingBudgetCents: 'n/a' },
  ]
  backend.respond('GET', METHODS, { json: cards })
  backend.respond('GET', '/api/v1/delegation', { json: { delegations, totalResults: 3, page: 1, offset: 10 } })
  const payments = clientFor(backend)
  assert.deepEqual(await payments.delegation.getPurchasingPower(), { cards, delegations, totalRemainingBudgetCents: 1550, currency: 'eur' })
  assertRequests(backend, [
    { method: 'GET', url: `${METHODS}?accessible=true` },
    { method: 'GET', url: '/api/v1/delegation?accessible=true' },
  ])
  // Nothing to spend: no delegations, usd.
  backend.respond('GET', '/api/v1/delegation', { json: [] })
  backend.respond('GET', METHODS, { json: [] })
  assert.deepEqual(await payments.delegation.getPurchasingPower(), { cards: [], delegations: [], totalRemainingBudgetCents: 0, currency: 'usd' })
  // Either call refused: the whole answer is the refusal (never a partial power).
  backend.respond('GET', '/api/v1/delegation', { status: 503, json: { message: 'down' } })
  await paymentsError(payments.delegation.getPurchasingPower(), { httpStatus: 503 })
})

test('updatePaymentMethod: PATCH payment-methods/:id {alias?, allowedApiKeyIds?} (null lifts the limit); bad options never sent', async (t) => {
  const backend = await backendFor(t)
  const updated = { id: 'pm_1', type: 'card', brand: 'visa', alias: 'work' }
  backend.respond('PATCH', `${METHODS}/pm_1`, { json: updated })
  backend.respond('PATCH', `${METHODS}/pm%201%2Fx`, { json: updated })
  const delegation = clientFor(backend).delegation
  assert.deepEqual(await delegation.updatePaymentMethod('pm_1', { alias: 'work' }), updated)
  await delegation.updatePaymentMethod('pm_1', { allowedApiKeyIds: ['key-1', 'key-2'] })
  await delegation.updatePaymentMethod('pm_1', { alias: 'home', allowedApiKeyIds: null })
  await delegation.updatePaymentMethod('pm 1/x', {})
  assertRequests(backend, [
    { method: 'PATCH', url: `${METHODS}/pm_1`, body: { alias: 'work' } },
    { method: 'PATCH', url: `${METHODS}/pm_1`, body: { allowedApiKeyIds: ['key-1', 'key-2'] } },
    { method: 'PATCH', url: `${METHODS}/pm_1`, body: { alias: 'home', allowedApiKeyIds: null } },
    { method: 'PATCH', url: `${METHODS}/pm%201%2Fx`, body: {} },
  ])
  for (const [id, dto, message] of [
    ['', { alias: 'x' }, /paymentMethodId/],
    ['pm_1', { allowedApiKeyIds: 'key-1' }, /allowedApiKeyIds/],
    ['pm_1', { allowedApiKeyIds: [''] }, /allowedApiKeyIds/],
    ['pm_1', { alias: 7 }, /alias/],
    ['pm_1', 'alias', /dto/],
  ]) {
    await paymentsError(delegation.updatePaymentMethod(id, dto), { code: 'validation', message })
  }
  assert.equal(backend.requests.length, 4)
})
