// A paid agent on Express, gated by nvm-x402/express (the official SDK's
// paymentMiddleware, fail closed). Configuration from the environment:
//   NVM_API_KEY      the agent builder's Nevermined API key
//   NVM_AGENT_ID     the agent's id
//   NVM_PLAN_ID      the plan that pays for POST /tasks
//   NVM_BACKEND_URL  optional (empty: the backend the key's prefix picks)
//   PORT             default 8787 (nvm-local's demo agent is registered at http://127.0.0.1:8787/tasks)
import express from 'express'
import { Payments } from 'nvm-x402'
import { paymentMiddleware } from 'nvm-x402/express'

const { NVM_API_KEY, NVM_AGENT_ID, NVM_PLAN_ID, NVM_BACKEND_URL, PORT = '8787' } = process.env
for (const [name, value] of Object.entries({ NVM_API_KEY, NVM_AGENT_ID, NVM_PLAN_ID })) {
  if (!value) throw new Error(`${name} is not set (see examples/express/README.md)`)
}

const payments = Payments.getInstance({ nvmApiKey: NVM_API_KEY, ...(NVM_BACKEND_URL ? { backendUrl: NVM_BACKEND_URL } : {}) })
const app = express()
app.use(express.json())
app.use(paymentMiddleware(payments, { 'POST /tasks': { planId: NVM_PLAN_ID, agentId: NVM_AGENT_ID, credits: 1 } }))

app.post('/tasks', (req, res) => {
  res.json({ answer: `You asked: ${req.body?.prompt ?? ''}`, agentRequestId: req.paymentContext?.agentRequestId })
})
app.get('/health', (req, res) => res.json({ ok: true }))

const server = app.listen(Number(PORT), '127.0.0.1', () => console.log(`paid agent on http://127.0.0.1:${server.address().port}`))
