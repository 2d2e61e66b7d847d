// The official SDK's A2A x402 in-band helpers and constants (`nvm-x402`, `nvm-x402/a2a`,
// `nvm-x402/a2a-client`): the metadata a paid A2A task carries (x402 v2 in-band transport).
import type { JsonObject, X402PaymentRequired } from './common.js'

/** The a2a-x402 extension's URI (x402 v2 in-band). */
export const A2A_X402_EXTENSION_URI: 'https://github.com/google-agentic-commerce/a2a-x402/blob/main/spec/v0.2'
/** Nevermined's payment extension of an agent card. */
export const NVM_PAYMENT_EXTENSION_URI: 'urn:nevermined:payment'
/** The agent card's path (A2A 0.3), relative to the agent's base URL. */
export const AGENT_CARD_WELL_KNOWN_PATH: '.well-known/agent-card.json'
/** The agent card's path before A2A 0.3. */
export const LEGACY_AGENT_CARD_WELL_KNOWN_PATH: '.well-known/agent.json'
/** The marker of a verified payment whose settlement is deferred (batch). */
export const X402_SETTLEMENT_DEFERRED_KEY: 'x402.payment.settlement'
/** The payment's stages (the official `A2APaymentStatus` enum, as a frozen object). */
export const A2APaymentStatus: {
  readonly PAYMENT_REQUIRED: 'payment-required'
  readonly PAYMENT_SUBMITTED: 'payment-submitted'
  readonly PAYMENT_VERIFIED: 'payment-verified'
  readonly PAYMENT_REJECTED: 'payment-rejected'
  readonly PAYMENT_COMPLETED: 'payment-completed'
  readonly PAYMENT_FAILED: 'payment-failed'
}
export type A2APaymentStatus = (typeof A2APaymentStatus)[keyof typeof A2APaymentStatus]
/** The metadata keys of the a2a-x402 specification. */
export const X402A2AMetadata: {
  readonly STATUS_KEY: 'x402.payment.status'
  readonly REQUIRED_KEY: 'x402.payment.required'
  readonly PAYLOAD_KEY: 'x402.payment.payload'
  readonly RECEIPTS_KEY: 'x402.payment.receipts'
  readonly ERROR_KEY: 'x402.payment.error'
}

/** An A2A message, as far as these helpers read it. */
export interface A2AMessageLike {
  metadata?: JsonObject | null
  [key: string]: unknown
}
/** An A2A task, as far as these helpers read and write it. */
export interface A2ATaskLike {
  id: string
  status?: { state: string; message?: A2AMessageLike & { kind?: 'message'; messageId?: string; role?: string; parts?: unknown[] }; [key: string]: unknown }
  [key: string]: unknown
}

/**
 * Reads and stamps a task's payment metadata (its status message's). A read returns what the
 * metadata holds only when it has the right shape (a status string; a payment-required object with
 * a numeric `x402Version` and an `accepts` list; a payload object of at most 64 KiB of JSON), else
 * `undefined`. A write sets the keys on the task (making its status message if it has none) and
 * returns the same task.
 */
export class X402A2AUtils {
  static readonly STATUS_KEY: 'x402.payment.status'
  static readonly REQUIRED_KEY: 'x402.payment.required'
  static readonly PAYLOAD_KEY: 'x402.payment.payload'
  static readonly RECEIPTS_KEY: 'x402.payment.receipts'
  static readonly ERROR_KEY: 'x402.payment.error'
  getPaymentStatusFromMessage(message?: A2AMessageLike | null): string | undefined
  getPaymentStatus(task?: A2ATaskLike | null): string | undefined
  getPaymentRequirementsFromMessage(message?: A2AMessageLike | null): X402PaymentRequired | undefined
  getPaymentRequirements(task?: A2ATaskLike | null): X402PaymentRequired | undefined
  getPaymentPayloadFromMessage(message?: A2AMessageLike | null): JsonObject | undefined
  getPaymentPayload(task?: A2ATaskLike | null): JsonObject | undefined
  /** `input-required`, with the payment-required stamped. */
  createPaymentRequiredTask<T extends A2ATaskLike>(task: T, paymentRequired: X402PaymentRequired): T
  recordPaymentVerified<T extends A2ATaskLike>(task: T): T
  /** Verified, with the deferred-settlement marker (no receipt). */
  recordPaymentDeferred<T extends A2ATaskLike>(task: T): T
  recordPaymentSuccess<T extends A2ATaskLike>(task: T, settleResponse?: JsonObject): T
  recordPaymentFailure<T extends A2ATaskLike>(task: T, errorCode: string, errorResponse?: JsonObject): T
}
/** A shared instance. */
export const x402A2AUtils: X402A2AUtils
