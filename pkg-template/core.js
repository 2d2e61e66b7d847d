// nvm-x402 — the JavaScript facade over the WebAssembly core.
// Every call crosses into Rust as (method name, JSON array of arguments) and
// comes back as JSON; errors come back as PaymentsError, built by the core
// (src/wasm/mod.rs); bigints are sent as decimal strings. Every decision is made in
// Rust. What lives here is what only JavaScript can do: moving Request and
// Response objects (a paying call's courier sends each hop the core decides on,
// src/client/paying.rs).
// The HTTP paywall is in paywall.js, the MCP paywall in mcp-server.js: each entry
// ships them or their absent/ stand-ins, with the core built for it.
// The WebAssembly is loaded on first use (loader.js; each entry file says
// where it comes from), so importing the package, a constant or a type costs nothing.
import { NvmCore, callSync, methodNames } from './nvm_x402.js'
import { PaymentsError } from './errors.js'
import { ensureSync, ready } from './loader.js'
import { mcpServer } from './mcp-server.js'
import { Paywall } from './paywall.js'
import { toJson } from './wire.js'

export { PaymentsError, Paywall, ready }

function sync(name) {
  return (...args) => {
    ensureSync()
    return JSON.parse(callSync(name, toJson(args)))
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
export const getPayAsYouGoPriceConfig = /* @__PURE__ */ sync('getPayAsYouGoPriceConfig')
export const getPayAsYouGoCreditsConfig = /* @__PURE__ */ sync('getPayAsYouGoCreditsConfig')

const PLAN_HELPERS = { getFreePriceConfig, getCryptoPriceConfig, getNativeTokenPriceConfig, getERC20PriceConfig, getFiatPriceConfig, getEURCPriceConfig, getFixedCreditsConfig, getDynamicCreditsConfig, getExpirableDurationConfig, getNonExpirableDurationConfig, getPayAsYouGoCreditsConfig }

export const ONE_DAY_DURATION = 86_400n
export const ONE_WEEK_DURATION = 604_800n
export const ONE_MONTH_DURATION = 2_629_746n
export const ONE_YEAR_DURATION = 31_557_600n
export const ZeroAddress = '0x0000000000000000000000000000000000000000'

// The official SDK's exported values (the core's LOCKED_API_VERSION and EURC address are
// the same: tests/js/node/surface.test.mjs).
export const LOCKED_API_VERSION = '1.1'
export const API_VERSION_HEADER = 'Nevermined-Version'
export const EURC_TOKEN_ADDRESS = '0x60a3E35Cc302bFA44Cb288Bc5a4F316Fdb1adb42'
export const EURC_TOKEN_ADDRESS_TESTNET = '0x808456652fdb597867f38412077A9182bf77359F'
export const Currency = Object.freeze({ USD: 'USD', EUR: 'EUR', USDC: 'USDC', EURC: 'EURC' })
export const PlanRedemptionType = Object.freeze({ ONLY_GLOBAL_ROLE: 0, ONLY_OWNER: 1, ONLY_PLAN_ROLE: 2, ONLY_SUBSCRIBER: 4, 0: 'ONLY_GLOBAL_ROLE', 1: 'ONLY_OWNER', 2: 'ONLY_PLAN_ROLE', 4: 'ONLY_SUBSCRIBER' })
const environmentOfKey = /* @__PURE__ */ sync('getEnvironmentFromApiKey')
export const getEnvironmentFromApiKey = (nvmApiKey) => environmentOfKey(nvmApiKey) ?? undefined
export const isEthereumAddress = /* @__PURE__ */ sync('isEthereumAddress')
/** WHATWG's origin of the last endpoint's URL, as the official helper computes it (the package itself never uses it). */
export const getServiceHostFromEndpoints = (endpoints) => (endpoints.length ? new URL(Object.values(endpoints.at(-1))[0]).origin : '')
let warnedDeprecation = false // the official SDK warns once per process

// ---- the paying client: the core runs each call (src/client/paying.rs); this sends what it decides ----

/**
 * The hands of one paying call. `send(hopJson)` makes the request the core
 * decided on — a new attempt from a copy of `original`, or the next hop of a
 * redirect from the last request, with the headers it drops and sets — sends
 * it and answers what the core reads of the response (JSON; `location`
 * resolved by the WHATWG parser, `''` when it can't be). `send('text')` reads the last response's body (the answer the
 * core keeps), `send('discard')` cancels it. `held()` is the last response:
 * the call's answer. An earlier response's unread body is cancelled when the
 * next hop goes.
 */
function courier(fetchImpl, original, cap) {
  let current = original
  let held = null
  const drop = () => {
    if (held?.body && !held.bodyUsed) held.body.cancel().catch(() => {})
    held = null
  }
  const send = async (text) => {
    if (text === 'text') return cap ? upTo(held, cap) : held.text()
    if (text === 'discard') return drop()
    const hop = JSON.parse(text)
    drop()
    const headers = new Headers((hop.attempt ? original : current).headers)
    for (const name of hop.drop) headers.delete(name)
    for (const [name, value] of Object.entries(hop.headers)) headers.set(name, value)
    if (hop.token !== undefined) headers.set('payment-signature', hop.token)
    current = hop.attempt
      ? new Request(original.clone(), { headers, redirect: hop.redirect, ...(hop.body === undefined ? {} : { body: hop.body }) })
      : new Request(hop.url, { method: hop.method, headers, redirect: hop.redirect, signal: current.signal, body: hop.keepBody ? await current.clone().blob() : undefined })
    const response = await fetchImpl(current.clone())
    held = response
    const location = response.headers.get('location')
    let resolved = null
    if (location !== null) {
      try {
        resolved = new URL(location, current.url).href
      } catch {
        resolved = ''
      }
    }
    const header = (name) => response.headers.get(name)
    return JSON.stringify({ status: response.status, opaque: response.type === 'opaqueredirect', location: resolved, paymentRequired: header('payment-required'), paymentResponse: header('payment-response'), mcpSessionId: header('mcp-session-id'), wwwAuthenticate: header('www-authenticate'), paymentReceipt: header('payment-receipt') })
  }
  return { send, held: () => held }
}

/** At most `cap` bytes of a response's body, as text (an MPP 402's, read for its code). */
async function upTo(response, cap) {
  const reader = response.body?.getReader()
  if (!reader) return ''
  const chunks = []
  let size = 0
  while (size < cap) {
    const { done, value } = await reader.read()
    if (done) break
    chunks.push(value.subarray(0, cap - size))
    size += value.byteLength
  }
  reader.cancel().catch(() => {})
  return new TextDecoder().decode(await new Blob(chunks).arrayBuffer())
}

/**
 * One paying call (`kind`: `fetch`, `query` or `tool`), run by the core:
 * resolves to its answer and the last response. An error that came after an
 * answer carries it (`error.response`, e.g. max_credits_exceeded: the caller
 * may still read it).
 */
async function paying(core, kind, fetchImpl, original, options) {
  const mpp = kind === 'mpp'
  const { send, held } = courier(fetchImpl, original, mpp && 65536)
  const request = { url: original.url, method: original.method, hasToken: original.headers.has('payment-signature'), redirect: original.redirect, mcpSessionId: original.headers.get('mcp-session-id'), ...(mpp && { authorization: original.headers.get('authorization') }) }
  try {
    const answer = await core.pay(kind, JSON.stringify(request), toJson(options ?? null), send)
    return { answer: JSON.parse(answer), response: held() }
  } catch (error) {
    if (error instanceof PaymentsError && held()) error.response = held()
    throw error
  }
}

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
    const core = new NvmCore(toJson(rest), send)
    cores.set(this, core)
    // Kept for nvm-x402/express, which makes an nvm-x402/agent client with the same options
    // when it is given a client of another entry (not enumerable; the caller's own options).
    Object.defineProperty(this, Symbol.for('nvm-x402.options'), { value: options })
    Object.defineProperty(this, Symbol.for('nvm-x402.core'), { value: core }) // (nvm-x402/a2a's Payments)
    const info = JSON.parse(core.info())
    timeoutMs = info.timeoutMs
    this.environment = info.environment
    this.backendUrl = info.backendUrl
    this.accountAddress = info.accountAddress ?? undefined
    this.isBrowserInstance = false
    if (info.deprecation && !warnedDeprecation) {
      warnedDeprecation = true
      console.warn(info.deprecation)
    }
    const call = (method) => async (...args) => JSON.parse(await core.call(method, toJson(args)))
    // The namespaces, from the core's method table (src/bridge.rs): `plans.getPlan` is
    // payments.plans.getPlan, `resolveScheme` payments.resolveScheme. plans also carries
    // the price and credits helpers, the same functions the package exports.
    const namespaces = { plans: { ...PLAN_HELPERS } }
    for (const name of methodNames().split('\n')) {
      const dot = name.indexOf('.')
      if (dot < 0) this[name] = call(name)
      else (namespaces[name.slice(0, dot)] ??= {})[name.slice(dot + 1)] = call(name)
    }
    // payments.mpp.fetch: pays an MPP challenge (src/client/paying/mpp.rs decides; nvm-x402/mpp's core only).
    namespaces.mpp.fetch = async (input, init, options) => {
      const { answer, response } = await paying(core, 'mpp', agentFetchImpl, new Request(input, init), options)
      return { response, ...answer }
    }
    for (const [ns, members] of Object.entries(namespaces)) this[ns] = Object.freeze(members)
    const agentFetchImpl = fetch ?? ((request) => globalThis.fetch(request))
    this.fetch = async (input, init, payOptions) => {
      const { answer, response } = await paying(core, 'fetch', agentFetchImpl, new Request(input, init), payOptions)
      return { response, paymentResponse: answer.paymentResponse }
    }
    this.queryAgent = async ({ agentUrl, prompt, method = 'POST', ...options } = {}) => {
      const verb = String(method).toUpperCase()
      const bodyless = verb === 'GET' || verb === 'HEAD'
      const url = bodyless ? withQuery(agentUrl, { prompt }) : agentUrl
      const init = { method: verb, headers: { accept: 'application/json', ...(bodyless ? {} : { 'content-type': 'application/json' }) }, ...(bodyless ? {} : { body: JSON.stringify({ prompt }) }) }
      return (await paying(core, 'query', agentFetchImpl, new Request(url, init), options)).answer
    }
    // A JSON-RPC tools/call; the core negotiates the MCP revision and writes each body, the token in params._meta.
    const callTool = async ({ url, headers = {}, ...call } = {}) => {
      const original = new Request(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers } })
      return (await paying(core, 'tool', agentFetchImpl, original, call)).answer
    }
    this.mcp = Object.freeze({ callTool, ...mcpServer(core) })
    // Overridden in nvm-x402/a2a and /a2a-client (build.sh names the entry).
    const a2a = (name, home) => () => {
      throw new PaymentsError({ code: 'not_in_entry', message: `a2a.${name} is not in __ENTRY__, which carries a smaller core`, hint: `import { Payments } from 'nvm-x402/${home}' for it` })
    }
    this.a2a = Object.freeze({ paywall: a2a('paywall', 'a2a'), getClient: a2a('getClient', 'a2a-client') })
  }

  getEnvironmentName() {
    return this.environment
  }

  getAccountAddress() {
    return this.accountAddress
  }

  /** `X-Current-Org-Id` of every later authenticated call (null: none). */
  getOrganizationId() {
    return JSON.parse(cores.get(this).info()).organizationId ?? null
  }

  setOrganizationId(id) {
    if (id != null && typeof id !== 'string') throw new PaymentsError({ code: 'validation', message: 'setOrganizationId: the id must be a string or null' })
    cores.get(this).setOrganizationId(id ?? undefined)
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
