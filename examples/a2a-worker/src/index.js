// A paid A2A (Agent2Agent) server on Cloudflare Workers, gated by nvm-x402.
//   GET  /.well-known/agent-card.json  the agent card (and the legacy /.well-known/agent.json),
//                                      with the urn:nevermined:payment and a2a-x402 extensions
//   POST /a2a                          A2A 0.3 JSON-RPC: message/send, message/stream, tasks/get,
//                                      tasks/cancel, tasks/resubscribe; one skill:
//                                        echo  1 credit of NVM_PLAN_ID, answers the text it was sent
//   GET  /health                       free
// Payment is in band (x402 v2 A2A transport): an unpaid message/send gets a task in
// state input-required with x402.payment.status payment-required; the client answers
// on the same taskId with payment-submitted and the payload. The waiting task is kept in
// a Durable Object (A2ATaskStore), so whichever isolate gets the follow-up finds it.
// Configuration comes only from Worker vars/secrets: NVM_API_KEY (the agent builder's
// key, a secret), NVM_AGENT_ID, NVM_PLAN_ID, NVM_BACKEND_URL (optional),
// NVM_A2A_PENDING_TTL_SECONDS (optional: how long a task waits for its payment; 900),
// NVM_A2A_FINISHED_TTL_SECONDS (optional: how long a task is kept once it ended, then its
// Durable Object deletes it; 604800, 7 days).
import { Payments, buildPaymentAgentCard, durableObjectTaskStore } from 'nvm-x402/a2a'

// The Durable Object class the task store binding (A2A_TASKS) names.
export { A2ATaskStore } from 'nvm-x402/a2a'

// One client and one paywall per isolate: the plan's scheme is looked up once, not per call.
let server

function serverFor(env, origin) {
  for (const name of ['NVM_API_KEY', 'NVM_AGENT_ID', 'NVM_PLAN_ID']) {
    if (!env[name]) throw new Error(`Set the ${name} variable (wrangler dev --var ${name}:... or wrangler secret put ${name})`)
  }
  if (!server) {
    const payments = Payments.getInstance({ nvmApiKey: env.NVM_API_KEY, backendUrl: env.NVM_BACKEND_URL || undefined })
    const agentCard = buildPaymentAgentCard(
      {
        name: 'nvm-x402 echo agent',
        description: 'Answers the text it was sent (1 credit)',
        version: '1.0.0',
        protocolVersion: '0.3.0',
        url: `${origin}/a2a`,
        preferredTransport: 'JSONRPC',
        capabilities: { streaming: true, pushNotifications: false },
        defaultInputModes: ['text/plain'],
        defaultOutputModes: ['text/plain'],
        skills: [{ id: 'echo', name: 'Echo', description: 'Answers the text it was sent', tags: ['echo'] }],
      },
      { agentId: env.NVM_AGENT_ID, planId: env.NVM_PLAN_ID, credits: 1, paymentType: 'fixed', costDescription: '1 credit per message' },
    )
    const seconds = (name) => (env[name] ? Number(env[name]) : undefined)
    server = payments.a2a.paywall({
      agentCard,
      executor: echo,
      taskStore: durableObjectTaskStore(env.A2A_TASKS),
      pendingTaskTtlSeconds: seconds('NVM_A2A_PENDING_TTL_SECONDS'),
      finishedTaskTtlSeconds: seconds('NVM_A2A_FINISHED_TTL_SECONDS'),
    })
  }
  return server
}

/** The echo skill: the text parts of the message, as the agent's answer and an artifact. */
const echo = {
  async execute({ userMessage, taskId, contextId }, eventBus) {
    const text = (userMessage.parts ?? []).filter((p) => p.kind === 'text').map((p) => p.text).join('')
    eventBus.publish({ kind: 'artifact-update', taskId, contextId, artifact: { artifactId: 'echo', parts: [{ kind: 'text', text }] } })
    const reply = { kind: 'message', messageId: crypto.randomUUID(), role: 'agent', parts: [{ kind: 'text', text }], taskId, contextId }
    eventBus.publish({ kind: 'status-update', taskId, contextId, status: { state: 'completed', message: reply }, final: true, metadata: { creditsUsed: 1 } })
    eventBus.finished()
  },
}

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'POST, GET, OPTIONS',
  'access-control-allow-headers': 'content-type, accept, payment-signature',
}

function withCors(response) {
  const out = new Response(response.body, response)
  for (const [name, value] of Object.entries(CORS)) out.headers.set(name, value)
  return out
}

export default {
  async fetch(request, env) {
    const { pathname, origin } = new URL(request.url)
    if (request.method === 'OPTIONS') return new Response(null, { status: 204, headers: CORS })
    if (request.method === 'GET' && pathname === '/health') return withCors(Response.json({ ok: true }))
    if (request.method === 'POST' && pathname !== '/a2a') return withCors(Response.json({ error: 'Not found' }, { status: 404 }))
    return withCors(await serverFor(env, origin).fetch(request))
  },
}
