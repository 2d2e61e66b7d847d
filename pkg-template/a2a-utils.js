// The official SDK's A2A x402 in-band helpers and constants (X402A2AUtils, ...), in nvm-x402,
// nvm-x402/a2a and nvm-x402/a2a-client. What a read accepts is the core's (protocol::gate::a2a
// inband_metadata: the paywall's own limits); a write stamps the task's status message as the
// official's does.
import { ensureSync } from './loader.js'
import { callSync } from './nvm_x402.js'
import { toJson } from './wire.js'

export const A2A_X402_EXTENSION_URI = 'https://github.com/google-agentic-commerce/a2a-x402/blob/main/spec/v0.2'
export const NVM_PAYMENT_EXTENSION_URI = 'urn:nevermined:payment'
export const AGENT_CARD_WELL_KNOWN_PATH = '.well-known/agent-card.json'
export const LEGACY_AGENT_CARD_WELL_KNOWN_PATH = '.well-known/agent.json'
export const X402_SETTLEMENT_DEFERRED_KEY = 'x402.payment.settlement'
export const A2APaymentStatus = Object.freeze({ PAYMENT_REQUIRED: 'payment-required', PAYMENT_SUBMITTED: 'payment-submitted', PAYMENT_VERIFIED: 'payment-verified', PAYMENT_REJECTED: 'payment-rejected', PAYMENT_COMPLETED: 'payment-completed', PAYMENT_FAILED: 'payment-failed' })
export const X402A2AMetadata = Object.freeze({ STATUS_KEY: 'x402.payment.status', REQUIRED_KEY: 'x402.payment.required', PAYLOAD_KEY: 'x402.payment.payload', RECEIPTS_KEY: 'x402.payment.receipts', ERROR_KEY: 'x402.payment.error' })
const { STATUS_KEY, REQUIRED_KEY, PAYLOAD_KEY, RECEIPTS_KEY, ERROR_KEY } = X402A2AMetadata
const plain = (value) => value !== null && typeof value === 'object' && !Array.isArray(value)

/** The message's payment metadata and the core's reading of it (only the three keys cross). */
function read(message) {
  const meta = message?.metadata
  if (!plain(meta)) return undefined
  ensureSync()
  const verdict = JSON.parse(callSync('x402A2AMetadata', toJson([{ [STATUS_KEY]: meta[STATUS_KEY], [REQUIRED_KEY]: meta[REQUIRED_KEY], [PAYLOAD_KEY]: meta[PAYLOAD_KEY] }])))
  return { meta, verdict }
}

/** The task's status message's metadata, made when absent (the official's defaults). */
function statusMetadata(task, text) {
  task.status ??= { state: 'working' }
  task.status.message ??= { kind: 'message', messageId: `${task.id}-status`, role: 'agent', parts: [{ kind: 'text', text }], metadata: {} }
  if (!plain(task.status.message.metadata)) task.status.message.metadata = {}
  return task.status.message.metadata
}

export class X402A2AUtils {
  static STATUS_KEY = STATUS_KEY
  static REQUIRED_KEY = REQUIRED_KEY
  static PAYLOAD_KEY = PAYLOAD_KEY
  static RECEIPTS_KEY = RECEIPTS_KEY
  static ERROR_KEY = ERROR_KEY

  getPaymentStatusFromMessage(message) {
    return read(message)?.verdict.status ?? undefined
  }

  getPaymentStatus(task) {
    return this.getPaymentStatusFromMessage(task?.status?.message)
  }

  getPaymentRequirementsFromMessage(message) {
    const r = read(message)
    return r?.verdict.required ? r.meta[REQUIRED_KEY] : undefined
  }

  getPaymentRequirements(task) {
    return this.getPaymentRequirementsFromMessage(task?.status?.message)
  }

  getPaymentPayloadFromMessage(message) {
    const r = read(message)
    return r?.verdict.payload ? r.meta[PAYLOAD_KEY] : undefined
  }

  getPaymentPayload(task) {
    return this.getPaymentPayloadFromMessage(task?.status?.message)
  }

  createPaymentRequiredTask(task, paymentRequired) {
    if (task.status) task.status.state = 'input-required'
    else task.status = { state: 'input-required' }
    const meta = statusMetadata(task, 'Payment is required for this service.')
    meta[STATUS_KEY] = A2APaymentStatus.PAYMENT_REQUIRED
    meta[REQUIRED_KEY] = paymentRequired
    return task
  }

  recordPaymentVerified(task) {
    statusMetadata(task, 'Payment verification recorded.')[STATUS_KEY] = A2APaymentStatus.PAYMENT_VERIFIED
    return task
  }

  recordPaymentDeferred(task) {
    const meta = statusMetadata(task, 'Payment verified; settlement deferred.')
    meta[STATUS_KEY] = A2APaymentStatus.PAYMENT_VERIFIED
    meta[X402_SETTLEMENT_DEFERRED_KEY] = 'deferred'
    return task
  }

  recordPaymentSuccess(task, settleResponse) {
    const meta = statusMetadata(task, 'Payment completed successfully.')
    meta[STATUS_KEY] = A2APaymentStatus.PAYMENT_COMPLETED
    if (settleResponse) meta[RECEIPTS_KEY] = [settleResponse]
    return task
  }

  recordPaymentFailure(task, errorCode, errorResponse) {
    const meta = statusMetadata(task, 'Payment failed.')
    meta[STATUS_KEY] = A2APaymentStatus.PAYMENT_FAILED
    meta[ERROR_KEY] = errorCode
    if (errorResponse) meta[RECEIPTS_KEY] = [errorResponse]
    return task
  }
}

export const x402A2AUtils = new X402A2AUtils()
