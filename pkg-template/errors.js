// PaymentsError: the one error type of nvm-x402 (and of the Nevermined backend's
// answers), with a stable `code`.

// A runtime may hold this module more than once: require('nvm-x402') (one
// CommonJS file) next to import('nvm-x402/agent'), or a dev server that
// pre-bundles each entry apart. `instanceof PaymentsError` is true for an error
// from any of them: it asks for this mark, not for one class object.
const MARK = Symbol.for('nvm-x402.PaymentsError')

/** An error from nvm-x402 or the Nevermined backend, with a stable `code`. */
export class PaymentsError extends Error {
  static [Symbol.hasInstance](value) {
    return typeof value === 'object' && value !== null && value[MARK] === true
  }

  constructor(info) {
    super(info.message)
    Object.defineProperty(this, MARK, { value: true })
    this.name = 'PaymentsError'
    this.code = info.code
    if (info.httpStatus !== undefined) this.httpStatus = info.httpStatus
    const hint = info.hint ?? (info.code === 'validation' ? 'Nothing was sent: fix the argument the message names.' : undefined)
    if (hint !== undefined) this.hint = hint
    if (info.details !== undefined) this.details = info.details
    this.retryable = info.retryable === true
  }
}

