// Hono middleware for nvm-x402's paywall: `app.use(paywall(payments.paywall({...})))`,
// with `Payments` from nvm-x402/agent. It adapts Hono's context to the gate; every
// decision is the gate's. It imports no core: it takes the paywall it is given.

/**
 * @param {object} gateOrPayments a compiled paywall (`payments.paywall(...)`), or a Payments client of nvm-x402/agent
 * @param {object} [options] paywall options, when the first argument is a Payments client
 */
export function paywall(gateOrPayments, options) {
  const gate = typeof gateOrPayments?.handle === 'function' ? gateOrPayments : gateOrPayments.paywall(options)
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
