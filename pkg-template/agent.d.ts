// Type definitions for `nvm-x402/agent` (and `nvm-x402/agent/asset`): an
// agent's HTTP routes. The shared declarations are in common.d.ts, the data
// types in wire-types.d.ts; this file declares what this entry's core carries:
// the paywall, and none of the subscriber's or builder's calls (`nvm-x402`).
import type { PaymentsBase, PaymentsClass, Paywall, PaywallOptions, ResolvedScheme } from './common.js'

export * from './common.js'

/** A Nevermined client for an agent's HTTP routes: `payments.paywall()`, verify and settle. */
export const Payments: PaymentsClass<Payments>
export interface Payments extends PaymentsBase {
  /** Compiles a paywall for this agent's routes; mistakes in `options` throw `PaymentsError` here. */
  paywall(options: PaywallOptions): Paywall
}

/** The plan's scheme and network, cached per plan for 5 minutes. */
export function resolveScheme(payments: Payments, planId: string): Promise<ResolvedScheme>
