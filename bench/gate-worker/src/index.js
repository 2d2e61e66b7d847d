// The Worker of bench/gate.mjs: the same small JSON handler, served
//   /plain/work     without any paywall (the baseline)
//   /plain/trips    without a paywall, but first POSTing verify- and settle-sized
//                   bodies to the backend itself: what two subrequests cost alone
//   /free/work      behind the paywall but not a paid route (pass-through)
//   /paid/work      paid: verify, handler, settle
//   /upfront/work   paid in upfront mode: settle, handler
// Vars: NVM_API_KEY, NVM_BACKEND_URL, NVM_AGENT_ID, NVM_PLAN_ID.
import { Payments } from 'nvm-x402/agent'

let gates // compiled once per isolate

function gatesFor(env) {
  if (gates) return gates
  const payments = Payments.getInstance({ nvmApiKey: env.NVM_API_KEY, backendUrl: env.NVM_BACKEND_URL })
  const route = { planId: env.NVM_PLAN_ID, credits: 1 }
  gates = {
    paid: payments.paywall({ agentId: env.NVM_AGENT_ID, routes: { 'POST /paid/work': route } }),
    upfront: payments.paywall({ agentId: env.NVM_AGENT_ID, upfront: true, routes: { 'POST /upfront/work': route } }),
  }
  return gates
}

async function work(request) {
  const { prompt } = await request.json()
  return Response.json({ answer: `${prompt.length} characters`, words: prompt.split(/\s+/).length })
}

/** Two backend round trips with bodies the size of the gate's verify and settle, without the gate. */
async function trips(request, env) {
  const body = JSON.stringify({ paymentRequired: { resource: { url: request.url } }, x402AccessToken: request.headers.get('payment-signature'), maxAmount: '1' })
  for (const path of ['verify', 'settle']) {
    await (await fetch(new URL(`api/v1/x402/${path}`, env.NVM_BACKEND_URL), { method: 'POST', headers: { 'content-type': 'application/json' }, body })).json()
  }
  return work(request)
}

export default {
  async fetch(request, env, ctx) {
    const { pathname } = new URL(request.url)
    if (pathname === '/plain/work') return work(request)
    if (pathname === '/plain/trips') return trips(request, env)
    const { paid, upfront } = gatesFor(env)
    return (pathname.startsWith('/upfront/') ? upfront : paid).handle(request, work, ctx)
  },
}
