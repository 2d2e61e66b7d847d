// Type definitions for `nvm-x402/mpp` (and `nvm-x402/mpp/asset`): the Machine
// Payments Protocol, the official SDK's second payment framing over the same plans,
// credits and delegations as x402 (experimental there). This entry's core carries the
// subscriber's calls of `nvm-x402` (paying, tokens, balances, delegations) and
// `payments.mpp`: paying an MPP challenge (`fetch`), minting MPP tokens, and the
// seller's calls (challenge, verify, settle). Express routes take MPP with
// `nvm-x402/express`'s `mpp` route option.
import type { PaidFetchResult, PaymentsClass, PaymentsSubscriber, PayOptions, ResolvedScheme } from './common.js'
import type { AccessTokenResult, DelegationConfig, SettlePermissionsResult, VerifyPermissionsResult, X402TokenOptions } from './wire-types.js'

export * from './common.js'

/** What the buyer is asked to pay for, sealed inside the challenge. */
export interface MppChallengeRequest {
  planId: string
  /** Credits, as a decimal string. */
  credits: string
  agentId?: string
}

/** A parsed `WWW-Authenticate: Payment …` challenge (`requestEncoded` and `opaque` exactly as sent). */
export interface MppChallenge {
  id: string
  realm: string
  method: string
  intent: string
  request: MppChallengeRequest
  requestEncoded: string
  expires?: string
  digest?: string
  opaque?: string
  description?: string
}

/** A decoded `Payment-Receipt` (unsigned, carries no balance). */
export interface MppReceipt {
  method: string
  reference: string
  status: string
  timestamp: string
}

export interface IssueMppChallengeParams {
  planId: string
  /** A non-negative integer: a decimal string, a safe integer or a bigint. */
  credits: string | number | bigint
  agentId?: string
  /** The protected resource (its path and query), sealed into the challenge. */
  resource: string
  httpVerb: string
  /** `sha-256=<base64>` of the request body the challenge is bound to. */
  digest?: string
  description?: string
}

export interface RedeemMppParams {
  /** The `Authorization: Payment …` value the buyer presented. */
  credential: string
  resource: string
  httpVerb: string
  bodyDigest?: string
}

export type MppSettleResult =
  | (SettlePermissionsResult & { success: true; paymentReceipt: string })
  | (SettlePermissionsResult & { success: false; paymentReceipt?: string })

/** `payments.mpp.fetch`'s options. */
export interface MppFetchOptions {
  /** The delegation that pays, by id (an inline create-on-the-fly config is refused: a retry would create two). */
  delegationConfig: DelegationConfig
  /** Mint for this agent instead of the one the challenge names. */
  agentId?: string
  /** Pay only this plan: a challenge for another is refused before anything is minted (`plan_not_allowed`). */
  planId?: string
  /** The most credits the WHOLE call may present (both turns summed); over it: `max_credits_exceeded`, before minting. */
  maxCredits?: string | number | bigint
}

/** What `payments.mpp.fetch` resolves to. */
export interface MppFetchResult {
  /** The last response (the paid one when a payment went through). */
  response: Response
  /** The decoded `Payment-Receipt`, when one came and decoded. */
  receipt?: MppReceipt
  /** A receipt came and does not state failure. */
  settled: boolean
  /** Credentials minted and sent (0, 1 or 2): above 0 with `settled: false`, credits may be gone; don't blindly retry. */
  credentialsPresented: number
  /** The credits those credentials named, summed (a decimal string), when any was presented. */
  creditsPresented?: string
  /** `response.ok && settled`. */
  paid: boolean
}

/** What an MPP payment presented before it failed (`mppSpendOf`). */
export interface MppSpendReport {
  credentialsPresented: number
  creditsPresented?: string
  challengeId?: string
}

/** What `onAfterSettle` is told when a settle's outcome is unknown. */
export interface MppSettlementOutcomeUnknown {
  outcome: 'unknown'
  reason: string
}

/** `payments.mpp` (the official `MppAPI`): the buyer's calls here, the seller's in `nvm-x402/express`'s Payments. @experimental, as the official SDK's. */
export interface MppAPI {
  /** Fetches `input`, paying an MPP challenge (at most one re-challenge); the credential goes only to the origin asked. */
  fetch(input: RequestInfo | URL, init: RequestInit | undefined, options: MppFetchOptions): Promise<MppFetchResult>
  /** Mints an MPP-domain access token (the x402 mint's body; the token verifies only on MPP). */
  getMppAccessToken(planId: string, agentId?: string, tokenOptions?: X402TokenOptions): Promise<AccessTokenResult>
  /** The seller's: a fresh challenge for a resource (`{challenge, id}`). */
  issueChallenge(params: IssueMppChallengeParams): Promise<{ challenge: string; id: string }>
  /** The seller's: checks a credential, burns nothing. */
  verifyCredential(params: RedeemMppParams): Promise<VerifyPermissionsResult>
  /** The seller's: burns the challenge's credits, once per challenge id. */
  settleCredential(params: RedeemMppParams): Promise<MppSettleResult>
}

/** A Nevermined client that pays MPP challenges too (`payments.mpp`). */
export const Payments: PaymentsClass<Payments>
export interface Payments extends PaymentsSubscriber {
  /** The buyer's MPP calls (the seller's answer not_in_entry here: they are in nvm-x402/express). */
  readonly mpp: Pick<MppAPI, 'fetch' | 'getMppAccessToken'>
}

export interface FetchWithPaymentOptions extends PayOptions {
  payments: Payments
}

/** Calls a paid agent over x402; see `nvm-x402`'s `fetchWithPayment`. */
export function fetchWithPayment(input: RequestInfo | URL, init: RequestInit | undefined, options: FetchWithPaymentOptions): Promise<PaidFetchResult>

/** The plan's scheme and network, cached per plan for 5 minutes. */
export function resolveScheme(payments: Payments, planId: string): Promise<ResolvedScheme>

/** An MPP payment failed on the wire (not a `PaymentsError`: argument guards are). */
export class MppError extends Error {
  constructor(message: string, code?: string)
  readonly code?: MppErrorCode | string
  /** What was presented before it failed; read it with `mppSpendOf`. */
  spend?: MppSpendReport
}
/** The codes an `MppError` carries: ours, and the backend's `BCK.MPP.*`. */
export type MppErrorCode = 'mpp_error' | 'spend_outcome_unknown' | 'settlement_outcome_unknown' | `BCK.${string}` | `http_${number}` | 'network_error' | 'timeout' | 'invalid_response' | 'validation'
/** `BCK.MPP.0002`: MPP is off on this environment. */
export class MppNotConfiguredError extends MppError {}
/** `BCK.MPP.0003`: the credential was refused. */
export class MppCredentialRejectedError extends MppError {}
/** `BCK.MPP.0004`: the challenge expired. */
export class MppChallengeExpiredError extends MppError {}
/** `BCK.MPP.0005`: the body differs from the one the challenge was bound to. */
export class MppBodyDigestMismatchError extends MppError {}
/** A settle whose outcome is unknown: the credits may have been burned. */
export class MppSettlementOutcomeUnknownError extends MppError {}
/** The credential went out and no answer came back (`cause`: what failed). */
export class MppSpendOutcomeUnknownError extends MppError {
  constructor(message: string, cause?: unknown, spend?: MppSpendReport)
  readonly cause?: unknown
}
export const MPP_SETTLEMENT_OUTCOME_UNKNOWN_CODE: 'settlement_outcome_unknown'
export const MPP_SPEND_OUTCOME_UNKNOWN_CODE: 'spend_outcome_unknown'
/** What an MPP payment presented before it failed; undefined: nothing was spent. */
export function mppSpendOf(error: unknown): MppSpendReport | undefined
/** Parses a `WWW-Authenticate` value: null when it holds no usable `Payment` challenge; throws `MppError` for a malformed one. */
export function parseChallengeHeader(headerValue: string): MppChallenge | null
/** The `Authorization: Payment …` credential for a challenge. */
export function buildCredentialHeader(challenge: MppChallenge, payload: { accessToken: string }): string
/** Decodes a `Payment-Receipt` value; throws `MppError` for a malformed one. */
export function parseReceiptHeader(headerValue: string): MppReceipt
/** The `Payment` scheme of a header that may carry several, or null. */
export function extractPaymentScheme(headerValue: string): string | null
/** The challenge id a credential carries (its identity for single use), or null. */
export function extractCredentialChallengeId(credential: string): string | null
/** Credits as the decimal string a challenge seals; throws `MppError` for anything but a non-negative integer. */
export function normalizeCredits(credits: string | number | bigint): string
/** Whether a `BCK.MPP.*` code means "pay the fresh challenge" (0004, 0005). */
export function isRetryableMppCode(code: string | undefined): boolean
