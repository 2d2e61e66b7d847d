// Crossing the boundary: JSON text for the core, its answers back, and what
// a user's credits function returned. (Its errors are PaymentsError already:
// the core builds them, src/wasm/mod.rs.) Shared by the
// facade (core.js), the HTTP paywall (paywall.js) and the MCP paywall (mcp-server.js).
import { PaymentsError } from './errors.js'

/** JSON text for the core (bigints as decimal strings); what JSON can't hold (a cycle, a throwing toJSON) is a validation error. */
export function toJson(args) {
  try {
    // Without a replacer first: a replacer function is called for every key and costs
    // more than the rest of the call for a token (bench/README.md). BigInts throw there.
    return JSON.stringify(args)
  } catch {
    // a BigInt (or a value JSON can't hold: asked again, to say why)
  }
  try {
    return JSON.stringify(args, (_key, value) => (typeof value === 'bigint' ? value.toString() : value))
  } catch (error) {
    throw new PaymentsError({ code: 'validation', message: `The arguments can't be sent as JSON: ${error?.message ?? error}` })
  }
}

/** How a function given in options crosses to the core: it stays here, the core learns there is one (src/protocol/gate.rs FUNCTION_MARK). */
const FUNCTION_MARK = Object.freeze({ $function: true })

/** Options as JSON text for the core, each function written as its mark (bigints as decimal strings). */
export function optionsJson(options) {
  try {
    return JSON.stringify(options, (_key, value) => (typeof value === 'function' ? FUNCTION_MARK : typeof value === 'bigint' ? value.toString() : value))
  } catch (error) {
    throw new PaymentsError({ code: 'validation', message: `The options can't be sent as JSON: ${error?.message ?? error}` })
  }
}

/** The lifecycle hooks, by the official SDK's names, and the arguments each is called with from what the core tells it. */
const HOOK_ARGUMENTS = {
  onBeforeVerify: (subject, detail) => [subject, detail],
  onAfterVerify: (subject, detail) => [subject, detail],
  onAfterSettle: (subject, { credits, settlement }) => [subject, Number(credits), settlement],
  onPaymentError: (subject, detail) => [new PaymentsError(detail), subject],
}

/** What a hook that took too long is taken as (no hook can return it). */
const LATE = Symbol('late')

/** The hook functions among `options` (and these `also`), by name. */
export function hooksOf(options, also = []) {
  const hooks = {}
  for (const name of [...Object.keys(HOOK_ARGUMENTS), ...also]) {
    if (typeof options?.[name] === 'function') hooks[name] = options[name]
  }
  return hooks
}

/**
 * Calls hook `name` of `hooks` about `subject` (the Request, or the MCP call) with what the core
 * told it (JSON), as `args` lays it out. One that throws or rejects is logged, and one that has not finished within
 * `timeoutMs` (the client's backend time limit) is no longer waited for: either way the payment
 * goes on as decided, so a hook can't hold back an answer whose credits are already spent.
 */
export async function callHook(hooks, name, subject, detail, who, timeoutMs, args = HOOK_ARGUMENTS[name]) {
  let timer
  const late = new Promise((resolve) => {
    timer = setTimeout(() => resolve(LATE), timeoutMs)
  })
  try {
    const run = Promise.resolve().then(() => hooks[name](...args(subject, JSON.parse(detail))))
    if ((await Promise.race([run, late])) === LATE) {
      run.catch((error) => console.error(`nvm-x402 ${who}: ${name} threw after it was given up on`, error))
      console.error(`nvm-x402 ${who}: ${name} did not finish within ${timeoutMs} ms; the payment goes on as decided`)
    }
  } catch (error) {
    console.error(`nvm-x402 ${who}: ${name} threw; the payment goes on as decided`, error)
  } finally {
    clearTimeout(timer)
  }
}

/** The core's answer (JSON text now, or a Promise of it when something was awaited), parsed. */
export async function answerOf(out) {
  return JSON.parse(typeof out === 'string' ? out : await out)
}

/**
 * What a dynamic credits function returned, for the core to check: a bigint as a
 * decimal string, a finite number or a string as is, anything else (undefined,
 * null, NaN, Infinity, objects) as `{invalid: kind}` so that it can never read as
 * "no amount given".
 */
export function creditsOf(value) {
  if (typeof value === 'bigint') return value.toString()
  if (typeof value === 'string') return value
  if (typeof value === 'number') return Number.isFinite(value) ? value : { invalid: String(value) }
  return { invalid: value === null ? 'null' : typeof value }
}
