// Type definitions for `nvm-x402` (and `nvm-x402/asset`): subscribers and
// builders. The shared declarations are in common.d.ts, the data types in
// wire-types.d.ts (generated from types/); this file declares what this
// entry's core carries, so `payments.paywall()` and `payments.mcp.configure()`
// (in `nvm-x402/agent` and `nvm-x402/mcp`) do not type-check here.
import type { Address, AgentsAPI, BigIntLike, ContractsAPI, PaidFetchResult, PaymentsClass, PaymentsSubscriber, PayOptions, PlansAPI, PriceConfigResult, ResolvedScheme } from './common.js'

export * from './common.js'

/**
 * A Nevermined client bound to one API key, for subscribers and builders:
 * minting, paying agents, orders, balances, delegations, registering plans and
 * agents. No global state; create as many as you need.
 */
export const Payments: PaymentsClass<Payments>
export interface Payments extends PaymentsSubscriber {
  readonly plans: PlansAPI
  readonly agents: AgentsAPI
  readonly contracts: ContractsAPI
}

export interface FetchWithPaymentOptions extends PayOptions {
  payments: Payments
}

/**
 * Calls a paid agent. With one plan in `planIds` it pays on the first request
 * (mints a token up front: one request, one mint); otherwise it sends the
 * request and, on 402, pays with the first plan you allow and retries once.
 * Tokens are cached per plan+agent+scheme+network (v3 tokens are never
 * reused) and only travel over https or to loopback.
 */
export function fetchWithPayment(input: RequestInfo | URL, init: RequestInit | undefined, options: FetchWithPaymentOptions): Promise<PaidFetchResult>

/** The plan's scheme and network, cached per plan for 5 minutes. */
export function resolveScheme(payments: Payments, planId: string): Promise<ResolvedScheme>

/**
 * A pay-as-you-go price: `amount` on every request, in `tokenAddress` (default the native token), under
 * the `PayAsYouGoTemplate` at `templateAddress` (required: `payments.contracts.getPayAsYouGoTemplateAddress()`,
 * or use `payments.plans.getPayAsYouGoPriceConfig`, which reads it). An invalid receiver throws first.
 * (This entry's only: the others' cores leave the builder's calls out.)
 */
export function getPayAsYouGoPriceConfig(amount: BigIntLike, receiver: Address | string, tokenAddress?: Address | string, templateAddress?: Address | string): PriceConfigResult
