// The package's types from a CommonJS module (TS1471 before the package had a require entry).
import nvm = require('nvm-x402')

const payments: nvm.Payments = nvm.Payments.getInstance({ nvmApiKey: 'local:x' })
const ready: Promise<void> = nvm.ready()
const required: nvm.X402PaymentRequired = nvm.buildPaymentRequired('1')
// @ts-expect-error the HTTP paywall is in nvm-x402/agent
payments.paywall({ agentId: 'a', routes: {} })
export = { payments, ready, required }
