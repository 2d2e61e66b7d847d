// nvm-x402/langchain: the official SDK's LangChain integration (@nevermined-io/payments/langchain):
// `requiresPayment(fn, {payments, planId, credits?, agentId?, network?})` makes a LangChain
// tool's function paid: the caller's x402 access token comes in `config.configurable.payment_token`,
// is verified before the function runs and settled after. A call runs through the core as one
// call (src/gate/tool.rs, ToolGate::handle), which asks back for what only JavaScript can do:
// run the function, price its result, open and close the LangSmith spans. Every decision is
// the core's. Unlike the official decorator it fails closed: a settle that fails withholds the
// result (the official logs it and returns the result unpaid).
import { Payments as ToolPayments } from './mcp/index.js'
import { PaymentsError } from './errors.js'
import { answerOf, creditsOf, optionsJson, toJson } from './wire.js'
import { activeRunTree, addMetadata, buildSettleMetadata, buildVerifyMetadata, redactMetadataKeys, settlementSpan, verifySpan } from './langsmith.js'

const OPTIONS = Symbol.for('nvm-x402.options')
const CORE = Symbol.for('nvm-x402.core')
const MARK = Symbol.for('nvm-x402.PaymentRequiredError')

/** A call the function would not run (or deliver) for: no token, or one the payment backend refused. */
export class PaymentRequiredError extends PaymentsError {
  static [Symbol.hasInstance](value) {
    return typeof value === 'object' && value !== null && value[MARK] === true
  }

  /** `new PaymentRequiredError(message, paymentRequired?)`, as the official SDK's. */
  constructor(message, paymentRequired) {
    super({ code: 'payment_required', message, httpStatus: 402, hint: 'Mint an x402 access token for one of paymentRequired.accepts (payments.x402.getX402AccessToken) and pass it as config.configurable.payment_token.' })
    Object.defineProperty(this, MARK, { value: true })
    this.name = 'PaymentRequiredError'
    this.paymentRequired = paymentRequired
  }
}

let last

/**
 * The last successful settlement of any paid function in this process (the official SDK's):
 * cleared when a call starts, so under concurrent calls it is whichever settled last. A
 * call's own settlement is `config.configurable.payment_settlement`: prefer it.
 */
export function lastSettlement() {
  return last
}

/** One client of the tool core per client of another entry (made with the same options). */
const clients = new WeakMap()

function coreOf(payments) {
  if (payments instanceof ToolPayments) return payments[CORE]
  const options = payments?.[OPTIONS]
  if (options === undefined) throw new PaymentsError({ code: 'validation', message: 'requiresPayment: options.payments must be a Payments client (nvm-x402)' })
  let client = clients.get(payments)
  if (client === undefined) clients.set(payments, (client = ToolPayments.getInstance(options)))
  return client[CORE]
}

const configurableOf = (config) => (config !== null && typeof config === 'object' && config.configurable !== null && typeof config.configurable === 'object' ? config.configurable : undefined)

/** Observability never changes a payment: a span step that throws is dropped. */
const quietly = (step) => Promise.resolve().then(step).catch(() => {})

/**
 * Ends a span without waiting for it: ending one uploads it (LangSmith's `postRun`), and a
 * slow or unreachable LangSmith must not hold a payment or a paid result.
 */
const close = (span, error) => {
  if (span) void quietly(() => span.end(error))
}

/** A write into the caller's configurable that can never throw (a frozen or proxied object): after a settle nothing may. */
function put(target, key, value) {
  try {
    Reflect.set(target, key, value)
  } catch {
    // the call's answer does not depend on it
  }
}

/**
 * `requiresPayment(fn, {payments, planId | planIds, credits? (a number, or ({args, result}) =>
 * number), agentId?, network?, scheme?, endpoint?})`: `fn(args, config)` paid per call. The
 * options are checked now (mistakes throw); `endpoint` is the resource URL charged for (default:
 * the function's name, or `tool`, as the official SDK). A call without a token, or with one the
 * backend refuses, throws a PaymentRequiredError carrying the PaymentRequired; a backend that
 * can't be reached throws a PaymentsError (its code, httpStatus 503); nothing is delivered unpaid.
 */
export function requiresPayment(fn, options) {
  if (typeof fn !== 'function') throw new PaymentsError({ code: 'validation', message: 'requiresPayment: the first argument must be the function to charge for' })
  const { payments, planId, planIds, credits, agentId, network, scheme, endpoint = fn.name || 'tool' } = options ?? {}
  // A number JSON can't carry (NaN, Infinity) or null is no amount: the core refuses it, never reads it as "not given".
  const amount = credits === null || (typeof credits === 'number' && !Number.isFinite(credits)) ? { invalid: String(credits) } : credits
  const gate = coreOf(payments).toolPaywall(optionsJson({ planId, planIds, credits: amount, agentId, network, scheme, endpoint }))

  return async function paid(args, config) {
    // (config is replaced by a copy when its configurable can't give up the token)
    last = undefined
    let configurable = configurableOf(config)
    const token = typeof configurable?.payment_token === 'string' ? configurable.payment_token : null
    // The raw credential goes no further than the core: not to the function, not to a trace.
    // A configurable it can't be deleted from (frozen, sealed) is copied without it.
    if (configurable && 'payment_token' in configurable) {
      let removed = false
      try {
        removed = Reflect.deleteProperty(configurable, 'payment_token')
      } catch {
        // a proxy that refuses: copied below
      }
      if (!removed) {
        const { payment_token: _token, ...rest } = configurable
        configurable = rest
        config = { ...config, configurable }
      }
    }
    const spans = { planIds: [], agentId }
    let verify // the nvm:verify span and when verify started
    let settle // the nvm:settlement span and when settle started
    let result
    let thrown
    let priceError
    const exchange = (what, arg) => {
      if (what === 'onBeforeVerify') {
        return quietly(async () => {
          const accepts = JSON.parse(arg).accepts ?? []
          spans.planIds = accepts.map((a) => a.planId).filter(Boolean)
          spans.scheme = accepts[0]?.scheme
          spans.network = network ?? accepts[0]?.network
          const parent = await activeRunTree()
          redactMetadataKeys(parent, 'payment_token')
          verify = { started: Date.now(), span: await verifySpan(spans), parent }
          const md = buildVerifyMetadata(spans)
          verify.span.addMetadata(md)
          addMetadata(parent, md)
        })
      }
      if (what === 'onAfterVerify') {
        return quietly(async () => {
          const verification = JSON.parse(arg)
          const md = buildVerifyMetadata({ ...spans, verification, durationMs: Date.now() - verify.started, token: token ?? undefined })
          verify.span.addMetadata(md)
          addMetadata(verify.parent, md)
          // A refused verify's span is ended with the refusal, below.
          if (verification.isValid !== true) return
          close(verify.span)
          verify = undefined
        })
      }
      if (what === 'run') {
        const { paymentContext } = JSON.parse(arg)
        if (configurable) put(configurable, 'payment_context', { ...paymentContext, creditsToSettle: Number(paymentContext.creditsToSettle) })
        return (async () => {
          try {
            result = await fn(args, config)
          } catch (error) {
            thrown = { error } // charged nothing
            return 0
          }
          await quietly(async () => {
            settle = { started: Date.now(), span: await settlementSpan(spans) }
          })
          return 200
        })()
      }
      if (what === 'price') {
        return (async () => {
          try {
            return toJson(creditsOf(await credits({ args, result })))
          } catch (error) {
            priceError = { error } // the official SDK's: the credits function's own error (nothing delivered or charged)
            return toJson({ invalid: 'threw' })
          }
        })()
      }
      if (what === 'onAfterSettle') {
        return quietly(async () => {
          const { settlement } = JSON.parse(arg)
          const md = buildSettleMetadata({ ...spans, settlement, durationMs: Date.now() - settle.started, token: token ?? undefined })
          settle.span.addMetadata(md)
          const parent = await activeRunTree()
          redactMetadataKeys(parent, 'payment_token')
          addMetadata(parent, md)
        })
      }
      return undefined
    }
    const out = await answerOf(gate.handle(toJson({ token }), exchange))
    const failure = out.action === 'refuse' || out.action === 'fail' ? new Error(out.message) : undefined
    close(verify?.span, failure ?? new Error('verification did not finish'))
    close(settle?.span, failure)
    if (out.action === 'deliver') {
      if (out.settlement !== undefined) {
        if (configurable) put(configurable, 'payment_settlement', out.settlement)
        last = out.settlement
      }
      return result
    }
    if (out.action === 'threw') throw thrown ? thrown.error : new PaymentsError({ code: 'internal', message: 'requiresPayment: the function could not be run', httpStatus: 500, hint: 'Nothing was charged; retry the call.' })
    if (out.action === 'refuse') throw new PaymentRequiredError(out.message, out.paymentRequired)
    if (out.code === 'internal' && priceError) throw priceError.error
    throw new PaymentsError({ code: out.code, message: out.message, httpStatus: out.code === 'internal' ? 500 : 503, hint: out.code === 'internal' ? 'Fix the credits function: it must return a whole number of credits.' : 'The payment backend could not be reached; retry later.' })
  }
}

/**
 * `createPaidReactAgent(model, tools, options?)`: LangGraph's prebuilt ReAct agent whose
 * ToolNode lets a tool's PaymentRequiredError through (`handleToolErrors: false`) instead of
 * turning it into a message, so the caller can pay and retry (the official SDK's).
 */
export async function createPaidReactAgent(model, tools, options = {}) {
  if (options && ('llm' in options || 'tools' in options)) {
    throw new PaymentsError({ code: 'validation', message: 'createPaidReactAgent: `llm` and `tools` are set from the `model` and `tools` arguments and must not be passed in `options` (they would replace the ToolNode that lets payment errors through)' })
  }
  const specifier = '@langchain/langgraph/prebuilt'
  let prebuilt
  try {
    prebuilt = await import(specifier)
  } catch (error) {
    throw new PaymentsError({ code: 'validation', message: `createPaidReactAgent requires @langchain/langgraph (${error?.message ?? error})`, hint: 'npm install @langchain/langgraph' })
  }
  const toolNode = new prebuilt.ToolNode(tools, { handleToolErrors: false })
  return prebuilt.createReactAgent({ ...options, llm: model, tools: toolNode })
}
