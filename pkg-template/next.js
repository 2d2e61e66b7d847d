// Next.js (App Router) route handlers behind nvm-x402's paywall, on the Node and
// edge runtimes: `export const POST = withPaywall(handler, { payments, agentId, planId, credits })`.
// The gate runs around the real handler, so what is settled is what the handler
// answered (unlike gating in middleware.ts / proxy.ts, which settles before the
// route runs). It imports no core: it takes the Payments client it is given
// (from nvm-x402/agent).
import { PaymentsError } from './errors.js'

/**
 * Wraps an App Router route handler `(request, context) => Response`: every request
 * that reaches it is paid (`planId` or `planIds`, `credits`: a number, or a function of
 * `(request, response)` read after the handler). The handler gets a third argument,
 * `{paid: true, planId, credits}`. Options besides the route's are the paywall's
 * (`upfront`, `repeatPayers`, the hooks).
 */
export function withPaywall(handler, options) {
  if (typeof handler !== 'function') throw new PaymentsError({ code: 'validation', message: 'withPaywall: the handler must be a function' })
  const { payments, planId, planIds, credits, minCredits, description, mimeType, scheme, network, ...paywallOptions } = options ?? {}
  if (typeof payments?.paywall !== 'function') throw new PaymentsError({ code: 'validation', message: 'withPaywall: options.payments must be a Payments client of nvm-x402/agent' })
  // One route: whatever reaches this handler, with any method.
  const route = { planId, planIds, credits, minCredits, description, mimeType, scheme, network }
  const gate = payments.paywall({ ...paywallOptions, routes: { '/*': route } })
  return (request, context) => gate.handle(request, (req, ctx, payment) => handler(req, context, payment), waitUntilOf(context))
}

/** Next's `after()`-style background work has no ExecutionContext: a hook's promise just runs. */
function waitUntilOf(context) {
  return typeof context?.waitUntil === 'function' ? context : undefined
}
