// nvm-x402/langchain and nvm-x402/langsmith against LangChain's own types (@langchain/core's
// declarations need lib esnext.disposable, so this file has its own tsconfig).
import { Payments } from 'nvm-x402'
import { requiresPayment, lastSettlement, PaymentRequiredError, createPaidReactAgent, type PaymentContext } from 'nvm-x402/langchain'
import { abbreviateToken, activeRunTree, buildVerifyMetadata, verifySpan } from 'nvm-x402/langsmith'
import { tool } from '@langchain/core/tools'
import { z } from 'zod'

/** README, "Agent: paid LangChain tools" (nvm-x402/langchain, nvm-x402/langsmith). */
async function readmeLangChain(env: { NVM_API_KEY: string; NVM_PLAN_ID: string; NVM_AGENT_ID: string }): Promise<void> {
  const payments = Payments.getInstance({ nvmApiKey: env.NVM_API_KEY })
  const paid = requiresPayment(async ({ query }: { query: string }, config) => {
    const context: PaymentContext | undefined = config?.configurable?.payment_context
    return `results for ${query} (${context?.planId})`
  }, { payments, planId: env.NVM_PLAN_ID, agentId: env.NVM_AGENT_ID, credits: ({ result }) => String(result).length })
  const search = tool(paid, { name: 'search', description: 'Searches', schema: z.object({ query: z.string() }) })
  const agent = await createPaidReactAgent({}, [search])
  void agent
  try {
    const answer: string = await paid({ query: 'x' }, { configurable: { payment_token: 'token' } })
    void answer
  } catch (error) {
    if (error instanceof PaymentRequiredError) console.log(error.paymentRequired?.accepts[0]?.planId, error.code, error.httpStatus)
  }
  console.log(lastSettlement()?.creditsRedeemed)
  // @ts-expect-error the payments client is required
  requiresPayment(async () => 'x', { planId: '1' })
  const span = await verifySpan({ planIds: ['1'], agentId: 'a' })
  span.addMetadata(buildVerifyMetadata({ planIds: ['1'], token: abbreviateToken('token') }))
  await span.end()
  void (await activeRunTree())
}

export { readmeLangChain }
