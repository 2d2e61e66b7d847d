// nvm-x402 — the JavaScript facade over the WebAssembly core.
// It only forwards: every call crosses into Rust as (method name, JSON array of
// arguments) and comes back as JSON; errors come back as JSON and are rethrown
// as PaymentsError. bigints are sent as decimal strings. No logic lives here.
// The entry files (entry-*.js) initialise the module for their runtime first.
import { NvmCore, callSync } from './nvm_x402.js'

/** An error from nvm-x402 or the Nevermined backend, with a stable `code`. */
export class PaymentsError extends Error {
  constructor(info) {
    super(info.message)
    this.name = 'PaymentsError'
    this.code = info.code
    if (info.httpStatus !== undefined) this.httpStatus = info.httpStatus
    if (info.hint !== undefined) this.hint = info.hint
    if (info.details !== undefined) this.details = info.details
    this.retryable = info.retryable === true
  }
}

const toJson = (args) => JSON.stringify(args, (_key, value) => (typeof value === 'bigint' ? value.toString() : value))

function rethrow(error) {
  if (error instanceof PaymentsError) return error
  if (typeof error === 'string') {
    try {
      return new PaymentsError(JSON.parse(error))
    } catch {
      // not one of ours: fall through
    }
  }
  const message = error && typeof error === 'object' && 'message' in error ? error.message : String(error)
  return new PaymentsError({ code: 'internal', message: `nvm-x402 internal error: ${message}` })
}

function sync(name) {
  return (...args) => {
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
export const decodeAccessToken = sync('decodeAccessToken')
export const tryDecodeAccessToken = sync('tryDecodeAccessToken')
export const encodeAccessToken = sync('encodeAccessToken')
export const buildPaymentRequired = sync('buildPaymentRequired')
export const buildPaymentRequiredForPlans = sync('buildPaymentRequiredForPlans')
export const encodePaymentHeader = sync('encodePaymentHeader')
export const decodePaymentHeader = sync('decodePaymentHeader')
export const redactToken = sync('redact')
export const getFreePriceConfig = sync('getFreePriceConfig')
export const getCryptoPriceConfig = sync('getCryptoPriceConfig')
export const getNativeTokenPriceConfig = sync('getNativeTokenPriceConfig')
export const getERC20PriceConfig = sync('getERC20PriceConfig')
export const getFiatPriceConfig = sync('getFiatPriceConfig')
export const getFixedCreditsConfig = sync('getFixedCreditsConfig')
export const getDynamicCreditsConfig = sync('getDynamicCreditsConfig')
export const getExpirableDurationConfig = sync('getExpirableDurationConfig')
export const getNonExpirableDurationConfig = sync('getNonExpirableDurationConfig')

export const ONE_DAY_DURATION = 86_400n
export const ONE_WEEK_DURATION = 604_800n
export const ONE_MONTH_DURATION = 2_629_746n
export const ONE_YEAR_DURATION = 31_557_600n
export const ZeroAddress = '0x0000000000000000000000000000000000000000'

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
    let core
    try {
      core = new NvmCore(toJson(rest), fetch)
    } catch (error) {
      throw rethrow(error)
    }
    cores.set(this, core)
    const info = JSON.parse(core.info())
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
  }
}

/** The plan's scheme and network (`nvm:erc4337` or `nvm:card-delegation`), cached per plan for 5 minutes. */
export function resolveScheme(payments, planId) {
  if (!(payments instanceof Payments)) {
    return Promise.reject(new PaymentsError({ code: 'validation', message: 'resolveScheme: the first argument must be a Payments instance' }))
  }
  return payments.resolveScheme(planId)
}
