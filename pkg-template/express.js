// Express middleware for nvm-x402's paywall, with the official SDK's signature:
// `app.use(paymentMiddleware(payments, { 'POST /ask': { planId, credits, agentId } }, options))`
// (@nevermined-io/payments/express). It adapts Express's req/res to the gate
// (payments.paywall, nvm-x402/agent); every decision is the gate's. Unlike the
// official middleware it fails closed: the handler's whole answer (res.json,
// res.send, res.end, streamed writes) is held until settle succeeds, and a
// settle that fails or can't be asked delivers a 402 or 503 instead of the paid
// bytes. Node only (this entry uses Buffer; the others use no Node built-ins).
import { Payments as AgentPayments } from './express-core/index.js'
import { GATE_HEADERS } from './express-core/paywall.js'
import { PaymentsError } from './errors.js'
/** Where captureRawBody keeps a request's bytes (the official middleware's symbol). */
const RAW_BODY = Symbol.for('nevermined.rawBody')
/** Marks a Request whose body came but can't be read (the paywall then binds nothing: refused). */
const UNREAD = Symbol.for('nvm-x402.bodyUnread')
/** MPP's HTTP header names (the official middleware's MPP_HEADERS), frozen. */
export const MPP_HEADERS = Object.freeze({ CHALLENGE: 'www-authenticate', CREDENTIAL: 'authorization', RECEIPT: 'payment-receipt' })

/**
 * Keeps the raw request body for an MPP route's `bindBody`: mount the parser as
 * `express.json({ verify: captureRawBody })` (the official helper).
 */
export function captureRawBody(req, _res, buf) {
  if (buf?.length) req[RAW_BODY] = Buffer.from(buf)
}

/** The official `resolveMppOption`: a route's `mpp` as `{enabled, bindBody}`. */
export function resolveMppOption(option) {
  if (option === undefined || option === false) return { enabled: false, bindBody: false }
  if (option === true) return { enabled: true, bindBody: false }
  return { enabled: true, bindBody: option.bindBody === true }
}

/** A Payments client's constructor options (core.js): to make an agent client from one of another entry. */
const OPTIONS = Symbol.for('nvm-x402.options')
/** The x402 HTTP transport's header names (the official middleware's X402_HEADERS), frozen. */
export const X402_HEADERS = Object.freeze({ PAYMENT_SIGNATURE: 'payment-signature', PAYMENT_REQUIRED: 'payment-required', PAYMENT_RESPONSE: 'payment-response' })

/** The agent client for `payments`: itself when it can make a paywall, else one with its options. */
function agentClient(payments) {
  if (typeof payments?.paywall !== 'function') throw new PaymentsError({ code: 'validation', message: 'paymentMiddleware: the first argument must be a Payments client' })
  if (payments instanceof AgentPayments) return payments
  const options = payments[OPTIONS]
  if (options === undefined) return payments
  return AgentPayments.getInstance(options)
}

/**
 * The official route table as the paywall's: `{ 'POST /ask': { planId, credits?: number |
 * (req, res) => number, agentId?, network?, scheme?, description?, mimeType? } }`. One agent
 * per middleware (the paywall's `agentId`): the routes' own, or `options.agentId`.
 */
function paywallRoutes(routes, fallback, credit) {
  let agent
  const out = {}
  for (const [key, spec] of Object.entries(routes ?? {})) {
    const { agentId = fallback, credits = 1, ...rest } = spec ?? {}
    if (agentId === undefined || agentId === null || agentId === '') {
      throw new PaymentsError({ code: 'validation', message: `paymentMiddleware: route "${key}" needs an agentId (in the route, or options.agentId)`, hint: 'The agentId is the Nevermined agent whose plan the route sells; the backend checks the URL against its registered endpoints.' })
    }
    if (agent !== undefined && String(agentId) !== String(agent)) {
      throw new PaymentsError({ code: 'validation', message: `paymentMiddleware: route "${key}" is for agent ${agentId}, another is for ${agent}: use one paymentMiddleware per agent` })
    }
    agent = agentId
    out[key] = { ...rest, credits: typeof credits === 'function' ? credit(credits) : credits }
  }
  return { agentId: agent ?? fallback, routes: out }
}

/** A Host header that is a host (and port): anything else could change the URL the gate reads. */
const HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/
/** A dot segment (`.`, `..`, encoded or not), or a backslash: Express routes the raw path, a URL resolves them. */
const AMBIGUOUS_PATH = /(?:^|\/)(?:\.|%2e){1,2}(?:\/|$)|\\|%5c/i

/**
 * Express's request as the Fetch Request the gate reads (its URL, method and the
 * headers it looks at; no body), or null when its URL can't be told to the gate as
 * Express routes it (a forged Host, dot segments, backslashes): such a request is
 * refused (400), never passed as unprotected. The path is the one Express routes on
 * (`originalUrl`'s, absolute-form request lines included); the Host goes through
 * the URL's own setter, never pasted into the text.
 */
function fetchRequest(req, tokenHeader) {
  const host = req.get('host') ?? ''
  let target = req.originalUrl
  if (!target.startsWith('/')) {
    try {
      const absolute = new URL(target)
      target = `${absolute.pathname}${absolute.search}`
    } catch {
      return null
    }
  }
  const query = target.indexOf('?')
  const path = query < 0 ? target : target.slice(0, query)
  if (!HOST.test(host) || AMBIGUOUS_PATH.test(path) || path.includes('#')) return null
  const url = new URL('http://localhost/')
  url.protocol = req.protocol === 'https' ? 'https:' : 'http:'
  url.host = host
  url.pathname = path
  url.search = query < 0 ? '' : target.slice(query)
  const headers = new Headers()
  for (const name of GATE_HEADERS) {
    const value = req.headers[name]
    if (typeof value === 'string') headers.set(name, value)
  }
  for (const name of tokenHeader) {
    const value = req.headers[name.toLowerCase()]
    if (typeof value === 'string' && value !== '') {
      headers.set('payment-signature', value)
      break
    }
  }
  // The body, for an MPP route's bindBody: the bytes captureRawBody kept; a body that
  // came but was not kept can't be bound, so reading it fails (nothing is charged).
  const raw = req[RAW_BODY]
  const came = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined
  const bodyless = req.method === 'GET' || req.method === 'HEAD'
  const body = bodyless ? undefined : raw ?? (came ? new ReadableStream({ start: (c) => c.error(new Error('the body was not captured: mount the parser with { verify: captureRawBody }')) }) : undefined)
  const request = new Request(url, { method: req.method, headers, body, duplex: 'half' })
  // A GET or HEAD that came with a body (a Fetch Request can't hold it): it can't be bound either.
  if (bodyless && (came || raw)) Object.defineProperty(request, UNREAD, { value: true })
  return request
}

/**
 * Holds everything the handler writes (status, headers, body: res.json, res.send,
 * res.end, write + end) until the gate has settled. Resolves to the handler's
 * answer as a Response, or undefined when the buyer went away before it was done
 * (then nothing is charged). `release()` gives `res` its own methods back.
 */
function hold(req, res) {
  const own = { writeHead: res.writeHead, write: res.write, end: res.end, flushHeaders: res.flushHeaders, writeEarlyHints: res.writeEarlyHints, setHeader: res.setHeader, appendHeader: res.appendHeader }
  const chunks = []
  let finished = false
  let gone = false
  // What of a successful answer was made before it turned into an error (Express's error page
  // after res.write, after res.cookie): bytes written, and the headers last set while it was one.
  let wrote = false
  const okHeaders = new Map()
  const header = (name) => okHeaders.set(String(name).toLowerCase(), res.statusCode < 400)
  let done
  const answered = new Promise((resolve) => {
    done = resolve
  })
  const onClose = () => {
    if (!finished) {
      gone = true
      done(undefined)
    }
  }
  res.once('close', onClose)
  const bytes = (chunk, encoding) => (typeof chunk === 'string' ? Buffer.from(chunk, typeof encoding === 'string' ? encoding : 'utf8') : Buffer.from(chunk))
  res.writeHead = function writeHead(status, reason, headers) {
    const given = typeof reason === 'string' ? headers : reason
    res.statusCode = status
    if (status < 400) wrote = true
    if (Array.isArray(given)) for (let i = 0; i + 1 < given.length; i += 2) res.setHeader(given[i], given[i + 1])
    else if (given) for (const [name, value] of Object.entries(given)) res.setHeader(name, value)
    return res
  }
  res.flushHeaders = () => {}
  res.writeEarlyHints = (hints, callback) => {
    if (typeof callback === 'function') queueMicrotask(callback) // held back: nothing leaves before the settle
  }
  res.setHeader = function setHeader(name, ...rest) {
    header(name)
    return own.setHeader.call(res, name, ...rest)
  }
  if (typeof own.appendHeader === 'function') {
    res.appendHeader = function appendHeader(name, ...rest) {
      header(name)
      return own.appendHeader.call(res, name, ...rest)
    }
  }
  res.write = function write(chunk, encoding, callback) {
    if (res.statusCode < 400) wrote = true
    if (chunk !== undefined && chunk !== null) chunks.push(bytes(chunk, encoding))
    const cb = typeof encoding === 'function' ? encoding : callback
    if (typeof cb === 'function') queueMicrotask(cb)
    return true
  }
  res.end = function end(chunk, encoding, callback) {
    if (typeof chunk === 'function') [chunk, callback] = [undefined, chunk]
    if (typeof encoding === 'function') [encoding, callback] = [undefined, encoding]
    if (chunk !== undefined && chunk !== null) chunks.push(bytes(chunk, encoding))
    if (finished) return res
    finished = true
    if (typeof callback === 'function') res.once('finish', callback)
    if (gone) return res
    const status = res.statusCode
    if (status >= 400) {
      // An error after bytes of a successful answer: none of it goes out (the gate answers a 500, charging nothing).
      if (wrote) {
        done(undefined)
        return res
      }
      // The error itself goes out, uncharged, without the headers set for the answer it replaced.
      for (const [name, early] of okHeaders) if (early) res.removeHeader(name)
    }
    try {
      const headers = new Headers()
      for (const [name, value] of Object.entries(res.getHeaders())) {
        for (const one of Array.isArray(value) ? value : [value]) headers.append(name, String(one))
      }
      const empty = status === 204 || status === 304 || req.method === 'HEAD'
      done(new Response(empty ? null : Buffer.concat(chunks), { status, headers }))
    } catch {
      done(undefined) // a status or header a Response can't carry (600, 1xx): the handler failed
    }
    return res
  }
  const release = () => {
    res.removeListener('close', onClose)
    Object.assign(res, own)
  }
  return { answered, release, gone: () => gone }
}

/** Writes the gate's answer (the held one with its receipt, or the gate's own 402/503/500) to `res`. */
async function send(res, response) {
  if (res.headersSent || res.writableEnded || res.destroyed) return
  for (const name of res.getHeaderNames()) res.removeHeader(name)
  res.statusCode = response.status
  const cookies = response.headers.getSetCookie()
  for (const [name, value] of response.headers) if (name !== 'set-cookie') res.setHeader(name, value)
  if (cookies.length > 0) res.setHeader('set-cookie', cookies)
  res.end(response.body ? Buffer.from(await response.arrayBuffer()) : undefined)
}

/**
 * `paymentMiddleware(payments, routes, options)`: protects the routes of the
 * official table (`"METHOD /path"`, `:param` segments) with nvm-x402's gate.
 * Options: `tokenHeader` (default `payment-signature`), `agentId` (for routes
 * without one), `onBeforeVerify(req, paymentRequired)`, `onAfterVerify(req,
 * verification)`, `onAfterSettle(req, creditsUsed, settlement)`,
 * `onPaymentError(error, req, res)` (it may answer a request refused before its
 * handler ran itself; after the handler, the gate's 402 or 503 is sent),
 * and the paywall's own (`upfront`, `cors`, `caseSensitive`, `repeatPayers`).
 * A paid handler finds `req.paymentContext` as the official sets it.
 */
export function paymentMiddleware(payments, routes, options = {}) {
  const { tokenHeader = [X402_HEADERS.PAYMENT_SIGNATURE], onBeforeVerify, onAfterVerify, onAfterSettle, onPaymentError, agentId, ...paywallOptions } = options ?? {}
  const tokenHeaders = Array.isArray(tokenHeader) ? tokenHeader : [tokenHeader]
  const client = agentClient(payments)
  /** The Express (req, res) of each Fetch Request in flight, for credits functions and hooks. */
  const pending = new WeakMap()
  const expressOf = (request) => pending.get(request)
  const observe = (hook, run) =>
    async (request, ...rest) => {
      const express = expressOf(request)
      if (!express) return
      run?.(express, ...rest)
      if (hook) await hook(express.req, ...rest)
    }
  const hooks = {
    onBeforeVerify: observe(onBeforeVerify, ({ req }, paymentRequired) => {
      req.paymentContext = { token: undefined, paymentRequired, creditsToSettle: undefined, verified: false }
    }),
    onAfterVerify: observe(onAfterVerify, ({ req, token }, verification) => {
      const agentRequest = verification?.agentRequest
      req.paymentContext = { ...req.paymentContext, token, verified: true, agentRequest, agentRequestId: agentRequest?.agentRequestId ?? verification?.agentRequestId }
    }),
    onAfterSettle: observe(onAfterSettle, ({ req }, credits) => {
      if (req.paymentContext) req.paymentContext.creditsToSettle = credits
    }),
    ...(onPaymentError ? { onPaymentError: async (error, request) => {
      const express = expressOf(request)
      if (express) await onPaymentError(error, express.req, express.res)
    } } : {}),
  }
  // A dynamic price is the route's function, called after the handler with Express's req and res (res.locals).
  const credit = (credits) => (request) => credits(expressOf(request).req, expressOf(request).res)
  const gate = client.paywall({ ...paywallOptions, ...paywallRoutes(routes, agentId, credit), ...hooks })
  return (req, res, next) => {
    const request = fetchRequest(req, tokenHeaders)
    if (request === null) {
      res.status(400).json({ error: 'Bad Request', code: 'ambiguous_request', message: 'The request\'s Host or path can\'t be checked by the paywall as Express routes it (a forged Host, dot segments or backslashes)' })
      return
    }
    const express = { req, res, token: request.headers.get(X402_HEADERS.PAYMENT_SIGNATURE) ?? undefined, credits: undefined }
    pending.set(request, express)
    let held = null
    let passed = false
    const handler = async (_request, _ctx, payment) => {
      if (!payment?.paid) {
        // Not a paid route: Express answers as it would without the middleware.
        passed = true
        next()
        return new Response(null)
      }
      // A buyer who went away (before the handler, or while it ran) is charged nothing.
      const left = () => res.destroyed || req.socket?.destroyed === true
      if (left()) return undefined
      express.credits = payment.credits
      if (req.paymentContext) req.paymentContext.creditsToSettle = Number(payment.credits)
      // Paid with MPP: the official context's credential and `mpp` ({credential, resource, httpVerb}).
      if (payment.mpp && req.paymentContext) Object.assign(req.paymentContext, { token: payment.mpp.credential, mpp: payment.mpp })
      held = hold(req, res)
      next()
      const answer = await held.answered
      return held.gone() || left() ? undefined : answer
    }
    gate.handle(request, handler).then(
      async (response) => {
        held?.release()
        if (!passed) await send(res, response)
      },
      (error) => {
        held?.release()
        next(error)
      },
    )
  }
}

export default paymentMiddleware

/** A Nevermined client of this entry's core: the paywall with MPP routes, and the seller's `payments.mpp` calls (issueChallenge, verifyCredential, settleCredential). */
export { Payments } from './express-core/index.js'
