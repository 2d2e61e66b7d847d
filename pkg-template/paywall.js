// The HTTP paywall, payments.paywall(): the request runs through the core as one
// call (src/gate.rs, Gate::handle), which asks back for what only JavaScript can
// do: run the handler, price its Response (a dynamic route's credits function),
// call a lifecycle hook. Every decision is the core's; what lives here moves
// Request and Response objects and calls the user's functions. Only
// nvm-x402/agent carries it: the other entries ship absent/paywall.js in its place.
import { answerOf, callHook, creditsOf, hooksOf, optionsJson, toJson } from './wire.js'

/** What the handler of an unprotected route (or a free preflight-less pass) is told. */
const UNPAID = Object.freeze({ paid: false })

/** The request headers the gate reads (the token, CORS); the Express adapter hands it these. */
export const GATE_HEADERS = ['payment-signature', 'authorization', 'origin', 'access-control-request-method']

const toResponse = ({ status, headers, body }) => new Response(status === 204 ? null : body, { status, headers })

/**
 * The handler's Response with the gate's headers: set in place when its headers
 * can change (a Response the handler made), else on a copy (a fetched Response's
 * headers are immutable). In place saves the copy's body stream.
 */
function withHeaders(response, headers) {
  if (headers.length === 0) return response
  const put = (out) => {
    for (const [name, value] of headers) {
      if (name === 'vary') out.headers.append(name, value)
      else out.headers.set(name, value)
    }
    return out
  }
  // A body-less Response may be one the handler hands out again (a shared 204): never stamp a receipt on it.
  if (response.body === null) return put(new Response(null, response))
  try {
    return put(response)
  } catch {
    return put(new Response(response.body, response))
  }
}

/**
 * Runs the handler with `payment` (`{paid: false}`, or `{paid: true, planId, credits}`):
 * its Response, or undefined when it threw or answered something else (logged).
 */
async function run(handler, request, ctx, payment) {
  try {
    const response = await handler(request, ctx, payment)
    if (response?.bodyUsed === true) {
      // It could not be delivered (its body is gone): charging for it would be charging for nothing.
      console.error('nvm-x402 paywall: the handler returned a Response whose body was already read; answering 500 and charging nothing')
      return undefined
    }
    if (response && typeof response.status === 'number' && typeof response.headers?.get === 'function') return response
    console.error('nvm-x402 paywall: the handler did not return a Response; answering 500 and charging nothing', response)
  } catch (error) {
    console.error('nvm-x402 paywall: the handler threw; answering 500 and charging nothing', error)
  }
  return undefined
}

/**
 * The SHA-256 of the request body in base64 (an MPP route's `bindBody`; an empty
 * body's too), or '' when it can't be read (nothing is charged then). Read from a
 * clone: the handler still gets the body.
 */
async function digestOf(request) {
  if (request[Symbol.for('nvm-x402.bodyUnread')]) return ''
  try {
    const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', await request.clone().arrayBuffer()))
    return btoa(String.fromCharCode(...hash))
  } catch {
    return ''
  }
}

/** A compiled paywall: `handle(request, handler, ctx?)` gates one request. */
export class Paywall {
  #gate
  /** The user's functions, as given: credits functions by route key, the hooks by name. */
  #credits = new Map()
  #hooks = {}
  /** How long a hook is waited for: the client's backend time limit. */
  #hookMs

  constructor(core, options) {
    // Functions (credits functions, hooks) stay here; the core is told where they are and checks them.
    this.#gate = core.paywall(optionsJson(options ?? {}))
    for (const [key, spec] of Object.entries(options.routes)) {
      if (typeof spec?.credits === 'function') this.#credits.set(key.trim(), spec.credits)
    }
    this.#hooks = hooksOf(options, ['onSettled'])
    this.#hookMs = JSON.parse(core.info()).timeoutMs
  }

  /**
   * Gates `request`: answers it (402, 503, preflight) or runs `handler(request, ctx)` and settles.
   * Always resolves to a Response: whatever goes wrong is a 500 with a `code`, never a rejection.
   */
  async handle(request, handler, ctx) {
    try {
      return await this.#handle(request, handler, ctx)
    } catch (error) {
      // The one answer that can't come from the core: the core (or the runtime) failed.
      console.error('nvm-x402 paywall: answering 500', error)
      return new Response(JSON.stringify({ error: 'Internal Server Error', code: 'internal', message: `The paywall failed: ${error?.message ?? error}` }), { status: 500, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' } })
    }
  }

  async #handle(request, handler, ctx) {
    const headers = {}
    for (const name of GATE_HEADERS) {
      const value = request.headers.get(name)
      if (value !== null) headers[name] = value
    }
    const described = toJson({ method: request.method, url: request.url, headers })
    let response // the handler's, once it ran
    const exchange = (what, arg) => {
      if (what === 'run') {
        return run(handler, request, ctx, { paid: true, ...JSON.parse(arg) }).then((answered) => {
          response = answered
          return answered ? answered.status : 0
        })
      }
      if (what === 'price') return this.#price(arg, request, response)
      if (what === 'digest') return digestOf(request)
      return callHook(this.#hooks, what, request, arg, 'paywall', this.#hookMs)
    }
    const out = await answerOf(this.#gate.handle(described, exchange))
    if (out.action === 'pass') {
      const passed = await run(handler, request, ctx, UNPAID)
      return passed ? withHeaders(passed, out.headers) : toResponse(JSON.parse(this.#gate.handlerFailed(described)))
    }
    const onSettled = this.#hooks.onSettled
    if (out.settlement && onSettled) {
      const event = { route: out.route, planId: out.planId, method: request.method, url: request.url, settlement: out.settlement }
      const done = Promise.resolve()
        .then(() => onSettled(event))
        .catch((error) => console.error('nvm-x402 paywall: onSettled threw', error))
      if (ctx && typeof ctx.waitUntil === 'function') ctx.waitUntil(done)
    }
    if (out.action === 'respond') {
      if (response?.body) response.body.cancel().catch(() => {})
      return toResponse(out.response)
    }
    return withHeaders(response, out.headers)
  }

  /** A dynamic route's price for the handler's Response (JSON for the core; a function that throws is `{invalid: 'threw'}`). */
  async #price(route, request, response) {
    try {
      return toJson(creditsOf(await this.#credits.get(route)(request, response.clone())))
    } catch (error) {
      console.error('nvm-x402 paywall: the credits function threw; answering 500 and charging nothing', error)
      return toJson({ invalid: 'threw' })
    }
  }

  /** A Workers/Deno/Bun `fetch` handler: `export default { fetch: paywall.wrap((request, env, ctx) => ...) }`. */
  wrap(handler) {
    return (request, env, ctx) => this.handle(request, (req) => handler(req, env, ctx), ctx)
  }
}
