// One gated handler for both routes: the paywall is made on the first request, so the
// environment is read at run time (next build runs without it).
import { Payments } from 'nvm-x402/agent'
import { withPaywall } from 'nvm-x402/next'

export function paidRoute(runtime) {
  let handler
  return (request, context) => {
    handler ??= withPaywall(async (req, ctx, payment) => Response.json({ answer: 42, runtime, planId: payment.planId }), {
      payments: Payments.getInstance({ nvmApiKey: process.env.NVM_API_KEY, ...(process.env.NVM_BACKEND_URL ? { backendUrl: process.env.NVM_BACKEND_URL } : {}) }),
      agentId: process.env.NVM_AGENT_ID,
      planId: process.env.NVM_PLAN_ID,
      credits: 1,
    })
    return handler(request, context)
  }
}
