// The package's types from a CommonJS module (TS1471 before the package had a require entry).
import nvm = require('nvm-x402')

const payments: nvm.Payments = nvm.Payments.getInstance({ nvmApiKey: 'local:x' })
const ready: Promise<void> = nvm.ready()
export = { payments, ready }
