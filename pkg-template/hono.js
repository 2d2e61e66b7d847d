// Hono middleware for nvm-x402's paywall: `app.use(paywall(payments.paywall({...})))`.
// It adapts Hono's context to the gate; every decision is the gate's.
import { Paywall } from './core.js'

/**
 * @param {Paywall | import('./core.js').Payments} gateOrPayments a compiled paywall, or a Payments client
 * @param {object} [options] paywall options, when the first argument is a Payments client
 */
export function paywall(gateOrPayments, options) {
  const gate = gateOrPayments instanceof Paywall ? gateOrPayments : gateOrPayments.paywall(options)
  return async (c, next) => {
    let ctx
    try {
      ctx = c.executionCtx
    } catch {
      ctx = undefined // not on a runtime with an ExecutionContext
    }
    const response = await gate.handle(
      c.req.raw,
      async () => {
        await next()
        return c.res
      },
      ctx,
    )
    // Clear first: Hono would otherwise copy the handler's headers onto a 402 that replaces its response.
    c.res = undefined
    c.res = response
  }
}
