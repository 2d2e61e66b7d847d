// Test support for the agent-side gate on workerd: a counting (and fault-
// injecting) forward proxy between a Worker and its backend, subscribers of
// nvm-local driven through the package, the x402 header codec checked
// independently of the package, and raw HTTP requests that keep a path as
// written. Every server binds 127.0.0.1 on a free port and is closed by the
// test that started it.
import http from 'node:http'
import assert from 'node:assert/strict'
import { Payments } from 'nvm-x402'
import { startRecorder } from './servers.mjs'

/** The backend paths the gate calls. */
export const VERIFY = '/api/v1/x402/verify'
export const SETTLE = '/api/v1/x402/settle'
export const PLANS = '/api/v1/protocol/plans/'

const parse = (text) => {
  try {
    return text ? JSON.parse(text) : undefined
  } catch {
    return undefined
  }
}

/** Headers that belong to one hop, not to the request being forwarded. */
const HOP_HEADERS = new Set(['host', 'connection', 'keep-alive', 'content-length', 'transfer-encoding'])

/**
 * A forward proxy to `target`, built on `startRecorder`: every call is
 * recorded (`{method, path, json, ...}`, in arrival order) and completed with
 * the answer's `status` and `responseJson`. `intercept(method, path, hook)`
 * runs `hook(call)` first (last registered wins; `*` matches any); the hook
 * may wait (to hold a call back) and returns nothing to forward the call, or
 * one of the recorder's answers instead (`{status, json}`, `{status, body,
 * headers}`, `{hang: true}`, `{destroy: true}`). `waitFor(predicate)`
 * resolves once `predicate(calls)` holds, checked whenever a call is answered.
 */
export async function startCountingProxy(target) {
  const recorder = await startRecorder()
  let waiters = []
  const check = () => {
    waiters = waiters.filter((w) => !(w.predicate(recorder.requests) && (w.resolve(), true)))
  }
  const answered = (call, status, responseJson) => {
    Object.assign(call, { status, responseJson })
    check()
  }
  const forward = async (call) => {
    const headers = Object.entries(call.headers).filter(([name]) => !HOP_HEADERS.has(name))
    let response, body
    try {
      response = await fetch(new URL(call.url.slice(1), target), { method: call.method, headers, body: call.body || undefined })
      body = await response.text()
    } catch (error) {
      answered(call, `unreachable: ${error.message}`, undefined)
      return { destroy: true }
    }
    answered(call, response.status, parse(body))
    return { status: response.status, body, headers: { 'content-type': response.headers.get('content-type') ?? 'text/plain' } }
  }
  const forwardEverything = () => recorder.respond('*', '*', forward)
  forwardEverything()
  return {
    url: recorder.url,
    calls: recorder.requests,
    /** `"METHOD /path"` of every call so far, in arrival order. */
    seen: () => recorder.requests.map((c) => `${c.method} ${c.path}`),
    /** The calls to `path` (any method). */
    callsTo: (path) => recorder.requests.filter((c) => c.path === path),
    intercept(method, path, hook) {
      recorder.respond(method, path, async (call) => {
        const answer = await (typeof hook === 'function' ? hook(call) : hook)
        if (!answer) return forward(call)
        if (!answer.hang) answered(call, answer.destroy ? 'destroyed' : (answer.status ?? 200), answer.json ?? parse(answer.body))
        return answer
      })
    },
    waitFor(predicate) {
      return new Promise((resolve) => {
        waiters.push({ predicate, resolve })
        check()
      })
    },
    /** Forgets the calls and the intercepts. */
    reset() {
      recorder.reset()
      forwardEverything()
    },
    close: recorder.close,
  }
}

/** The proxy's calls other than plan lookups (made once per plan, then cached), as `"METHOD /path"`. */
export const paymentCalls = (proxy) => proxy.seen().filter((call) => !call.includes(PLANS))

/** Holds every settle back until `count` verify calls have been answered (so all of them verify against the same balance). */
export function holdSettlesUntilVerified(proxy, count) {
  const verified = proxy.waitFor((calls) => calls.filter((c) => c.path === VERIFY && c.status !== undefined).length >= count)
  proxy.intercept('POST', SETTLE, async () => {
    await verified
  })
}

/** Decodes an x402 header independently of the package: standard padded base64 of compact JSON. */
export function decodeHeader(value) {
  assert.equal(typeof value, 'string', 'header missing')
  assert.match(value, /^[A-Za-z0-9+/]*={0,2}$/, 'standard base64')
  assert.equal(value.length % 4, 0, 'padded base64')
  const text = Buffer.from(value, 'base64').toString('utf8')
  assert.equal(text, JSON.stringify(JSON.parse(text)), 'compact JSON')
  return JSON.parse(text)
}

/** A token's decoded JSON (tokens are base64 of JSON; either alphabet). */
export const decodeToken = (token) => JSON.parse(Buffer.from(token, 'base64url').toString('utf8'))

/** The token with `edit(decoded)` applied, re-encoded as unpadded base64url (its signature no longer matches). */
export function editToken(token, edit) {
  const decoded = decodeToken(token)
  edit(decoded)
  return Buffer.from(JSON.stringify(decoded)).toString('base64url')
}

/**
 * A v2 access token shaped like a real one (a 65-byte signature, a zerodev
 * session key; about 700 characters), for the benchmarks: the backend they
 * talk to answers without checking it.
 */
export function benchToken({ planId, agentId, network = 'eip155:84532' }) {
  return Buffer.from(JSON.stringify({
    x402Version: 2,
    accepted: { scheme: 'nvm:erc4337', network, planId, extra: { version: '1', agentId } },
    payload: { signature: `0x${'ab'.repeat(65)}`, authorization: { from: '0x00000000000000000000000000000000000000bb', sessionKeysProvider: 'zerodev', sessionKeys: [{ id: 'delegation', data: `0x${'cd'.repeat(32)}` }] } },
    extensions: {},
  })).toString('base64url')
}

/** A `local:` API key for an account that no backend knows (enough where only the prefix and `sub` are read). */
export function offlineKey(sub = '0x00000000000000000000000000000000000000aa') {
  const part = (value) => Buffer.from(JSON.stringify(value)).toString('base64url')
  return `local:${part({ alg: 'HS256', typ: 'JWT' })}.${part({ sub, o11y: 'test' })}.c2lnbmF0dXJl`
}

/**
 * Sends one request with node:http, keeping `path` exactly as written (fetch
 * would resolve `//tasks` or dot segments). Resolves to `{status, headers, text, json}`.
 */
export function rawRequest(base, path, { method = 'GET', headers = {}, body } = {}) {
  const { hostname, port } = new URL(base)
  return new Promise((ok, fail) => {
    const req = http.request({ host: hostname, port, method, path, headers: body === undefined ? headers : { 'content-length': Buffer.byteLength(body), ...headers } }, async (res) => {
      const parts = []
      for await (const part of res) parts.push(part)
      const text = Buffer.concat(parts).toString('utf8')
      ok({ status: res.statusCode, headers: res.headers, text, json: parse(text) })
    })
    req.on('error', fail)
    req.end(body)
  })
}

/** The response's body as JSON (asserting the content type says so). */
export async function jsonOf(response) {
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/)
  return response.json()
}

let accounts = 0

/**
 * A new nvm-local account that bought `planId` once (unless `order: false`)
 * and holds an erc4337 delegation. `token(options)` mints an access token
 * (default: v2 for `planId` and `agentId`; each is kept in `minted`); `balance()` reads its balance of
 * `planId` through the package; `topUp(min)` orders `planId` until the
 * balance is at least `min`.
 */
export async function newSubscriber(nvm, { planId, agentId, order = true }) {
  const created = await fetch(`${nvm.url}local/v1/accounts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: `gate-subscriber-${process.pid}-${++accounts}` }) })
  assert.equal(created.status, 201)
  const { apiKey, address } = await created.json()
  const payments = Payments.getInstance({ nvmApiKey: apiKey, backendUrl: nvm.url })
  if (order) assert.equal((await payments.plans.orderPlan(planId)).success, true)
  const { delegationId } = await payments.delegation.createDelegation({ provider: 'erc4337', spendingLimitCents: 1000, durationSecs: 3600 })
  const minted = []
  return {
    address,
    apiKey,
    payments,
    minted,
    async token({ plan = planId, agent = agentId, delegation = delegationId, ...options } = {}) {
      const { accessToken } = await payments.x402.getX402AccessToken(plan, agent, { delegationConfig: { delegationId: delegation }, ...options })
      minted.push(accessToken)
      return accessToken
    },
    async balance(plan = planId) {
      return BigInt((await payments.plans.getPlanBalance(plan, address)).balance)
    },
    async topUp(min) {
      while ((await this.balance()) < min) assert.equal((await payments.plans.orderPlan(planId)).success, true)
    },
  }
}

/** Asserts a 402 as the spec describes it and returns its decoded PaymentRequired. */
export async function assertPaymentRequired(response, message) {
  assert.equal(response.status, 402)
  assert.equal(response.headers.get('cache-control'), 'no-store')
  const body = await jsonOf(response)
  const required = decodeHeader(response.headers.get('payment-required'))
  assert.equal(body.error, 'Payment Required')
  assert.equal(typeof body.message, 'string')
  if (message instanceof RegExp) assert.match(body.message, message)
  else if (message !== undefined) assert.equal(body.message, message)
  assert.equal(required.error, body.message, 'the PaymentRequired carries the same reason')
  assert.equal(required.x402Version, 2)
  return { body, required }
}

/**
 * Asserts a paid MCP tool result from a live backend: exactly `text`, the
 * receipt in `_meta["x402/payment-response"]` (successful, 1 credit) and
 * `_meta["nevermined/credits"]` for `planId` and the `subscriber`'s address.
 */
export function assertPaidToolResult(result, { text, planId, subscriber }) {
  assert.equal(result.isError, undefined)
  assert.deepEqual(result.content, [{ type: 'text', text }])
  const receipt = result._meta['x402/payment-response']
  assert.equal(receipt.success, true)
  assert.equal(receipt.creditsRedeemed, '1')
  assert.equal(result._meta['nevermined/credits'].planId, planId)
  assert.equal(result._meta['nevermined/credits'].subscriberAddress.toLowerCase(), subscriber.address.toLowerCase())
}

/** Asserts that no token `subscribers` minted appears in `log` (the spec allows at most its first 6 and last 4 characters). */
export function assertNoTokenLogged(log, subscribers) {
  const tokens = subscribers.flatMap((s) => s.minted)
  assert.ok(tokens.length > 0, 'tokens were minted')
  for (const token of tokens) assert.ok(!log.includes(token.slice(6, -4)), 'a token appears in the log')
}

/** Stops servers and processes in order, skipping those a failed `before` never started. */
export async function stopAll(...running) {
  for (const one of running) await (one?.stop ?? one?.close)?.call(one)
}
