// A test Worker for the gate's knobs that examples/cloudflare-worker doesn't
// have. It imports nvm-x402 (and hono) by name, as a user would, and serves
// three apps of one agent, each paid with its own paywall:
//   gated (the default):   GET /items/:id, POST /dynamic (credits computed
//                          after the handler), POST /fails (answers 500),
//                          POST /throws, POST /fixed (explicit scheme, other
//                          plan); a CORS origin list; GET /free is not paid
//   upfront (/upfront/*):  POST /upfront/tasks, settled before the handler
//   hono (/hono/*):        a Hono app behind nvm-x402/hono: POST /hono/tasks
//                          paid, GET /hono/health free
// Vars: NVM_API_KEY, NVM_BACKEND_URL, NVM_AGENT_ID, NVM_PLAN_ID, NVM_FIXED_PLAN_ID
// (with NVM_FIXED_SCHEME, NVM_FIXED_NETWORK), NVM_TIMEOUT_MS, CORS_ORIGINS
// (comma-separated) and the prices ITEMS_CREDITS, DYNAMIC_MIN_CREDITS,
// UPFRONT_CREDITS, HONO_CREDITS.
import { Hono } from 'hono'
import { Payments } from 'nvm-x402/agent'
import { paywall as honoPaywall } from 'nvm-x402/hono'

let apps // compiled once per isolate

function appsFor(env) {
  if (apps) return apps
  const payments = Payments.getInstance({ nvmApiKey: env.NVM_API_KEY, backendUrl: env.NVM_BACKEND_URL, timeoutMs: Number(env.NVM_TIMEOUT_MS) })
  const agentId = env.NVM_AGENT_ID
  const planId = env.NVM_PLAN_ID
  const gated = payments.paywall({
    agentId,
    routes: {
      'GET /items/:id': { planId, credits: env.ITEMS_CREDITS },
      'POST /dynamic': { planId, minCredits: env.DYNAMIC_MIN_CREDITS, credits: async (_request, response) => (await response.json()).cost },
      'POST /fails': { planId },
      'POST /throws': { planId },
      'POST /fixed': { planId: env.NVM_FIXED_PLAN_ID, scheme: env.NVM_FIXED_SCHEME, network: env.NVM_FIXED_NETWORK },
    },
    cors: { origin: env.CORS_ORIGINS.split(',') },
  })
  const upfront = payments.paywall({ agentId, upfront: true, routes: { 'POST /upfront/tasks': { planId, credits: env.UPFRONT_CREDITS } } })
  const hono = new Hono()
  hono.use(honoPaywall(payments, { agentId, routes: { 'POST /hono/tasks': { planId, credits: env.HONO_CREDITS } } }))
  hono.post('/hono/tasks', async (c) => c.json({ done: (await c.req.json()).task }))
  hono.get('/hono/health', (c) => c.json({ ok: true }))
  apps = { gated, upfront, hono }
  return apps
}

async function handler(request) {
  const { pathname } = new URL(request.url)
  const item = pathname.match(/^\/items\/([^/]+)$/)
  if (item && (request.method === 'GET' || request.method === 'HEAD')) return Response.json({ item: item[1] })
  if (request.method === 'GET' && pathname === '/free') return Response.json({ free: true })
  if (request.method === 'POST') {
    switch (pathname) {
      case '/dynamic': {
        const { cost } = await request.json()
        return Response.json({ cost, work: 'done' })
      }
      case '/fails':
        return Response.json({ error: 'the model is down' }, { status: 500 })
      case '/throws':
        throw new Error('the handler exploded')
      case '/fixed':
        return Response.json({ fixed: true })
      case '/upfront/tasks':
        return Response.json({ upfront: true })
    }
  }
  return Response.json({ error: 'Not found' }, { status: 404 })
}

export default {
  async fetch(request, env, ctx) {
    const { gated, upfront, hono } = appsFor(env)
    const { pathname } = new URL(request.url)
    if (pathname.startsWith('/hono/')) return hono.fetch(request, env, ctx)
    if (pathname.startsWith('/upfront/')) return upfront.handle(request, handler, ctx)
    return gated.handle(request, handler, ctx)
  },
}
