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
    // Hono's c.executionCtx throws where there is none (Node), and a throw per request is
    // costly (about 50 µs: bench/README.md): it is asked for only when the paywall needs it.
    const ctx = {
      waitUntil(promise) {
        let real
        try {
          real = c.executionCtx
        } catch {
          return // not on a runtime with an ExecutionContext: the promise just runs
        }
        real.waitUntil(promise)
      },
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
