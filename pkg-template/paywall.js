// The HTTP paywall, payments.paywall(): moves Request/Response objects and calls
// the handler and the user's functions (dynamic credits, onSettled); every
// decision is made in Rust (src/gate.rs). Only nvm-x402/agent carries it: the
// other entries ship absent/paywall.js in its place.
import { PaymentsError } from './errors.js'
import { creditsOf, rethrow, toJson } from './wire.js'

const GATE_HEADERS = ['payment-signature', 'authorization', 'origin', 'access-control-request-method']

const toResponse = ({ status, headers, body }) => new Response(status === 204 ? null : body, { status, headers })

function withHeaders(response, headers) {
  if (headers.length === 0) return response
  const out = new Response(response.body, response)
  for (const [name, value] of headers) {
    if (name === 'vary') out.headers.append(name, value)
    else out.headers.set(name, value)
  }
  return out
}

/** A 500 (or other) JSON answer of the paywall's own, with a `code`. */
const failed = (status, code, message) =>
  new Response(JSON.stringify({ error: 'Internal Server Error', code, message }), { status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' } })

/** Runs the handler: its Response, or undefined when it threw or answered something else (logged). */
async function run(handler, request, ctx) {
  try {
    const response = await handler(request, ctx)
    if (response && typeof response.status === 'number' && typeof response.headers?.get === 'function') return response
    console.error('nvm-x402 paywall: the handler did not return a Response; answering 500 and charging nothing', response)
  } catch (error) {
    console.error('nvm-x402 paywall: the handler threw; answering 500 and charging nothing', error)
  }
  return undefined
}

/** A compiled paywall: `handle(request, handler, ctx?)` gates one request. */
export class Paywall {
  #gate
  #credits = new Map()
  #onSettled

  constructor(core, options) {
    const { routes, onSettled, ...rest } = options ?? {}
    if (onSettled !== undefined && typeof onSettled !== 'function') {
      throw new PaymentsError({ code: 'validation', message: 'paywall: onSettled must be a function' })
    }
    this.#onSettled = onSettled
    const plain = {}
    for (const [key, spec] of Object.entries(routes ?? {})) {
      if (spec && typeof spec === 'object' && typeof spec.credits === 'function') {
        this.#credits.set(key.trim(), spec.credits)
        plain[key] = { ...spec, credits: undefined, creditsDynamic: true }
      } else {
        plain[key] = spec
      }
    }
    try {
      this.#gate = core.paywall(toJson({ ...rest, routes: plain }))
    } catch (error) {
      throw rethrow(error)
    }
  }

  /**
   * Gates `request`: answers it (402, 503, preflight) or runs `handler(request, ctx)` and settles.
   * Always resolves to a Response: whatever goes wrong is a 500 with a `code`, never a rejection.
   */
  async handle(request, handler, ctx) {
    try {
      return await this.#handle(request, handler, ctx)
    } catch (error) {
      console.error('nvm-x402 paywall: answering 500', error)
      return failed(500, 'internal', `The paywall failed: ${error?.message ?? error}`)
    }
  }

  async #handle(request, handler, ctx) {
    const headers = {}
    for (const name of GATE_HEADERS) {
      const value = request.headers.get(name)
      if (value !== null) headers[name] = value
    }
    const begin = await this.#step(() => this.#gate.begin(toJson({ method: request.method, url: request.url, headers })))
    if (begin.action === 'respond') return toResponse(begin.response)
    if (begin.action === 'pass') {
      const response = await run(handler, request, ctx)
      return response ? withHeaders(response, begin.headers) : failed(500, 'handler_failed', 'The handler failed')
    }
    const response = await run(handler, request, ctx)
    let credits = null
    // Everything below 400 is delivered content, so a dynamic price is asked for it too.
    if (response && begin.dynamic && response.status >= 200 && response.status < 400) {
      try {
        credits = creditsOf(await this.#credits.get(begin.route)(request, response.clone()))
      } catch (error) {
        console.error('nvm-x402 paywall: the credits function threw; answering 500 and charging nothing', error)
        credits = { invalid: 'threw' }
      }
    }
    const status = response ? response.status : 0
    const finish = await this.#step(() => this.#gate.finish(begin.ticket, status, toJson(credits)))
    if (finish.settlement && this.#onSettled) {
      const event = { route: begin.route, planId: begin.planId, method: request.method, url: request.url, settlement: finish.settlement }
      const done = Promise.resolve()
        .then(() => this.#onSettled(event))
        .catch((error) => console.error('nvm-x402 paywall: onSettled threw', error))
      if (ctx && typeof ctx.waitUntil === 'function') ctx.waitUntil(done)
    }
    if (finish.action === 'respond') {
      if (response?.body) response.body.cancel().catch(() => {})
      return toResponse(finish.response)
    }
    return withHeaders(response, finish.headers)
  }

  /** A Workers/Deno/Bun `fetch` handler: `export default { fetch: paywall.wrap((request, env, ctx) => ...) }`. */
  wrap(handler) {
    return (request, env, ctx) => this.handle(request, (req) => handler(req, env, ctx), ctx)
  }

  /** The core's answer (JSON text now, or a Promise of it when the backend is asked), parsed. */
  async #step(run) {
    try {
      const out = run()
      return JSON.parse(typeof out === 'string' ? out : await out)
    } catch (error) {
      throw rethrow(error)
    }
  }
}
