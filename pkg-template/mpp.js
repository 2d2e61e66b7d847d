// nvm-x402/mpp's own exports (scripts/build.sh adds them to that entry only): the official
// SDK's MPP codec, helpers and error classes. The core decides (src/protocol/mpp.rs).
import { ensureSync } from './loader.js'
import { callSync } from './nvm_x402.js'
import { toJson } from './wire.js'


const call = (name) => (...args) => {
  ensureSync()
  return JSON.parse(callSync(name, toJson(args)))
}
export const parseChallengeHeader = /* @__PURE__ */ call('parseChallengeHeader')
export const buildCredentialHeader = /* @__PURE__ */ call('buildCredentialHeader')
export const parseReceiptHeader = /* @__PURE__ */ call('parseReceiptHeader')
const paymentScheme = /* @__PURE__ */ call('extractPaymentScheme')
/** The `Payment` scheme of a header that may carry several, or null. */
export const extractPaymentScheme = (headerValue) => paymentScheme(headerValue) ?? null
const challengeId = /* @__PURE__ */ call('extractCredentialChallengeId')
/** The challenge id a credential carries (its identity for single use), or null. */
export const extractCredentialChallengeId = (credential) => challengeId(credential) ?? null
const credits = /* @__PURE__ */ call('normalizeCredits')
/** Credits as the decimal string an MPP challenge seals (a bigint, a safe integer or digits). */
export const normalizeCredits = (value) => credits(typeof value === 'bigint' ? String(value) : value)
const retryable = /* @__PURE__ */ call('isRetryableMppCode')
/** Whether a `BCK.MPP.*` code means "pay the fresh challenge" (0004, 0005) rather than a refusal. */
export const isRetryableMppCode = (code) => retryable(typeof code === 'string' ? code : null)

// The MPP family (the official SDK's MppError and its subclasses): what the MPP wire said
// (a refused credential, an unknown settlement, a malformed challenge). Not a
// PaymentsError: the official SDK keeps the two apart (argument guards are PaymentsErrors).
const MPP_MARK = Symbol.for('nvm-x402.MppError')
const isMpp = (value) => typeof value === 'object' && value !== null && value[MPP_MARK] === true

/** An MPP payment failed on the wire; `code` says how (`mppSpendOf(error)`: what was spent). */
export class MppError extends Error {
  static [Symbol.hasInstance](value) {
    return isMpp(value)
  }

  constructor(message, code) {
    super(message)
    Object.defineProperty(this, MPP_MARK, { value: true })
    this.name = 'MppError'
    if (code !== undefined) this.code = code
  }
}

/** A subclass of MppError that its `code` makes (errors cross from the core as MppErrors with a code). */
function mppClass(name, code, fallback) {
  const Class = {
    [name]: class extends MppError {
      static [Symbol.hasInstance](value) {
        return isMpp(value) && value.code === code
      }

      constructor(message = fallback, ...rest) {
        super(message, code)
        this.name = name
        if (code === 'spend_outcome_unknown') {
          this.cause = rest[0]
          this.spend = rest[1]
        }
      }
    },
  }[name]
  return Class
}

export const MPP_SETTLEMENT_OUTCOME_UNKNOWN_CODE = 'settlement_outcome_unknown'
export const MPP_SPEND_OUTCOME_UNKNOWN_CODE = 'spend_outcome_unknown'
export const MppNotConfiguredError = mppClass('MppNotConfiguredError', 'BCK.MPP.0002', 'MPP is not configured on this environment')
export const MppCredentialRejectedError = mppClass('MppCredentialRejectedError', 'BCK.MPP.0003', 'MPP credential rejected')
export const MppChallengeExpiredError = mppClass('MppChallengeExpiredError', 'BCK.MPP.0004', 'MPP challenge expired')
export const MppBodyDigestMismatchError = mppClass('MppBodyDigestMismatchError', 'BCK.MPP.0005', 'MPP body digest mismatch')
export const MppSettlementOutcomeUnknownError = mppClass('MppSettlementOutcomeUnknownError', 'settlement_outcome_unknown', 'MPP settlement outcome unknown: the request timed out before the backend responded, so the credits may or may not have been burned')
export const MppSpendOutcomeUnknownError = mppClass('MppSpendOutcomeUnknownError', 'spend_outcome_unknown', 'MPP spend outcome unknown')

/** What an MPP payment presented before it failed (`{credentialsPresented, creditsPresented, challengeId}`); undefined: nothing was spent. */
export function mppSpendOf(error) {
  const spend = typeof error === 'object' && error !== null ? error.spend : undefined
  return typeof spend === 'object' && spend !== null && typeof spend.credentialsPresented === 'number' ? spend : undefined
}
