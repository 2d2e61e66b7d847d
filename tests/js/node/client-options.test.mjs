// Payments.getInstance: environments from the key prefix, backendUrl, the
// custom environment, bad keys, insecure transport, an injected fetch, the
// account address and the headers every call carries.
import test from 'node:test'
import assert from 'node:assert/strict'
import { Payments } from 'nvm-x402'
import { ACCOUNT, KEY, assertRequest, backendFor, clientFor, makeKey, paymentsError } from '../support/nvm.mjs'

// backend-api.md, "Environments and keys", and README.md's environment table.
const ENVIRONMENTS = [
  { prefix: 'sandbox', environment: 'sandbox', backendUrl: 'https://api.sandbox.nevermined.app/' },
  { prefix: 'live', environment: 'live', backendUrl: 'https://api.live.nevermined.app/' },
  { prefix: 'sandbox-staging', environment: 'staging_sandbox', backendUrl: 'https://api.sandbox.nevermined.dev/' },
  { prefix: 'live-staging', environment: 'staging_live', backendUrl: 'https://api.live.nevermined.dev/' },
  { prefix: 'local', environment: 'local', backendUrl: 'http://127.0.0.1:3001/' },
]

const mixedCase = (s) => [...s].map((c, i) => (i % 2 ? c.toUpperCase() : c.toLowerCase())).join('')

test('the key prefix picks the environment and its backend, case-insensitively', () => {
  for (const { prefix, environment, backendUrl } of ENVIRONMENTS) {
    for (const spelling of [prefix, prefix.toUpperCase(), mixedCase(prefix)]) {
      const payments = Payments.getInstance({ nvmApiKey: makeKey(spelling) })
      assert.equal(payments.environment, environment, spelling)
      assert.equal(payments.backendUrl, backendUrl, spelling)
    }
  }
})

test('a recognised prefix wins over the environment option', () => {
  for (const { prefix, environment } of ENVIRONMENTS) {
    for (const other of ENVIRONMENTS.filter((e) => e.prefix !== prefix)) {
      const payments = Payments.getInstance({ nvmApiKey: makeKey(prefix), environment: other.environment })
      assert.equal(payments.environment, environment)
    }
  }
})

test('an unrecognised prefix falls back to the environment option (official names and prefixes)', () => {
  for (const { prefix, environment, backendUrl } of ENVIRONMENTS) {
    for (const name of new Set([environment, prefix])) {
      const payments = Payments.getInstance({ nvmApiKey: makeKey('acme'), environment: name })
      assert.equal(payments.environment, environment, name)
      assert.equal(payments.backendUrl, backendUrl, name)
    }
  }
  const noPrefix = Payments.getInstance({ nvmApiKey: makeKey(null), environment: 'live' })
  assert.equal(noPrefix.environment, 'live')
})

test('an unknown environment name is a validation error', async () => {
  const error = await paymentsError(() => Payments.getInstance({ nvmApiKey: makeKey('acme'), environment: 'mars' }), { code: 'validation' })
  assert.match(error.message, /mars/)
})

test('backendUrl overrides the environment URL and gains a trailing slash', () => {
  for (const { prefix, environment } of ENVIRONMENTS) {
    const payments = Payments.getInstance({ nvmApiKey: makeKey(prefix), backendUrl: 'https://nvm.example.com/base' })
    assert.equal(payments.environment, environment)
    assert.equal(payments.backendUrl, 'https://nvm.example.com/base/')
  }
})

test('custom environment: backendUrl is required', async () => {
  for (const options of [{ nvmApiKey: makeKey('acme') }, { nvmApiKey: makeKey('acme'), environment: 'custom' }, { nvmApiKey: makeKey(null) }]) {
    const error = await paymentsError(() => Payments.getInstance(options), { code: 'validation' })
    assert.match(error.message, /backendUrl is required/)
  }
  const custom = Payments.getInstance({ nvmApiKey: makeKey('acme'), backendUrl: 'https://backend.example.org' })
  assert.equal(custom.environment, 'custom')
  assert.equal(custom.backendUrl, 'https://backend.example.org/')
})

test('a missing key is "Nevermined API Key is required"', async () => {
  for (const options of [undefined, null, {}, { nvmApiKey: '' }, { nvmApiKey: '   ' }, { nvmApiKey: undefined }]) {
    await paymentsError(() => Payments.getInstance(options), { code: 'validation', message: 'Nevermined API Key is required' })
    await paymentsError(() => new Payments(options), { code: 'validation', message: 'Nevermined API Key is required' })
  }
})

test('a key whose JWT cannot be decoded is "Invalid NVM API Key"', async () => {
  const notObject = `sandbox:${Buffer.from('{}').toString('base64url')}.${Buffer.from('[1]').toString('base64url')}.sig`
  const notJson = `sandbox:eyJhIjoxfQ.${Buffer.from('{nope').toString('base64url')}.sig`
  for (const nvmApiKey of ['sandbox:not-a-jwt', 'sandbox:a.b.c', 'sandbox:', 'local:only.two', 'live:a.b.c.d', 'sandbox:e30.!!!.sig', notObject, notJson]) {
    const error = await paymentsError(() => Payments.getInstance({ nvmApiKey }), { code: 'validation', message: 'Invalid NVM API Key' })
    assert.equal(error.httpStatus, undefined)
  }
})

test('a key that is not a string is a validation error', async () => {
  await paymentsError(() => Payments.getInstance({ nvmApiKey: 42 }), { code: 'validation', message: /nvmApiKey/ })
})

test('plain http to a non-loopback host is refused (insecure_transport); loopback and https are allowed', async () => {
  for (const backendUrl of ['http://backend.example.com', 'http://10.0.0.1:3001/', 'http://127.0.0.1.evil.example/', 'http://localhost.evil.example/']) {
    const error = await paymentsError(() => Payments.getInstance({ nvmApiKey: KEY, backendUrl }), { code: 'insecure_transport', retryable: false })
    assert.ok(error.hint, 'insecure_transport carries a hint')
  }
  for (const backendUrl of ['http://127.0.0.1:1/', 'http://localhost:1', 'http://[::1]:1/', 'https://backend.example.com/']) {
    assert.equal(Payments.getInstance({ nvmApiKey: KEY, backendUrl }).backendUrl, backendUrl.endsWith('/') ? backendUrl : `${backendUrl}/`)
  }
})

test('a backendUrl that is not an absolute http(s) URL is a validation error', async () => {
  for (const backendUrl of ['not a url', '/relative/path', 'ftp://127.0.0.1/', 'file:///etc/passwd']) {
    await paymentsError(() => Payments.getInstance({ nvmApiKey: KEY, backendUrl }), { code: 'validation' })
  }
})

test('accountAddress is the key\'s sub; undefined without one', () => {
  assert.equal(Payments.getInstance({ nvmApiKey: KEY }).accountAddress, ACCOUNT)
  const other = '0x' + 'cd'.repeat(20)
  assert.equal(Payments.getInstance({ nvmApiKey: makeKey('sandbox', { sub: other }) }).accountAddress, other)
  assert.equal(Payments.getInstance({ nvmApiKey: makeKey('sandbox', { o11y: 'x' }) }).accountAddress, undefined)
})

test('instances are independent: no global state between keys', () => {
  const a = Payments.getInstance({ nvmApiKey: makeKey('live') })
  const b = Payments.getInstance({ nvmApiKey: makeKey('sandbox') })
  assert.notEqual(a, b)
  assert.deepEqual([a.environment, b.environment], ['live', 'sandbox'])
})

test('an injected fetch is used instead of the global one', async (t) => {
  const backend = await backendFor(t)
  backend.respond('GET', '/api/v1/protocol/plans/7', { json: { id: '7' } })
  const realFetch = globalThis.fetch
  const globalCalls = t.mock.method(globalThis, 'fetch', () => Promise.reject(new Error('the global fetch must not be used')))
  const calls = []
  const payments = clientFor(backend, {
    fetch: (url, init) => {
      calls.push({ url, init })
      return realFetch(url, init)
    },
  })
  assert.deepEqual(await payments.plans.getPlan('7'), { id: '7' })
  assert.equal(globalCalls.mock.callCount(), 0)
  assert.equal(calls.length, 1)
  assert.equal(calls[0].url, `${backend.url}api/v1/protocol/plans/7`)
  assert.equal(calls[0].init.method, 'GET')
  assertRequest(backend.requests[0], { method: 'GET', url: '/api/v1/protocol/plans/7', key: null })
})

test('an injected fetch may return any Response-like object ({status, text()})', async () => {
  const seen = []
  const payments = Payments.getInstance({
    nvmApiKey: KEY,
    fetch: async (url, init) => {
      seen.push({ url, method: init.method, headers: init.headers, body: init.body })
      return { status: 200, text: async () => JSON.stringify({ planId: '7', balance: 3, isSubscriber: true }) }
    },
  })
  const balance = await payments.plans.getPlanBalance('7')
  assert.deepEqual(balance, { planId: '7', balance: '3', isSubscriber: true })
  assert.deepEqual(seen, [
    {
      url: `http://127.0.0.1:3001/api/v1/protocol/plans/7/balance/${ACCOUNT}`,
      method: 'GET',
      headers: { Accept: 'application/json', 'Content-Type': 'application/json', 'Nevermined-Version': '1.1' },
      body: undefined,
    },
  ])
})

test('an injected fetch gets an AbortSignal for timeoutMs; a fetch that honours it yields timeout', async (t) => {
  // AbortSignal.timeout's timer does not keep Node alive, and this fake fetch has no socket that would.
  const alive = setInterval(() => {}, 60_000)
  t.after(() => clearInterval(alive))
  const timeoutMs = 30
  const payments = Payments.getInstance({
    nvmApiKey: KEY,
    timeoutMs,
    fetch: (url, init) => {
      if (!(init.signal instanceof AbortSignal)) return Promise.reject(new Error('no AbortSignal in init'))
      return new Promise((ok, fail) => init.signal.addEventListener('abort', () => fail(init.signal.reason)))
    },
  })
  await paymentsError(payments.plans.getPlan('1'), { code: 'timeout', retryable: true, message: new RegExp(`${timeoutMs} ms`) })
})

test('an injected fetch that ignores the AbortSignal still times out after timeoutMs', async () => {
  const timeoutMs = 30
  let settled = false
  const payments = Payments.getInstance({
    nvmApiKey: KEY,
    timeoutMs,
    // Answers only long after the limit, whatever the signal says.
    fetch: () => new Promise((ok) => setTimeout(() => { settled = true; ok(new Response('{}')) }, timeoutMs * 20)),
  })
  await paymentsError(payments.plans.getPlan('1'), { code: 'timeout', retryable: true, message: new RegExp(`${timeoutMs} ms`) })
  assert.equal(settled, false, 'the call gave up before the fetch answered')
})

test('an injected fetch answering something not Response-like is a network_error; a line break in a header value is refused before fetch', async () => {
  for (const answer of [undefined, null, 'text', { status: '200', text: async () => '{}' }, { status: 200 }]) {
    const payments = Payments.getInstance({ nvmApiKey: KEY, fetch: async () => answer })
    await paymentsError(payments.plans.getPlan('7'), { code: 'network_error', message: /not a Response/ })
  }
  let called = 0
  const payments = Payments.getInstance({ nvmApiKey: KEY, organizationId: 'org\r\nx-evil\nyes', fetch: async () => called++ })
  await paymentsError(payments.plans.getPlan('7'), { code: 'validation', message: /X-Current-Org-Id header has a line break/i })
  assert.equal(called, 0)
})

test('without a global fetch or an injected one, getInstance says so', async (t) => {
  const realFetch = globalThis.fetch
  globalThis.fetch = undefined
  t.after(() => {
    globalThis.fetch = realFetch
  })
  await paymentsError(() => Payments.getInstance({ nvmApiKey: KEY }), { code: 'validation', message: /No global fetch in this runtime; pass \{ fetch \}/ })
})

test('fetch must be a function', async () => {
  await paymentsError(() => Payments.getInstance({ nvmApiKey: KEY, fetch: 'fetch' }), { code: 'validation', message: /fetch/ })
})

test('the global fetch is looked up when the client is created', async (t) => {
  const backend = await backendFor(t)
  backend.respond('GET', '/api/v1/protocol/plans/9', { json: { id: '9' } })
  const calls = []
  const realFetch = globalThis.fetch
  t.mock.method(globalThis, 'fetch', (url, init) => {
    calls.push(url)
    return realFetch(url, init)
  })
  const payments = clientFor(backend)
  assert.deepEqual(await payments.plans.getPlan('9'), { id: '9' })
  assert.deepEqual(calls, [`${backend.url}api/v1/protocol/plans/9`])
})

test('organizationId is sent as X-Current-Org-Id on authenticated and public calls', async (t) => {
  const backend = await backendFor(t)
  backend.respond('GET', '*', { json: { plans: [] } })
  const payments = clientFor(backend, { organizationId: 'org-42' })
  await payments.plans.getPlans()
  await payments.plans.getPlan('1')
  assertRequest(backend.requests[0], { method: 'GET', url: '/api/v1/protocol/plans?page=1&offset=100&sortBy=created&sortOrder=desc', org: 'org-42' })
  assertRequest(backend.requests[1], { method: 'GET', url: '/api/v1/protocol/plans/1', key: null, org: 'org-42' })
})

test('a blank organizationId sends no header', async (t) => {
  const backend = await backendFor(t)
  backend.respond('GET', '*', { json: {} })
  await clientFor(backend, { organizationId: '  ' }).plans.getPlan('1')
  assertRequest(backend.requests[0], { method: 'GET', url: '/api/v1/protocol/plans/1', key: null })
})

test('Authorization carries the whole key, prefix included, for every environment prefix', async (t) => {
  const backend = await backendFor(t)
  backend.respond('POST', '/api/v1/protocol/plans/5/order', { json: { success: true } })
  // orderPlan reads the plan and the caller's balance first (public calls: no key).
  backend.respond('GET', '/api/v1/protocol/plans/5', { json: { id: '5', registry: { price: { isCrypto: true } } } })
  backend.respond('GET', `/api/v1/protocol/plans/5/balance/${ACCOUNT}`, { json: { balance: '0', isSubscriber: false } })
  for (const { prefix } of ENVIRONMENTS) {
    const key = makeKey(mixedCase(prefix))
    backend.requests.length = 0
    await clientFor(backend, { nvmApiKey: key }).plans.orderPlan('5')
    assertRequest(backend.requests.at(-1), { method: 'POST', url: '/api/v1/protocol/plans/5/order', key })
    for (const read of backend.requests.slice(0, -1)) assert.equal(read.headers.authorization, undefined, read.path)
  }
})

test('unknown options (the official SDK\'s appId) are ignored; version is read (surface.test.mjs)', () => {
  const payments = Payments.getInstance({ nvmApiKey: KEY, appId: 'app', version: '1.0' })
  assert.equal(payments.environment, 'local')
})
