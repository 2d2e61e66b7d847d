// Test support for the agent-side gate on workerd: a counting (and fault-
// injecting) forward proxy between a Worker and its backend, subscribers of
// nvm-local driven through the package, the x402 header codec checked
// independently of the package, and raw HTTP requests that keep a path as
// written. Every server binds 127.0.0.1 on a free port and is closed by the
// test that started it.
import http from 'node:http'
import assert from 'node:assert/strict'
import { Payments } from 'nvm-x402'

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

/** Writes a scripted answer (`{status, json}` or `{status, body, headers}`). */
function answerWith(res, answer) {
  const headers = { ...(answer.headers ?? {}) }
  let body = answer.body ?? ''
  if (answer.json !== undefined) {
    body = JSON.stringify(answer.json)
    headers['content-type'] ??= 'application/json'
  }
  res.writeHead(answer.status ?? 200, headers)
  res.end(body)
  return { status: answer.status ?? 200, body }
}

/**
 * A forward proxy to `target` that records every call: `{method, path, json,
 * status, responseJson}` in arrival order. `intercept(method, path, hook)`
 * runs `hook(call)` first (last registered wins; `*` matches any); the hook
 * may wait (to hold a call back) and returns nothing to forward the call, or
 * an answer instead of forwarding it: `{status, json}`, `{status, body,
 * headers}`, `{hang: true}` (never answered; dropped on close) or `{destroy:
 * true}` (the connection is dropped). `waitFor(predicate)` resolves once
 * `predicate(calls)` holds, checked whenever a call is answered.
 */
export async function startCountingProxy(target) {
  const upstream = new URL(target)
  const agent = new http.Agent({ keepAlive: true })
  const calls = []
  const hooks = []
  let waiters = []
  const settled = () => {
    waiters = waiters.filter((w) => !(w.predicate(calls) && (w.resolve(), true)))
  }
  const server = http.createServer(async (req, res) => {
    const chunks = []
    for await (const chunk of req) chunks.push(chunk)
    const body = Buffer.concat(chunks)
    const call = { method: req.method, url: req.url, path: req.url.split('?')[0], json: parse(body.toString('utf8')), status: undefined, responseJson: undefined }
    calls.push(call)
    const hook = hooks.findLast((h) => (h.method === '*' || h.method === req.method) && (h.path === '*' || h.path === call.path))
    const answer = hook ? await hook.run(call) : undefined
    if (answer?.hang) return
    if (answer?.destroy) {
      req.socket.destroy()
      call.status = 'destroyed'
      settled()
      return
    }
    if (answer) {
      const { status, body: sent } = answerWith(res, answer)
      Object.assign(call, { status, responseJson: parse(sent) })
      settled()
      return
    }
    const headers = { ...req.headers, host: upstream.host }
    const forwarded = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers, agent }, async (up) => {
      const parts = []
      for await (const part of up) parts.push(part)
      const text = Buffer.concat(parts)
      res.writeHead(up.statusCode, up.headers)
      res.end(text)
      Object.assign(call, { status: up.statusCode, responseJson: parse(text.toString('utf8')) })
      settled()
    })
    forwarded.on('error', (error) => {
      call.status = `error: ${error.message}`
      res.destroy()
      settled()
    })
    forwarded.end(body)
  })
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok))
  return {
    url: `http://127.0.0.1:${server.address().port}/`,
    calls,
    /** `"METHOD /path"` of every call so far, in arrival order. */
    seen: () => calls.map((c) => `${c.method} ${c.path}`),
    /** The calls to `path` (any method). */
    callsTo: (path) => calls.filter((c) => c.path === path),
    intercept(method, path, hook) {
      hooks.push({ method, path, run: typeof hook === 'function' ? hook : () => hook })
    },
    waitFor(predicate) {
      return new Promise((resolve) => {
        waiters.push({ predicate, resolve })
        settled()
      })
    },
    /** Forgets the calls and the intercepts. */
    reset() {
      calls.length = 0
      hooks.length = 0
    },
    close: () =>
      new Promise((ok) => {
        server.close(ok)
        server.closeAllConnections()
        agent.destroy()
      }),
  }
}

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
 * (default: v2 for `planId` and `agentId`); `balance()` reads its balance of
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
  return {
    address,
    payments,
    async token({ plan = planId, agent = agentId, delegation = delegationId, ...options } = {}) {
      const { accessToken } = await payments.x402.getX402AccessToken(plan, agent, { delegationConfig: { delegationId: delegation }, ...options })
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
