// The official SDK's surface around the client itself (#23), written from what
// its unit tests assert (nevermined-io/payments tests/unit/api-version.test.ts,
// environment-from-key-prefix.test.ts, payments.test.ts, currency.test.ts):
// the pinned backend API version and the `version` option, the `scheme`
// migration error, the environment helpers and the deprecation warning, the
// organization pin, and the exported constants and helpers. Every backend call
// goes to a recording server, so what reaches the wire is seen.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as client from 'nvm-x402'
import * as agent from 'nvm-x402/agent'
import * as mcp from 'nvm-x402/mcp'
import { API_VERSION_HEADER, Currency, EURC_TOKEN_ADDRESS, EURC_TOKEN_ADDRESS_TESTNET, LOCKED_API_VERSION, Payments, PlanRedemptionType, getEURCPriceConfig, getEnvironmentFromApiKey, getServiceHostFromEndpoints, isEthereumAddress } from 'nvm-x402'
import { KEY, backendFor } from '../support/nvm.mjs'

const JWT = KEY.slice(KEY.indexOf(':') + 1)
const keyWithPrefix = (prefix) => `${prefix}:${JWT}`

/** A client of a recording backend that answers every plan and payment-method read. */
async function recorded(t, options = {}) {
  const backend = await backendFor(t)
  backend.respond('GET', '/api/v1/protocol/plans/7', { json: { id: '7', registry: { price: { isCrypto: true } } } })
  backend.respond('GET', '/api/v1/payment-methods', { json: [] })
  const payments = Payments.getInstance({ nvmApiKey: KEY, backendUrl: backend.url, ...options })
  return { backend, payments }
}

test('LOCKED_API_VERSION and API_VERSION_HEADER are the official values, exported by every entry', () => {
  assert.equal(LOCKED_API_VERSION, '1.1')
  assert.equal(API_VERSION_HEADER, 'Nevermined-Version')
  for (const entry of [client, agent, mcp]) {
    assert.equal(entry.LOCKED_API_VERSION, LOCKED_API_VERSION)
    assert.equal(entry.API_VERSION_HEADER, API_VERSION_HEADER)
  }
})

test('every backend call, authenticated or public, carries the pinned version; options.version overrides it', async (t) => {
  const { backend, payments } = await recorded(t)
  await payments.plans.getPlan('7') // public
  await payments.delegation.listPaymentMethods() // authenticated
  const [plan, methods] = backend.requests
  assert.equal(plan.headers[API_VERSION_HEADER.toLowerCase()], LOCKED_API_VERSION)
  assert.equal(plan.headers.authorization, undefined, 'a public call sends no key')
  assert.equal(methods.headers[API_VERSION_HEADER.toLowerCase()], LOCKED_API_VERSION)
  assert.match(methods.headers.authorization, /^Bearer /)

  const { backend: other, payments: pinned } = await recorded(t, { version: '1.0' })
  await pinned.plans.getPlan('7')
  await pinned.delegation.listPaymentMethods()
  assert.deepEqual(other.requests.map((r) => r.headers['nevermined-version']), ['1.0', '1.0'])
})

test('options.version must be MAJOR.MINOR: others throw at construction, with the official message', () => {
  for (const version of ['1.0', '1.1', '2.10']) assert.doesNotThrow(() => Payments.getInstance({ nvmApiKey: KEY, version }), version)
  for (const version of ['1.0.0', 'v1.1', '1', '1.x', '', '.1', '1.']) {
    assert.throws(() => Payments.getInstance({ nvmApiKey: KEY, version }), (e) => e.code === 'validation' && /MAJOR\.MINOR/.test(e.message), JSON.stringify(version))
  }
})

test("scheme 'visa' throws the official migration error; 'nvm' is the default", () => {
  assert.throws(() => Payments.getInstance({ nvmApiKey: KEY, scheme: 'visa' }), (e) => e.code === 'validation' && /no longer supported.*provider:'visa' on createDelegation/.test(e.message))
  assert.doesNotThrow(() => Payments.getInstance({ nvmApiKey: KEY, scheme: 'nvm' }))
})

test('getEnvironmentFromApiKey maps key prefixes as the official SDK does (case-insensitive), undefined otherwise', () => {
  for (const [prefix, expected] of [['sandbox-staging', 'staging_sandbox'], ['live-staging', 'staging_live'], ['sandbox', 'sandbox'], ['live', 'live'], ['Sandbox-Staging', 'staging_sandbox'], ['LIVE', 'live']]) {
    assert.equal(getEnvironmentFromApiKey(keyWithPrefix(prefix)), expected, prefix)
  }
  assert.equal(getEnvironmentFromApiKey(JWT), undefined, 'a bare JWT')
  assert.equal(getEnvironmentFromApiKey(keyWithPrefix('unknown')), undefined)
  assert.equal(getEnvironmentFromApiKey(''), undefined)
  assert.equal(getEnvironmentFromApiKey(undefined), undefined)
  // This package's local environment (nvm-local) has a prefix of its own.
  assert.equal(getEnvironmentFromApiKey(keyWithPrefix('local')), 'local')
})

test('getEnvironmentName: the key prefix wins; the deprecated environment option warns once per process, naming the override', (t) => {
  const warnings = []
  t.mock.method(console, 'warn', (...args) => warnings.push(args.join(' ')))
  assert.equal(Payments.getInstance({ nvmApiKey: keyWithPrefix('sandbox-staging') }).getEnvironmentName(), 'staging_sandbox')
  assert.equal(warnings.length, 0, 'no option, no warning')
  const live = Payments.getInstance({ nvmApiKey: keyWithPrefix('live'), environment: 'sandbox' })
  assert.equal(live.getEnvironmentName(), 'live')
  assert.equal(live.environment, 'live')
  assert.equal(warnings.length, 1)
  assert.match(warnings[0], /^\[DEPRECATED\] The 'environment' option is deprecated; the environment is now derived from the NVM API key prefix\. It is ignored in favor of the environment derived from the API key \('live'\)\./)
  const custom = Payments.getInstance({ nvmApiKey: JWT, environment: 'custom', backendUrl: 'http://127.0.0.1:9' })
  assert.equal(custom.getEnvironmentName(), 'custom')
  assert.equal(warnings.length, 1, 'once per process')
  assert.equal(Payments.getInstance({ nvmApiKey: JWT, backendUrl: 'http://127.0.0.1:9' }).getEnvironmentName(), 'custom')
})

test('setOrganizationId pins X-Current-Org-Id on later calls; null clears it; getOrganizationId says which', async (t) => {
  const { backend, payments } = await recorded(t, { organizationId: 'org-first' })
  assert.equal(payments.getOrganizationId(), 'org-first')
  await payments.delegation.listPaymentMethods()
  payments.setOrganizationId('org-abc123')
  assert.equal(payments.getOrganizationId(), 'org-abc123')
  await payments.delegation.listPaymentMethods()
  payments.setOrganizationId(null)
  assert.equal(payments.getOrganizationId(), null)
  await payments.delegation.listPaymentMethods()
  assert.deepEqual(backend.requests.map((r) => r.headers['x-current-org-id']), ['org-first', 'org-abc123', undefined])
  assert.throws(() => payments.setOrganizationId(7), (e) => e.code === 'validation')
})

test('a client made with getInstance is not a browser instance; getAccountAddress is the key\'s subject', () => {
  const payments = Payments.getInstance({ nvmApiKey: KEY })
  assert.equal(payments.isBrowserInstance, false)
  assert.equal(payments.getAccountAddress(), payments.accountAddress)
  assert.match(payments.getAccountAddress(), /^0x[0-9a-fA-F]{40}$/)
})

test('isEthereumAddress and getServiceHostFromEndpoints behave as the official helpers', () => {
  assert.equal(isEthereumAddress('0x' + 'aB'.repeat(20)), true)
  for (const bad of ['0x' + 'a'.repeat(39), '0x' + 'g'.repeat(40), 'a'.repeat(42), '', undefined, null, 42]) assert.equal(isEthereumAddress(bad), false, String(bad))
  assert.equal(getServiceHostFromEndpoints([{ POST: 'https://agent.example:8443/tasks/1' }]), 'https://agent.example:8443')
  // The official loop never stops early: the last endpoint's origin.
  assert.equal(getServiceHostFromEndpoints([{ POST: 'https://a.example/x' }, { GET: 'http://b.example/y' }]), 'http://b.example')
  assert.equal(getServiceHostFromEndpoints([]), '')
  assert.equal(getServiceHostFromEndpoints([{ POST: 'mcp://server/tools/x' }]), new URL('mcp://server/tools/x').origin)
  assert.throws(() => getServiceHostFromEndpoints([{ POST: 'not a url' }]), TypeError, 'as new URL does')
})

test('Currency, PlanRedemptionType and the EURC addresses are the official values; the core uses the same EURC address', () => {
  assert.deepEqual({ ...Currency }, { USD: 'USD', EUR: 'EUR', USDC: 'USDC', EURC: 'EURC' })
  assert.equal(PlanRedemptionType.ONLY_SUBSCRIBER, 4)
  assert.equal(PlanRedemptionType[PlanRedemptionType.ONLY_OWNER], 'ONLY_OWNER')
  assert.equal(EURC_TOKEN_ADDRESS, '0x60a3E35Cc302bFA44Cb288Bc5a4F316Fdb1adb42')
  assert.equal(EURC_TOKEN_ADDRESS_TESTNET, '0x808456652fdb597867f38412077A9182bf77359F')
  assert.equal(getEURCPriceConfig(1n, '0x' + '1'.repeat(40)).tokenAddress, EURC_TOKEN_ADDRESS)
  assert.ok(Object.isFrozen(Currency) && Object.isFrozen(PlanRedemptionType))
})
