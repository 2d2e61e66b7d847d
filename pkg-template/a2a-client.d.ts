// Type definitions for `nvm-x402/a2a-client` (and `nvm-x402/a2a-client/asset`):
// paying A2A agents. The shared declarations are in common.d.ts, the data types
// in wire-types.d.ts; this file declares what this entry's core carries: the
// subscriber's calls of `nvm-x402` (paying, tokens, orders, balances,
// delegations) and the A2A client, without registering plans and agents.
import type { A2AClientAPI, PaidFetchResult, PaymentsClass, PaymentsSubscriber, PayOptions, ResolvedScheme } from './common.js'

export * from './common.js'
export * from './a2a-utils.js'

/** A Nevermined client that pays agents, A2A agents included (`payments.a2a.getClient`). */
export const Payments: PaymentsClass<Payments>
export interface Payments extends PaymentsSubscriber {
  /** Paying A2A agents: `getClient({agentBaseUrl, planId, ...})`, then `sendA2AMessage(params)`. */
  readonly a2a: A2AClientAPI
}

export interface FetchWithPaymentOptions extends PayOptions {
  payments: Payments
}

/** Calls a paid agent; see `nvm-x402`'s `fetchWithPayment`. */
export function fetchWithPayment(input: RequestInfo | URL, init: RequestInit | undefined, options: FetchWithPaymentOptions): Promise<PaidFetchResult>

/** The plan's scheme and network, cached per plan for 5 minutes. */
export function resolveScheme(payments: Payments, planId: string): Promise<ResolvedScheme>
