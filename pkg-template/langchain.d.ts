// Type definitions for `nvm-x402/langchain`: the official SDK's LangChain integration.
// Structural types: no dependency on LangChain's own.
import type { PaymentsBase, PaymentsError, X402PaymentRequired } from './common.js'

/** What a credits function is told: the call's arguments and the function's result. */
export interface CreditsContext {
  args: Record<string, unknown>
  result: unknown
}
/** Prices a call after it ran: a whole number of credits (0: nothing is charged). */
export type CreditsCallable = (ctx: CreditsContext) => number | bigint | Promise<number | bigint>

export interface RequiresPaymentOptions {
  /** A Payments client of any nvm-x402 entry (its options make this entry's client). */
  payments: PaymentsBase
  /** The plan a call is paid with (or planIds). */
  planId?: string
  /** Plans a call may be paid with, in order of preference (payments-py's plan_ids). */
  planIds?: string[]
  /** Credits per call (default 1), or a function of the arguments and result (verify then checks 1). */
  credits?: number | bigint | CreditsCallable
  /** The agent being paid (tokens bound to another agent are refused). */
  agentId?: string
  /** The network (with no scheme: the official `nvm:erc4337` on it). */
  network?: string
  /** The scheme (`nvm:erc4337` or `nvm:card-delegation`); default: each plan's own, looked up. */
  scheme?: string
  /** The resource URL the payment is for (default: the function's name, or `tool`). */
  endpoint?: string
}

/** `config.configurable.payment_context` while the function runs. */
export interface PaymentContext {
  /** The access token, shown as its first 6 and last 4 characters (never the whole credential). */
  token: string
  paymentRequired: X402PaymentRequired
  creditsToSettle: number
  verified: boolean
  agentRequestId?: string
  agentRequest?: unknown
  /** The plan the token pays. */
  planId: string
  /** The subscriber's address. */
  subscriberAddress?: string
}

/** A settle's answer (`config.configurable.payment_settlement`, `lastSettlement()`). */
export interface ToolSettlement {
  success: boolean
  transaction?: string
  network?: string
  payer?: string
  creditsRedeemed?: string
  remainingBalance?: string
  [key: string]: unknown
}

/** No token, or one the payment backend refused (or a settle it refused): carries the PaymentRequired to pay. */
export class PaymentRequiredError extends PaymentsError {
  constructor(message: string, paymentRequired?: X402PaymentRequired)
  readonly paymentRequired: X402PaymentRequired | undefined
}

/** `fn(args, config)` paid per call: verified before it runs, settled after; the token in `config.configurable.payment_token`. */
export function requiresPayment<TArgs extends Record<string, unknown>, TResult>(
  fn: (args: TArgs, config?: any) => TResult | Promise<TResult>, // eslint-disable-line @typescript-eslint/no-explicit-any
  options: RequiresPaymentOptions,
): (args: TArgs, config?: any) => Promise<TResult> // eslint-disable-line @typescript-eslint/no-explicit-any

/** The last successful settlement in this process (cleared when a paid call starts). */
export function lastSettlement(): ToolSettlement | undefined

export type CreatePaidReactAgentOptions = Record<string, unknown>
/** LangGraph's prebuilt ReAct agent whose ToolNode lets payment errors through (needs @langchain/langgraph). */
export function createPaidReactAgent(model: unknown, tools: readonly unknown[], options?: CreatePaidReactAgentOptions): Promise<unknown>
