// The package's types from an ES module: strict, no any.
import { Payments, PaymentsError, decodeAccessToken, ready, type PaidFetchResult } from 'nvm-x402'
import { paywall } from 'nvm-x402/hono'

await ready()
const payments: Payments = Payments.getInstance({ nvmApiKey: 'local:x' })
const token = decodeAccessToken('e30')
const result: Promise<PaidFetchResult> = payments.fetch('https://agent.example/tasks', {}, { planIds: ['1'] })
const error: PaymentsError | undefined = undefined
export { token, result, error, paywall }
