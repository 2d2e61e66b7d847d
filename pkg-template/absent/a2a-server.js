// In place of a2a-server.js where there is no A2A paywall (it is in nvm-x402/a2a).
import { PaymentsError } from './errors.js'

const absent = (name) => () => {
  throw new PaymentsError({ code: 'not_in_entry', message: `a2a.${name} is not in __ENTRY__, which carries a smaller core`, hint: "import { Payments } from 'nvm-x402/a2a' for it" })
}

export const buildPaymentAgentCard = absent('buildPaymentAgentCard')
export const a2aServer = () => ({ paywall: absent('paywall'), buildPaymentAgentCard })
