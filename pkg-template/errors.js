// PaymentsError: the one error type of nvm-x402 (and of the Nevermined backend's
// answers), with a stable `code`.

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
