// Hono middleware for nvm-x402's paywall.
import type { MiddlewareHandler } from 'hono'
import type { Paywall, Payments, PaywallOptions } from './agent.js'

/** `app.use(paywall(payments.paywall({ agentId, routes })))`, or `paywall(payments, options)`. */
export function paywall(gate: Paywall): MiddlewareHandler
export function paywall(payments: Payments, options: PaywallOptions): MiddlewareHandler
