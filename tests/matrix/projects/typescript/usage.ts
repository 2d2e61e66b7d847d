// The package's types from an ES module: strict, no any; each entry's own declarations.
import { Payments, PaymentsError, decodeAccessToken, ready, type PaidFetchResult, type X402PaymentRequired } from 'nvm-x402'
import { Payments as AgentPayments, type Paywall } from 'nvm-x402/agent'
import { Payments as McpPayments } from 'nvm-x402/mcp'
import { paywall } from 'nvm-x402/hono'
import { Payments as A2APayments, buildPaymentAgentCard, type A2APaywall } from 'nvm-x402/a2a'
import { Payments as A2AClientPayments } from 'nvm-x402/a2a-client'

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
const agentCard = buildPaymentAgentCard({ name: 'a', url: 'https://agent.example/a2a' }, { agentId: 'a', planId: '1', credits: 1, paymentType: 'fixed' })
const a2aServer: A2APaywall = A2APayments.getInstance({ nvmApiKey: 'local:x' }).a2a.paywall({ agentCard, executor: { execute() {} }, pendingTaskTtlSeconds: 60, hooks: { onError: (method: string, e: Error & { code: number }) => void [method, e.code] } })
const a2aClient = A2AClientPayments.getInstance({ nvmApiKey: 'local:x' }).a2a.getClient({ agentBaseUrl: 'https://agent.example/', planId: '1' })
export { token, result, error, paywall, gate, required, a2aServer, a2aClient }
