// nvm-x402 — the JavaScript facade over the WebAssembly core.
// Every call crosses into Rust as (method name, JSON array of arguments) and
// comes back as JSON; errors come back as JSON and are rethrown as
// PaymentsError; bigints are sent as decimal strings. Every decision is made in
// Rust. What lives here is what only JavaScript can do: moving Request and
// Response objects (the paying loop, payLoop, which sends the attempts the core
// decides on and follows redirects by hand so a token stays with its origin).
// The HTTP paywall is in paywall.js, the MCP paywall in mcp-server.js: each entry
// ships them or their absent/ stand-ins, with the core built for it.
// The WebAssembly is loaded on first use (loader.js; each entry file says
// where it comes from), so importing the package, a constant or a type costs nothing.
import { NvmCore, callSync } from './nvm_x402.js'
import { PaymentsError } from './errors.js'
import { ensureSync, ready } from './loader.js'
import { mcpServer } from './mcp-server.js'
import { Paywall } from './paywall.js'
import { rethrow, toJson } from './wire.js'

export { PaymentsError, Paywall, ready }

function sync(name) {
  return (...args) => {
    ensureSync()
    let out
    try {
      out = callSync(name, toJson(args))
    } catch (error) {
      throw rethrow(error)
    }
    return JSON.parse(out)
  }
}

// Pure functions (no backend).
// The token decoders never throw: a non-string (even one JSON can't serialise,
// such as a circular object) crosses as null, which the core reports as such.
const decode = /* @__PURE__ */ sync('decodeAccessToken')
const tryDecode = /* @__PURE__ */ sync('tryDecodeAccessToken')
export const decodeAccessToken = (token) => decode(typeof token === 'string' ? token : null)
export const tryDecodeAccessToken = (token) => tryDecode(typeof token === 'string' ? token : null)
export const encodeAccessToken = /* @__PURE__ */ sync('encodeAccessToken')
export const buildPaymentRequired = /* @__PURE__ */ sync('buildPaymentRequired')
export const buildPaymentRequiredForPlans = /* @__PURE__ */ sync('buildPaymentRequiredForPlans')
export const encodePaymentHeader = /* @__PURE__ */ sync('encodePaymentHeader')
export const decodePaymentHeader = /* @__PURE__ */ sync('decodePaymentHeader')
const redact = /* @__PURE__ */ sync('redact')
/** For logs: never throws (a string with lone surrogates is made well-formed first). */
export const redactToken = (token) => redact(typeof token === 'string' ? token.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd') : '')
export const getFreePriceConfig = /* @__PURE__ */ sync('getFreePriceConfig')
export const getCryptoPriceConfig = /* @__PURE__ */ sync('getCryptoPriceConfig')
export const getNativeTokenPriceConfig = /* @__PURE__ */ sync('getNativeTokenPriceConfig')
export const getERC20PriceConfig = sync('getERC20PriceConfig')
export const getFiatPriceConfig = /* @__PURE__ */ sync('getFiatPriceConfig')
export const getEURCPriceConfig = /* @__PURE__ */ sync('getEURCPriceConfig')
export const getFixedCreditsConfig = /* @__PURE__ */ sync('getFixedCreditsConfig')
export const getDynamicCreditsConfig = /* @__PURE__ */ sync('getDynamicCreditsConfig')
export const getExpirableDurationConfig = /* @__PURE__ */ sync('getExpirableDurationConfig')
export const getNonExpirableDurationConfig = /* @__PURE__ */ sync('getNonExpirableDurationConfig')

export const ONE_DAY_DURATION = 86_400n
export const ONE_WEEK_DURATION = 604_800n
export const ONE_MONTH_DURATION = 2_629_746n
export const ONE_YEAR_DURATION = 31_557_600n
export const ZeroAddress = '0x0000000000000000000000000000000000000000'

// ---- the paying client: moves Request/Response objects; Rust decides each attempt ----

/** Sends one request to an agent; a failure to reach it is a PaymentsError (`network_error`), like backend calls. */
async function agentFetch(fetchImpl, request) {
  try {
    return await fetchImpl(request)
  } catch (error) {
    const failure = new PaymentsError({ code: 'network_error', message: `Could not reach ${request.url.split('?')[0]}: ${error?.message ?? error}`, retryable: true })
    failure.cause = error
    throw failure
  }
}

const REDIRECTS = new Set([301, 302, 303, 307, 308])
const BODY_HEADERS = ['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location']

/**
 * Sends a request that carries a payment token (in `payment-signature`, or in
 * the body for MCP) so that the token reaches only the origin the core
 * checked: redirects are followed by hand, within that origin with the token,
 * to another origin without it (as fetch does with Authorization) — and not at
 * all when the token is in a body that a 307/308 would resend. A browser hides
 * where a redirect goes (an opaque redirect), so there it is an error. The
 * caller's `redirect: 'manual'` / `'error'` are honoured.
 * Resolves to `{response, receipt}`: `receipt` is the `payment-response` of
 * the redirect that answered the paid request, when the final answer has none.
 */
async function sendPaid(fetchImpl, request, { tokenInBody = false } = {}) {
  const mode = request.redirect ?? 'follow'
  const origin = new URL(request.url).origin
  let current = request
  let receipt = null
  for (let hop = 0; ; hop++) {
    const response = await agentFetch(fetchImpl, new Request(current.clone(), { redirect: 'manual' }))
    if (response.type === 'opaqueredirect') {
      throw new PaymentsError({ code: 'redirect_not_followed', message: 'The agent answered the paid request with a redirect, and this runtime hides where it goes, so it was not followed with the payment token', hint: 'Call the URL the agent redirects to, or ask the agent to answer without a redirect.' })
    }
    const location = response.headers.get('location')
    if (!REDIRECTS.has(response.status) || location === null || mode === 'manual') return { response, receipt }
    response.body?.cancel().catch(() => {})
    if (mode === 'error') throw new PaymentsError({ code: 'network_error', message: `The agent redirected the request (HTTP ${response.status}) and redirect: 'error' was asked` })
    if (hop === 20) throw new PaymentsError({ code: 'network_error', message: 'The agent redirected the request more than 20 times' })
    receipt = response.headers.get('payment-response') ?? receipt
    const next = new URL(location, current.url)
    const toGet = response.status === 303 ? current.method !== 'HEAD' : (response.status === 301 || response.status === 302) && current.method === 'POST'
    const sameOrigin = next.origin === origin
    if (!sameOrigin && tokenInBody && !toGet) {
      throw new PaymentsError({ code: 'redirect_not_followed', message: `The agent redirected the paid request to another origin (${next.origin}) with its body, which carries the payment token; it was not followed` })
    }
    const headers = new Headers(current.headers)
    if (toGet) for (const name of BODY_HEADERS) headers.delete(name)
    if (!sameOrigin) {
      headers.delete('payment-signature')
      headers.delete('authorization')
    }
    const method = toGet ? 'GET' : current.method
    const body = method === 'GET' || method === 'HEAD' ? undefined : await current.clone().arrayBuffer()
    current = new Request(next, { method, headers, body, signal: current.signal, redirect: sameOrigin ? 'manual' : mode })
    if (!sameOrigin) return { response: await agentFetch(fetchImpl, current), receipt } // no token any more: fetch's own rules
  }
}

/**
 * The paying loop, the one place it lives: asks the core (`client.next`) what
 * to send, makes that attempt, tells the core how it went, until the core
 * says stop. `attempt(step)` sends one attempt and resolves to `{outcome,
 * ...}`, `outcome` being what the core is told (`{status, paymentRequired,
 * paymentResponse}`, the headers as base64 text). Resolves to the last
 * attempt; a core error carries that attempt's `response`.
 */
async function payLoop(next, request, options, attempt) {
  let last = null
  let result
  for (;;) {
    let step
    try {
      step = await next(request, options ?? null, last)
    } catch (error) {
      if (error instanceof PaymentsError && result?.response) error.response = result.response // e.g. max_credits_exceeded: the caller may still read it
      throw error
    }
    if (step.action === 'stop') return result
    if (result?.response?.body && !result.response.bodyUsed) result.response.body.cancel().catch(() => {})
    result = await attempt(step)
    last = { ...result.outcome, source: step.source ?? null }
  }
}

/** `payments.fetch` / `fetchWithPayment`: an HTTP request, paid when the agent asks. */
async function pay(next, fetchImpl, input, init, options) {
  const original = new Request(input, init)
  const request = { url: original.url, method: original.method, hasToken: original.headers.has('payment-signature') }
  const { response, receipt } = await payLoop(next, request, options, async (step) => {
    const attempt = original.clone()
    let sent
    if (step.token) {
      attempt.headers.set('payment-signature', step.token)
      sent = await sendPaid(fetchImpl, attempt)
    } else {
      sent = { response: await agentFetch(fetchImpl, attempt), receipt: null }
    }
    const receipt = sent.response.headers.get('payment-response') ?? sent.receipt
    return { response: sent.response, receipt, outcome: { status: sent.response.status, paymentRequired: sent.response.headers.get('payment-required'), paymentResponse: receipt } }
  })
  let paymentResponse = null
  if (receipt) {
    try {
      paymentResponse = decodePaymentHeader(receipt)
    } catch {
      paymentResponse = null // an agent's malformed receipt is not the caller's error
    }
  }
  return { response, paymentResponse }
}

/** `payments.mcp.callTool`: a JSON-RPC `tools/call`, the token in `params._meta` (never redirected to another origin). */
async function callTool(next, fetchImpl, { url, name, arguments: args, planId, agentId, id = 1, headers = {}, ...more }) {
  const options = { planIds: planId === undefined ? [] : [planId], agentId, eager: true, ...more }
  const request = { url, method: 'POST', hasToken: false }
  const last = await payLoop(next, request, options, async (step) => {
    const call = new Request(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers }, body: JSON.stringify(mcpToolCall(id, name, args ?? null, step.token ?? null)) })
    const { response } = step.token ? await sendPaid(fetchImpl, call, { tokenInBody: true }) : { response: await agentFetch(fetchImpl, call) }
    const text = await response.text()
    if (!response.ok) return { response, text, outcome: { status: response.status, paymentRequired: response.headers.get('payment-required'), paymentResponse: null } }
    const read = mcpReadResult(text)
    // A tool result that asks for payment is the MCP form of a 402; a receipt is checked like an HTTP one (maxCredits).
    const paymentRequired = read.paymentRequired ? encodePaymentHeader(read.paymentRequired) : null
    const paymentResponse = read.paymentResponse ? encodePaymentHeader(read.paymentResponse) : null
    return { read, paymentRequired, outcome: { status: paymentRequired ? 402 : 200, paymentRequired, paymentResponse } }
  })
  if (!last.read) return concludeQuery(last.response.status, last.text, last.response.headers.get('payment-required'))
  if (last.paymentRequired) return concludeQuery(402, JSON.stringify({ message: 'the MCP tool requires payment' }), last.paymentRequired)
  return { result: last.read.result, paymentResponse: last.read.paymentResponse ?? null }
}

const concludeQuery = /* @__PURE__ */ sync('client.concludeQuery')
const mcpToolCall = /* @__PURE__ */ sync('mcp.toolCall')
const mcpReadResult = /* @__PURE__ */ sync('mcp.readResult')

const cores = new WeakMap()

/** A Nevermined client bound to one API key. */
export class Payments {
  /** Same as `new Payments(options)`; the official SDK's spelling. */
  static getInstance(options) {
    return new Payments(options)
  }

  constructor(options) {
    const { fetch, ...rest } = options ?? {}
    if (fetch !== undefined && typeof fetch !== 'function') {
      throw new PaymentsError({ code: 'validation', message: 'options.fetch must be a function' })
    }
    if (fetch === undefined && typeof globalThis.fetch !== 'function') {
      throw new PaymentsError({ code: 'validation', message: 'No global fetch in this runtime; pass { fetch } to Payments.getInstance' })
    }
    let timeoutMs
    const fetchImpl = fetch ?? ((url, init) => globalThis.fetch(url, init))
    // The core's one way out: a backend request as (url, method and headers, body), answered
    // [status, text] ([0, ''] when what came back is not Response-like). One timer per request
    // both aborts the fetch and gives up on it (an injected fetch may ignore the signal): an
    // AbortController and a timer cost less than AbortSignal.timeout (bench/README.md).
    const send = async (url, head, body) => {
      const lines = head.split('\n')
      const headers = {}
      for (let i = 1; i + 1 < lines.length; i += 2) headers[lines[i]] = lines[i + 1]
      const controller = new AbortController()
      let timer
      const expired = new Promise((_, reject) => {
        timer = setTimeout(() => {
          const error = new DOMException(`No answer within ${timeoutMs} ms`, 'TimeoutError')
          controller.abort(error)
          reject(error)
        }, timeoutMs)
      })
      const exchange = async () => {
        const response = await fetchImpl(url, { method: lines[0], headers, body, signal: controller.signal })
        return typeof response?.status === 'number' && typeof response.text === 'function' ? [response.status, await response.text()] : [0, '']
      }
      try {
        return await Promise.race([exchange(), expired])
      } finally {
        clearTimeout(timer)
      }
    }
    ensureSync()
    let core
    try {
      core = new NvmCore(toJson(rest), send)
    } catch (error) {
      throw rethrow(error)
    }
    cores.set(this, core)
    const info = JSON.parse(core.info())
    timeoutMs = info.timeoutMs
    this.environment = info.environment
    this.backendUrl = info.backendUrl
    this.accountAddress = info.accountAddress ?? undefined
    const call = (method) => async (...args) => {
      let out
      try {
        out = await core.call(method, toJson(args))
      } catch (error) {
        throw rethrow(error)
      }
      return JSON.parse(out)
    }
    this.x402 = Object.freeze({ getX402AccessToken: call('x402.getX402AccessToken') })
    this.facilitator = Object.freeze({
      verifyPermissions: call('facilitator.verifyPermissions'),
      settlePermissions: call('facilitator.settlePermissions'),
    })
    this.requests = Object.freeze({ startProcessingRequest: call('requests.startProcessingRequest') })
    this.plans = Object.freeze({
      getPlan: call('plans.getPlan'),
      getPlans: call('plans.getPlans'),
      getPlanBalance: call('plans.getPlanBalance'),
      orderPlan: call('plans.orderPlan'),
      orderFiatPlan: call('plans.orderFiatPlan'),
      registerPlan: call('plans.registerPlan'),
      registerCreditsPlan: call('plans.registerCreditsPlan'),
      registerTimePlan: call('plans.registerTimePlan'),
      registerCreditsTrialPlan: call('plans.registerCreditsTrialPlan'),
      registerTimeTrialPlan: call('plans.registerTimeTrialPlan'),
      getFreePriceConfig,
      getCryptoPriceConfig,
      getNativeTokenPriceConfig,
      getERC20PriceConfig,
      getFiatPriceConfig,
      getEURCPriceConfig,
      getFixedCreditsConfig,
      getDynamicCreditsConfig,
      getExpirableDurationConfig,
      getNonExpirableDurationConfig,
    })
    this.agents = Object.freeze({
      registerAgent: call('agents.registerAgent'),
      registerAgentAndPlan: call('agents.registerAgentAndPlan'),
      getAgent: call('agents.getAgent'),
      getAgentPlans: call('agents.getAgentPlans'),
    })
    this.delegation = Object.freeze({
      createDelegation: call('delegation.createDelegation'),
      listDelegations: call('delegation.listDelegations'),
      listPaymentMethods: call('delegation.listPaymentMethods'),
    })
    this.resolveScheme = call('resolveScheme')
    const agentFetchImpl = fetch ?? ((request) => globalThis.fetch(request))
    const next = call('client.next')
    this.fetch = (input, init, payOptions) => pay(next, agentFetchImpl, input, init, payOptions)
    this.queryAgent = async ({ agentUrl, prompt, planId, agentId, method = 'POST', paymentType, ...more } = {}) => {
      const verb = String(method).toUpperCase()
      const bodyless = verb === 'GET' || verb === 'HEAD'
      const url = bodyless ? withQuery(agentUrl, { prompt }) : agentUrl
      const init = { method: verb, headers: { accept: 'application/json', ...(bodyless ? {} : { 'content-type': 'application/json' }) }, ...(bodyless ? {} : { body: JSON.stringify({ prompt }) }) }
      const { response } = await this.fetch(url, init, { planIds: planId === undefined ? [] : [planId], agentId, paymentType, eager: true, ...more })
      return concludeQuery(response.status, await response.text(), response.headers.get('payment-required'))
    }
    this.mcp = Object.freeze({ callTool: (params = {}) => callTool(next, agentFetchImpl, params), ...mcpServer(core) })
  }

  /** Compiles a paywall for an agent's routes; mistakes in `options` throw here. */
  paywall(options) {
    return new Paywall(cores.get(this), options)
  }
}

function withQuery(url, params) {
  const u = new URL(url)
  for (const [k, v] of Object.entries(params)) if (v !== undefined) u.searchParams.set(k, v)
  return u.href
}

/** Calls a paid agent: on 402, pays with a plan the caller allows and retries once. See `Payments#fetch`. */
export function fetchWithPayment(input, init, options) {
  const { payments, ...rest } = options ?? {}
  if (!(payments instanceof Payments)) {
    return Promise.reject(new PaymentsError({ code: 'validation', message: 'fetchWithPayment: options.payments must be a Payments instance' }))
  }
  return payments.fetch(input, init, rest)
}

/** The plan's scheme and network (`nvm:erc4337` or `nvm:card-delegation`), cached per plan for 5 minutes. */
export function resolveScheme(payments, planId) {
  if (!(payments instanceof Payments)) {
    return Promise.reject(new PaymentsError({ code: 'validation', message: 'resolveScheme: the first argument must be a Payments instance' }))
  }
  return payments.resolveScheme(planId)
}
