// Next.js (App Router) route handlers behind nvm-x402's paywall.
import type { Payments, PaywallOptions, PaidRoute, PaidRequest } from './agent.js'

export interface WithPaywallOptions extends Omit<PaywallOptions, 'routes'>, PaidRoute {
  /** A client of nvm-x402/agent. */
  payments: Payments
}

/**
 * `export const POST = withPaywall(handler, { payments, agentId, planId, credits })`:
 * every request that reaches the handler is paid; the gate settles what the handler answered.
 */
export function withPaywall<Context = unknown>(
  handler: (request: Request, context: Context, payment: PaidRequest) => Response | Promise<Response>,
  options: WithPaywallOptions,
): (request: Request, context: Context) => Promise<Response>
