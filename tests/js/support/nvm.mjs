// Test support for the Node tests of the built package: API keys, a recording
// backend per test, exact request assertions, PaymentsError checks, and a
// live nvm-local with fresh accounts.
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { Payments, PaymentsError } from 'nvm-x402'
import { ROOT, startNvmLocal, startRecorder } from './servers.mjs'

/** Unpadded base64url of the compact JSON of `value`. */
export const b64url = (value) => Buffer.from(JSON.stringify(value)).toString('base64url')

/** The account the default test key belongs to (its `sub`). */
export const ACCOUNT = '0x5b38da6a701c568545dcfcb03fcb875f56beddc4'

/** An NVM API key `prefix:` + header.payload.signature, with `claims` as the JWT payload. */
export function makeKey(prefix = 'local', claims = { sub: ACCOUNT, o11y: 'obs-key' }) {
  const jwt = `${b64url({ alg: 'ES256K', typ: 'JWT' })}.${b64url(claims)}.c2lnbmF0dXJlLW9mLXRoZS10ZXN0LWtleS0wMTIzNDU2Nzg5`
  return prefix === null ? jwt : `${prefix}:${jwt}`
}

/** The default test key (`local:`). */
export const KEY = makeKey()

/** A recording backend on 127.0.0.1, closed when the test ends. */
export async function backendFor(t) {
  const backend = await startRecorder()
  t.after(() => backend.close())
  return backend
}

/** A client of `backend` (any options may be overridden). */
export function clientFor(backend, options = {}) {
  return Payments.getInstance({ nvmApiKey: KEY, backendUrl: backend.url, ...options })
}

/** Headers Node's fetch adds on its own; everything else the package chose to send. */
const TRANSPORT_HEADERS = new Set(['host', 'connection', 'content-length', 'user-agent', 'accept-encoding', 'accept-language', 'sec-fetch-mode', 'transfer-encoding'])

/** The headers of a recorded request that the package set (names lower-cased). */
export function packageHeaders(request) {
  return Object.fromEntries(Object.entries(request.headers).filter(([name]) => !TRANSPORT_HEADERS.has(name)))
}

/**
 * Asserts one recorded request exactly: method, URL (path + query), the whole
 * set of headers the package sent, and the body. `key` is the API key of an
 * authenticated call (`null` for a public one); `body` is the exact body text,
 * or a value whose compact JSON (in its key order) must be the body; omitted:
 * no body.
 */
export function assertRequest(request, { method, url, key = KEY, org, body }) {
  assert.ok(request, `expected a ${method} ${url} request`)
  assert.equal(request.method, method)
  assert.equal(request.url, url)
  const expected = {}
  if (key !== null) expected.authorization = `Bearer ${key}`
  expected.accept = 'application/json'
  expected['content-type'] = 'application/json'
  expected['nevermined-version'] = '1.1'
  if (org !== undefined) expected['x-current-org-id'] = org
  assert.deepEqual(packageHeaders(request), expected)
  const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body)
  assert.equal(request.body, text)
}

/** Asserts the backend received exactly these requests (see `assertRequest`). */
export function assertRequests(backend, expected) {
  assert.equal(backend.requests.length, expected.length, `requests: ${backend.requests.map((r) => `${r.method} ${r.url}`).join(', ')}`)
  expected.forEach((e, i) => assertRequest(backend.requests[i], e))
}

/** Asserts `error` is a PaymentsError (and an Error) whose fields include `fields`. */
export function assertPaymentsError(error, fields = {}) {
  assert.ok(error instanceof PaymentsError, `not a PaymentsError: ${error}`)
  assert.ok(error instanceof Error)
  assert.equal(error.name, 'PaymentsError')
  assert.equal(typeof error.message, 'string')
  assert.ok(error.message.length > 0)
  assert.equal(typeof error.retryable, 'boolean')
  assertSaidOnce(error.hint ? `${error.message}. ${error.hint}` : error.message)
  for (const [name, value] of Object.entries(fields)) {
    if (value instanceof RegExp) assert.match(error[name], value, name)
    else assert.deepEqual(error[name], value, name)
  }
  return error
}

/** Runs `action` (a function or a promise) and returns the PaymentsError it throws or rejects with. */
export async function paymentsError(action, fields = {}) {
  let caught
  try {
    await (typeof action === 'function' ? action() : action)
  } catch (error) {
    caught = error
  }
  assert.ok(caught !== undefined, 'expected a PaymentsError, got success')
  return assertPaymentsError(caught, fields)
}

/** Every text an error shows: message, hint, String(), stack, details and its JSON. */
export function errorTexts(error) {
  return [error.message, error.hint ?? '', String(error), error.stack ?? '', JSON.stringify(error.details ?? null), JSON.stringify(error)]
}

/** Asserts no text of `error` contains any of `secrets` (nor its signature part). */
export function assertNoSecrets(error, ...secrets) {
  for (const secret of secrets) {
    const parts = [secret, ...secret.split(/[:.]/).filter((p) => p.length > 12)]
    for (const text of errorTexts(error)) {
      for (const part of parts) assert.ok(!text.includes(part), `error text reveals a secret: ${text}`)
    }
  }
}

/** Asserts no sentence of `message` is said twice ("Delegation expired. Delegation expired"). */
export function assertSaidOnce(message) {
  const sentences = message.split(/(?<=[.!?;])\s+/).map((s) => s.replace(/[.!?;]+$/, '').trim().toLowerCase()).filter(Boolean)
  assert.deepEqual(sentences, [...new Set(sentences)], `said twice: ${message}`)
}

/** Counts how many times `needle` occurs in `text`. */
export const occurrences = (text, needle) => text.split(needle).length - 1

/** Whether nvm-local is built (`scripts/build.sh --all`). */
export const NVM_LOCAL_BUILT = existsSync(join(ROOT, 'target/release/nvm-local'))

/** A live nvm-local (in memory, free port) for one test, stopped when it ends. */
export async function liveBackendFor(t) {
  const live = await startNvmLocal()
  t.after(() => live.stop())
  return live
}

/** A new account on a live nvm-local: `{name, address, apiKey, payments}`. */
export async function liveAccount(live, name) {
  const response = await fetch(`${live.url}local/v1/accounts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name }) })
  assert.ok(response.ok, `creating account ${name}: HTTP ${response.status}`)
  const account = await response.json()
  return { ...account, payments: Payments.getInstance({ nvmApiKey: account.apiKey, backendUrl: live.url }) }
}
