// Registers a free plan and an agent whose endpoints are this app's routes at
// `appUrl`, as the demo world's builder on nvm-local; prints the variables
// `next start` needs. Usage: node examples/nextjs/register.mjs <backendUrl> <appUrl>
import { Payments, getFreePriceConfig, getFixedCreditsConfig } from 'nvm-x402'

const [backendUrl = 'http://127.0.0.1:3001', appUrl = 'http://127.0.0.1:3000'] = process.argv.slice(2)
const world = await (await fetch(new URL('local/v1/demo', backendUrl))).json()
const builder = Payments.getInstance({ nvmApiKey: world.accounts.builder.apiKey, backendUrl })
const { planId } = await builder.plans.registerCreditsPlan({ name: 'Next.js example' }, getFreePriceConfig(), getFixedCreditsConfig(100n, 1n))
const { agentId } = await builder.agents.registerAgent({ name: 'Next.js example' }, { endpoints: [{ POST: `${appUrl}/api/ask` }, { POST: `${appUrl}/api/edge` }] }, [planId])
console.log(`NVM_API_KEY=${world.accounts.builder.apiKey} NVM_AGENT_ID=${agentId} NVM_PLAN_ID=${planId} NVM_BACKEND_URL=${backendUrl}`)
console.log(`subscriber key: ${world.accounts.subscriber.apiKey}`)
