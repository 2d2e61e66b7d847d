// A small paid agent on Cloudflare Workers, gated by nvm-x402.
//   POST /tasks   {"prompt": "..."}  -> paid: 1 credit of NVM_PLAN_ID per answer
//   GET  /health                     -> free
// Configuration comes only from Worker vars/secrets: NVM_API_KEY (the agent
// builder's key, a secret), NVM_AGENT_ID, NVM_PLAN_ID, NVM_BACKEND_URL (optional:
// the backend the key's prefix picks is used when it is empty).
import { Payments } from 'nvm-x402/agent'

let paywall // compiled once per isolate, so the plan's scheme is looked up once, not per request

function paywallFor(env) {
  for (const name of ['NVM_API_KEY', 'NVM_AGENT_ID', 'NVM_PLAN_ID']) {
    if (!env[name]) throw new Error(`Set the ${name} variable (wrangler dev --var ${name}:... or wrangler secret put ${name})`)
  }
  paywall ??= Payments.getInstance({ nvmApiKey: env.NVM_API_KEY, backendUrl: env.NVM_BACKEND_URL || undefined }).paywall({
    agentId: env.NVM_AGENT_ID,
    routes: {
      'POST /tasks': { planId: env.NVM_PLAN_ID, credits: 1, description: 'Answer a prompt', mimeType: 'application/json' },
    },
    cors: true, // lets the demo page (another origin) call the agent and read payment-response
  })
  return paywall
}

async function agent(request) {
  const { pathname } = new URL(request.url)
  if (request.method === 'GET' && pathname === '/health') {
    return Response.json({ ok: true })
  }
  if (request.method === 'POST' && pathname === '/tasks') {
    let prompt
    try {
      ;({ prompt } = await request.json())
    } catch {
      return Response.json({ error: 'Send JSON: {"prompt": "..."}' }, { status: 400 })
    }
    if (typeof prompt !== 'string' || prompt.trim() === '') {
      return Response.json({ error: 'prompt must be a non-empty string' }, { status: 400 })
    }
    const words = prompt.trim().split(/\s+/).length
    return Response.json({ answer: `You asked: "${prompt.trim()}". That is ${words} word${words === 1 ? '' : 's'}; a paid agent would do something cleverer with them.` })
  }
  return Response.json({ error: 'Not found' }, { status: 404 })
}

export default {
  async fetch(request, env, ctx) {
    return paywallFor(env).handle(request, agent, ctx)
  },
}
