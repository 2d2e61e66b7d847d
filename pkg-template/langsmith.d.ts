// Type definitions for `nvm-x402/langsmith`: the official SDK's LangSmith bridge. Structural
// types: no dependency on langsmith's own (an optional peer; every helper is a no-op without it).

/** The LangSmith run tree the helpers read and write (langsmith's RunTree). */
export interface RunTreeLike {
  extra?: { metadata?: Record<string, unknown>; [key: string]: unknown }
  metadata?: Record<string, unknown>
  createChild(config: { name: string; run_type?: string; inputs?: Record<string, unknown> }): RunTreeLike
  end(outputs?: unknown, error?: string): Promise<void> | void
  postRun(): Promise<void> | void
}

export type SpanMetadata = Record<string, unknown>

export const NVM_VERIFY_SPAN: 'nvm:verify'
export const NVM_SETTLEMENT_SPAN: 'nvm:settlement'

/** A token as spans show it: its first 6 and last 4 characters (`[redacted]` under 20 characters); undefined for none. */
export function abbreviateToken(token: string | undefined | null): string | undefined
/** The active LangSmith run tree, or undefined (langsmith not installed, or no run). */
export function activeRunTree(): Promise<RunTreeLike | undefined>
/** Merges metadata into a run tree's (no-op without either). */
export function addMetadata(runTree: RunTreeLike | undefined, metadata: SpanMetadata): void
/** Deletes keys from a run tree's metadata in place. */
export function redactMetadataKeys(runTree: RunTreeLike | undefined, ...keys: string[]): void

export interface VerifyMetadataInput {
  planIds: string[]
  scheme?: string
  network?: string
  agentId?: string
  verification?: { payer?: string; network?: string; agentRequestId?: string; [key: string]: unknown }
  durationMs?: number
  token?: string
}
export function buildVerifyMetadata(input: VerifyMetadataInput): SpanMetadata

export interface SettleMetadataInput {
  settlement: { creditsRedeemed?: string; remainingBalance?: string; transaction?: string; network?: string; payer?: string; [key: string]: unknown }
  planIds: string[]
  agentId?: string
  durationMs?: number
  token?: string
}
export function buildSettleMetadata(input: SettleMetadataInput): SpanMetadata

/** An open span (inactive without a run: every method a no-op). */
export interface NvmSpan {
  readonly runTree: RunTreeLike | undefined
  addMetadata(metadata: SpanMetadata): void
  end(error?: unknown): Promise<void>
}
export interface VerifySpanInput {
  planIds: string[]
  scheme?: string
  network?: string
  agentId?: string
}
export interface SettlementSpanInput {
  planIds: string[]
  agentId?: string
}
export function verifySpan(input: VerifySpanInput): Promise<NvmSpan>
export function settlementSpan(input: SettlementSpanInput): Promise<NvmSpan>
