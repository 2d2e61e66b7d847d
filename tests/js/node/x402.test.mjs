// x402.getX402AccessToken (mint) and resolveScheme against a recording backend.
import test from 'node:test'
import assert from 'node:assert/strict'
import { resolveScheme } from 'nvm-x402'
import { assertRequest, assertRequests, backendFor, clientFor, makeKey, paymentsError } from '../support/nvm.mjs'

const MINT = '/api/v1/x402/permissions'
const mintRequest = (body, key) => ({ method: 'POST', url: MINT, body, ...(key ? { key } : {}) })

// x402-http.md / backend-api.md "Schemes and networks".
const ERC4337_NETWORK = { sandbox: 'eip155:84532', 'sandbox-staging': 'eip155:84532', local: 'eip155:84532', live: 'eip155:8453', 'live-staging': 'eip155:8453' }

async function mintBackend(t, answer = { accessToken: 'minted-token', expiresAt: '2030-01-01T00:00:00Z' }) {
  const backend = await backendFor(t)
  backend.respond('POST', MINT, { json: answer })
  return backend
}

test('mint: the spec wire example, byte for byte, and the whole answer returned', async (t) => {
  const answer = { accessToken: 'minted-token', expiresAt: '2030-01-01T00:00:00Z', extra: { n: 1 } }
  const backend = await mintBackend(t, answer)
  const key = makeKey('sandbox')
  const payments = clientFor(backend, { nvmApiKey: key })
  const result = await payments.x402.getX402AccessToken('123', 'agent-1', { delegationConfig: { delegationId: 'del-uuid' } })
  assert.deepEqual(result, answer)
  assertRequests(backend, [
    mintRequest('{"accepted":{"scheme":"nvm:erc4337","network":"eip155:84532","planId":"123","extra":{"agentId":"agent-1"}},"delegationConfig":{"delegationId":"del-uuid"}}', key),
  ])
})

test('mint: no agentId sends "extra":{}', async (t) => {
  const backend = await mintBackend(t)
  const payments = clientFor(backend)
  for (const agentId of [undefined, null, '', '  ']) {
    await payments.x402.getX402AccessToken('123', agentId, { delegationConfig: { delegationId: 'del-uuid' } })
  }
  assert.equal(backend.requests.length, 4)
  for (const request of backend.requests) {
    assertRequest(request, mintRequest('{"accepted":{"scheme":"nvm:erc4337","network":"eip155:84532","planId":"123","extra":{}},"delegationConfig":{"delegationId":"del-uuid"}}'))
  }
})

test('mint: planId and agentId given as numbers or bigints travel as strings', async (t) => {
  const backend = await mintBackend(t)
  const big = 2n ** 200n
  await clientFor(backend).x402.getX402AccessToken(big, 77, { delegationConfig: { delegationId: 'd' } })
  assert.deepEqual(backend.last().json.accepted, { scheme: 'nvm:erc4337', network: 'eip155:84532', planId: big.toString(), extra: { agentId: '77' } })
})

test('mint: the nvm:erc4337 network follows the environment (live -> eip155:8453)', async (t) => {
  const backend = await mintBackend(t)
  for (const [prefix, network] of Object.entries(ERC4337_NETWORK)) {
    await clientFor(backend, { nvmApiKey: makeKey(prefix) }).x402.getX402AccessToken('1', undefined, { delegationConfig: { delegationId: 'd' } })
    assert.deepEqual(backend.last().json.accepted, { scheme: 'nvm:erc4337', network, planId: '1', extra: {} }, prefix)
  }
  await clientFor(backend, { nvmApiKey: makeKey('acme') }).x402.getX402AccessToken('1', undefined, { delegationConfig: { delegationId: 'd' } })
  assert.equal(backend.last().json.accepted.network, 'eip155:84532', 'custom')
})

test('mint: nvm:card-delegation defaults to stripe in every environment; an explicit network wins', async (t) => {
  const backend = await mintBackend(t)
  for (const prefix of Object.keys(ERC4337_NETWORK)) {
    const payments = clientFor(backend, { nvmApiKey: makeKey(prefix) })
    await payments.x402.getX402AccessToken('1', 'a', { scheme: 'nvm:card-delegation', delegationConfig: { delegationId: 'd' } })
    assert.deepEqual(backend.last().json.accepted, { scheme: 'nvm:card-delegation', network: 'stripe', planId: '1', extra: { agentId: 'a' } }, prefix)
  }
  const payments = clientFor(backend, { nvmApiKey: makeKey('live') })
  for (const network of ['braintree', 'visa']) {
    await payments.x402.getX402AccessToken('1', undefined, { scheme: 'nvm:card-delegation', network, delegationConfig: { delegationId: 'd' } })
    assert.equal(backend.last().json.accepted.network, network)
  }
  await payments.x402.getX402AccessToken('1', undefined, { network: 'eip155:1', delegationConfig: { delegationId: 'd' } })
  assert.equal(backend.last().json.accepted.network, 'eip155:1')
})

test('mint: no delegationConfig is an error naming the scheme, and nothing is sent', async (t) => {
  const backend = await mintBackend(t)
  const payments = clientFor(backend)
  for (const scheme of [undefined, 'nvm:erc4337', 'nvm:card-delegation']) {
    const named = scheme ?? 'nvm:erc4337'
    for (const options of [{ scheme }, { scheme, delegationConfig: null }, { scheme, delegationConfig: undefined }]) {
      const error = await paymentsError(payments.x402.getX402AccessToken('1', 'a', options), { code: 'validation' })
      assert.ok(error.message.startsWith(`delegationConfig is required for ${named} token generation`), error.message)
    }
  }
  for (const options of [undefined, null, {}]) {
    const error = await paymentsError(payments.x402.getX402AccessToken('1', 'a', options), { code: 'validation' })
    assert.ok(error.message.startsWith('delegationConfig is required for nvm:erc4337 token generation'), error.message)
  }
  // Two arguments (the official SDK's signature allows it): the same error, and what to do names createDelegation.
  const error = await paymentsError(payments.x402.getX402AccessToken('1', 'a'), { code: 'validation', message: /delegationConfig is required/ })
  assert.match(error.message, /createDelegation/)
  assert.match(error.hint, /createDelegation/)
  assert.equal(backend.requests.length, 0)
})

test('mint: an empty or blank delegationId is the official SDK\'s error; one that is not a string is a validation error too; nothing is sent', async (t) => {
  const backend = await mintBackend(t)
  const payments = clientFor(backend)
  for (const delegationConfig of [{ delegationId: '' }, { delegationId: '   ' }, { delegationId: '\t\n' }]) {
    const error = await paymentsError(payments.x402.getX402AccessToken('1', 'a', { scheme: 'nvm:card-delegation', delegationConfig }), { code: 'validation' })
    assert.equal(error.message, 'delegationConfig.delegationId must not be an empty string. Pass a valid delegation UUID or omit the field.')
    assert.match(error.hint, /createDelegation/)
  }
  await paymentsError(payments.x402.getX402AccessToken('1', 'a', { delegationConfig: { delegationId: 5 } }), { code: 'validation' })
  await paymentsError(payments.x402.getX402AccessToken('1', 'a', { delegationConfig: 'del-uuid' }), { code: 'validation' })
  assert.equal(backend.requests.length, 0)
})

test('mint: a delegationConfig without delegationId or creation fields ({}, { apiKeyId }) is sent for the backend to judge, without a warning', async (t) => {
  // The official SDK forwards them (its "bare delegationConfig" and "apiKeyId-only" tests); the backend answers.
  const backend = await mintBackend(t, { accessToken: 'tok.bare' })
  const warn = t.mock.method(console, 'warn', () => {})
  const payments = clientFor(backend)
  for (const delegationConfig of [{}, { apiKeyId: 'key-1' }, { currency: 'usd' }]) {
    const answer = await payments.x402.getX402AccessToken('plan-1', 'agent-1', { scheme: 'nvm:card-delegation', delegationConfig })
    assert.equal(answer.accessToken, 'tok.bare')
    assert.deepEqual(backend.last().json.delegationConfig, delegationConfig)
    assert.equal(backend.last().url, MINT)
  }
  assert.equal(warn.mock.callCount(), 0)
  // The backend's refusal passes through with its code; the message ends with the status, as the official SDK's.
  backend.respond('POST', MINT, { status: 400, json: { code: 'BCK.X402.0030', message: 'Required token-generation input is missing or incomplete', httpStatus: 400 } })
  const error = await paymentsError(payments.x402.getX402AccessToken('plan-1', 'agent-1', { delegationConfig: {} }), { code: 'BCK.X402.0030', httpStatus: 400 })
  assert.equal(error.message, 'Required token-generation input is missing or incomplete (HTTP 400)')
  assert.match(error.hint, /createDelegation/)
})

test('mint: delegationConfig.apiKeyId is sent along', async (t) => {
  const backend = await mintBackend(t)
  await clientFor(backend).x402.getX402AccessToken('1', undefined, { delegationConfig: { delegationId: 'd', apiKeyId: 'key-1' } })
  assert.equal(backend.last().body, '{"accepted":{"scheme":"nvm:erc4337","network":"eip155:84532","planId":"1","extra":{}},"delegationConfig":{"delegationId":"d","apiKeyId":"key-1"}}')
})

// The official SDK's create-first deprecation tests (tests/unit/x402-token-deprecation.test.ts).
const OFFICIAL_WARNING = '[DEPRECATED] delegationConfig: inline create-on-the-fly delegationConfig (no delegationId) is deprecated and will be removed in a future release. Create the delegation first with payments.delegation.createDelegation(), then request the token with delegationConfig: { delegationId }.'
const deprecations = (warn) => warn.mock.calls.map((c) => String(c.arguments[0])).filter((m) => m.includes('[DEPRECATED]'))

test('mint: inline create-on-the-fly fields without a delegationId warn with the official text, once per call, and the call goes on', async (t) => {
  const backend = await mintBackend(t, { accessToken: 'tok.inline' })
  const warn = t.mock.method(console, 'warn', () => {})
  const payments = clientFor(backend)
  const inline = { spendingLimitCents: 10000n, durationSecs: '604800', providerPaymentMethodId: 'pm_1', cardId: 'card_1', currency: 'usd' }
  const answer = await payments.x402.getX402AccessToken('plan-1', 'agent-1', { scheme: 'nvm:card-delegation', delegationConfig: inline })
  assert.equal(answer.accessToken, 'tok.inline')
  assert.deepEqual(deprecations(warn), [OFFICIAL_WARNING])
  assert.deepEqual(backend.requests[0].json.delegationConfig, { spendingLimitCents: 10000, durationSecs: 604800, providerPaymentMethodId: 'pm_1', cardId: 'card_1', currency: 'usd' })
  // Each creation field alone triggers it, on every call (not once per instance).
  for (const delegationConfig of [{ spendingLimitCents: 5 }, { durationSecs: 3600 }, { providerPaymentMethodId: 'pm_123' }, { cardId: 'card-uuid' }]) {
    await payments.x402.getX402AccessToken('plan-1', 'agent-1', { delegationConfig })
  }
  assert.equal(deprecations(warn).length, 5)
  assert.equal(backend.requests.length, 5)
})

test('mint: a delegationId (with apiKeyId, or with leftover inline fields), or currency alone, does not warn', async (t) => {
  const backend = await mintBackend(t)
  const warn = t.mock.method(console, 'warn', () => {})
  const payments = clientFor(backend)
  for (const delegationConfig of [
    { delegationId: 'del-uuid-1' },
    { delegationId: 'del-uuid-1', apiKeyId: 'key-1' },
    { delegationId: 'del-1', spendingLimitCents: 1000, durationSecs: 3600, currency: 'usd' },
    { currency: 'eur' },
  ]) {
    await payments.x402.getX402AccessToken('plan-1', 'agent-1', { scheme: 'nvm:card-delegation', delegationConfig })
  }
  assert.equal(deprecations(warn).length, 0)
  assert.equal(backend.requests.length, 4)
})

test('mint: no delegationConfig throws and does not warn', async (t) => {
  const backend = await mintBackend(t)
  const warn = t.mock.method(console, 'warn', () => {})
  await paymentsError(clientFor(backend).x402.getX402AccessToken('plan-1', 'agent-1', { scheme: 'nvm:erc4337' }), { message: /delegationConfig is required/ })
  await paymentsError(clientFor(backend).x402.getX402AccessToken('plan-1', 'agent-1', { delegationConfig: { delegationId: '   ' } }), { message: /delegationId must not be an empty string/ })
  assert.equal(deprecations(warn).length, 0)
  assert.equal(backend.requests.length, 0)
})

test('mint: tokenVersion 2 and 3 are sent; anything else is rejected before sending', async (t) => {
  const backend = await mintBackend(t)
  const payments = clientFor(backend)
  for (const tokenVersion of [2, 3]) {
    await payments.x402.getX402AccessToken('1', 'a', { delegationConfig: { delegationId: 'd' }, tokenVersion })
    assert.equal(backend.last().body, `{"accepted":{"scheme":"nvm:erc4337","network":"eip155:84532","planId":"1","extra":{"agentId":"a"}},"delegationConfig":{"delegationId":"d"},"tokenVersion":${tokenVersion}}`)
  }
  const sent = backend.requests.length
  for (const tokenVersion of [4, 1, 0, '3', 2.5, true]) {
    const error = await paymentsError(payments.x402.getX402AccessToken('1', 'a', { delegationConfig: { delegationId: 'd' }, tokenVersion }), { code: 'validation' })
    assert.match(error.message, /tokenVersion must be 2 or 3/)
  }
  assert.equal(backend.requests.length, sent)
})

test('mint: resource and httpVerb (v3 binding) are sent; httpVerb upper-cased', async (t) => {
  const backend = await mintBackend(t)
  const resource = { url: 'https://agent.example/tasks', description: 'tasks', mimeType: 'application/json' }
  await clientFor(backend).x402.getX402AccessToken('9', 'ag', { tokenVersion: 3, httpVerb: 'post', resource, delegationConfig: { delegationId: 'd' } })
  assertRequests(backend, [
    mintRequest({
      accepted: { scheme: 'nvm:erc4337', network: 'eip155:84532', planId: '9', extra: { agentId: 'ag', httpVerb: 'POST' } },
      delegationConfig: { delegationId: 'd' },
      resource,
      tokenVersion: 3,
    }),
  ])
})

test('mint: a resource without url, or of the wrong type, is rejected before sending', async (t) => {
  const backend = await mintBackend(t)
  const payments = clientFor(backend)
  for (const resource of [{}, { description: 'x' }, 'https://agent.example/', [1]]) {
    await paymentsError(payments.x402.getX402AccessToken('1', 'a', { resource, delegationConfig: { delegationId: 'd' } }), { code: 'validation' })
  }
  assert.equal(backend.requests.length, 0)
})

test('mint: a missing or blank planId is rejected before sending', async (t) => {
  const backend = await mintBackend(t)
  const payments = clientFor(backend)
  for (const planId of [undefined, null, '', '  ']) {
    await paymentsError(payments.x402.getX402AccessToken(planId, 'a', { delegationConfig: { delegationId: 'd' } }), { code: 'validation', message: /planId/ })
  }
  await paymentsError(payments.x402.getX402AccessToken({ id: 1 }, 'a', { delegationConfig: { delegationId: 'd' } }), { code: 'validation', message: /planId/ })
  assert.equal(backend.requests.length, 0)
})

// ---- resolveScheme -----------------------------------------------------------

const PLAN = (id) => `/api/v1/protocol/plans/${id}`

test('resolveScheme: a fiat plan is nvm:card-delegation on its provider; cached (no second request)', async (t) => {
  const backend = await backendFor(t)
  backend.respond('GET', PLAN('fiat-1'), { json: { id: 'fiat-1', metadata: { main: { name: 'Fiat' }, plan: { fiatPaymentProvider: 'braintree' } }, registry: { price: { isCrypto: false } } } })
  const payments = clientFor(backend)
  const expected = { scheme: 'nvm:card-delegation', network: 'braintree' }
  assert.deepEqual(await resolveScheme(payments, 'fiat-1'), expected)
  assert.deepEqual(await resolveScheme(payments, 'fiat-1'), expected)
  assert.deepEqual(await payments.resolveScheme('fiat-1'), expected)
  assertRequests(backend, [{ method: 'GET', url: PLAN('fiat-1'), key: null }])
})

test('resolveScheme: a fiat plan without a provider is stripe; a crypto or unspecified plan is nvm:erc4337 on the environment\'s network', async (t) => {
  const backend = await backendFor(t)
  backend.respond('GET', PLAN('fiat-2'), { json: { registry: { price: { isCrypto: false } } } })
  backend.respond('GET', PLAN('crypto'), { json: { registry: { price: { isCrypto: true } } } })
  backend.respond('GET', PLAN('bare'), { json: { id: 'bare' } })
  const payments = clientFor(backend, { nvmApiKey: makeKey('live') })
  assert.deepEqual(await resolveScheme(payments, 'fiat-2'), { scheme: 'nvm:card-delegation', network: 'stripe' })
  assert.deepEqual(await resolveScheme(payments, 'crypto'), { scheme: 'nvm:erc4337', network: ERC4337_NETWORK.live })
  assert.deepEqual(await resolveScheme(payments, 'bare'), { scheme: 'nvm:erc4337', network: ERC4337_NETWORK.live })
  const sandbox = clientFor(backend, { nvmApiKey: makeKey('sandbox') })
  assert.deepEqual(await resolveScheme(sandbox, 'crypto'), { scheme: 'nvm:erc4337', network: ERC4337_NETWORK.sandbox })
  assert.deepEqual(
    backend.requests.map((r) => r.url),
    ['fiat-2', 'crypto', 'bare', 'crypto'].map(PLAN),
    'one request per plan and instance (the cache is per instance)',
  )
})

test('resolveScheme: a failed lookup is not cached', async (t) => {
  const backend = await backendFor(t)
  backend.respond('GET', PLAN('p'), { status: 502, body: '<html>Bad gateway</html>', headers: { 'content-type': 'text/html' } })
  const payments = clientFor(backend)
  await paymentsError(resolveScheme(payments, 'p'), { code: 'http_502' })
  backend.respond('GET', PLAN('p'), { json: { registry: { price: { isCrypto: false } } } })
  assert.deepEqual(await resolveScheme(payments, 'p'), { scheme: 'nvm:card-delegation', network: 'stripe' })
  assert.equal(backend.requests.length, 2)
})

test('resolveScheme: the first argument must be a Payments instance; planId is required', async (t) => {
  const backend = await backendFor(t)
  for (const notPayments of [undefined, null, {}, { resolveScheme: async () => ({}) }]) {
    await paymentsError(resolveScheme(notPayments, '1'), { code: 'validation', message: /Payments instance/ })
  }
  await paymentsError(resolveScheme(clientFor(backend), ''), { code: 'validation', message: /planId/ })
  assert.equal(backend.requests.length, 0)
})
