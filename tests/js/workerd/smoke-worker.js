// A minimal Worker that loads nvm-x402 exactly as an npm user would, for the workerd smoke test.
import { Payments, decodeAccessToken, encodeAccessToken, buildPaymentRequired, PaymentsError } from 'nvm-x402'

export default {
  async fetch(request, env) {
    const url = new URL(request.url)
    const token = encodeAccessToken({ x402Version: 2, accepted: { planId: '7' } })
    const out = {
      decoded: decodeAccessToken(token),
      paymentRequired: buildPaymentRequired('7', { endpoint: url.href, httpVerb: request.method }),
    }
    try {
      const payments = Payments.getInstance({ nvmApiKey: env.NVM_API_KEY, backendUrl: env.NVM_BACKEND_URL })
      out.environment = payments.environment
      out.plan = await payments.plans.getPlan('7')
    } catch (error) {
      out.error = { isPaymentsError: error instanceof PaymentsError, code: error.code, message: error.message }
    }
    return Response.json(out)
  },
}
