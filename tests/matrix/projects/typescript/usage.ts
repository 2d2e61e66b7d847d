// The package's types from an ES module: strict, no any; each entry's own declarations.
import { Payments, PaymentsError, decodeAccessToken, ready, type PaidFetchResult, type X402PaymentRequired } from 'nvm-x402'
import { Payments as AgentPayments, type Paywall } from 'nvm-x402/agent'
import { Payments as McpPayments } from 'nvm-x402/mcp'
import { paywall } from 'nvm-x402/hono'

await ready()
const payments: Payments = Payments.getInstance({ nvmApiKey: 'local:x' })
const token = decodeAccessToken('e30')
const result: Promise<PaidFetchResult> = payments.fetch('https://agent.example/tasks', {}, { planIds: ['1'] })
const error: PaymentsError | undefined = undefined
const gate: Paywall = AgentPayments.getInstance({ nvmApiKey: 'local:x' }).paywall({ agentId: 'a', routes: { 'POST /tasks': { planId: '1' } } })
McpPayments.getInstance({ nvmApiKey: 'local:x' }).mcp.configure({ planId: '1' })
const required: Promise<X402PaymentRequired | undefined> = payments.requests.startProcessingRequest('a', null, '/tasks', 'POST').then((r) => r.paymentRequired)
// @ts-expect-error the HTTP paywall is in nvm-x402/agent
payments.paywall({ agentId: 'a', routes: {} })
export { token, result, error, paywall, gate, required }
