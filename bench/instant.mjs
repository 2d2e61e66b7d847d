// The gate's own CPU with no network at all (#14, item 1): the paywall in
// Node with an injected fetch that answers verify and settle at once, so
// what is measured is the package (the boundary, the core, the Request and
// Response objects it makes), next to the bare handler. Not a test:
//   scripts/build.sh && node bench/instant.mjs [--requests N]
import { parseArgs } from 'node:util'
import { Payments } from 'nvm-x402/agent'
import { benchToken } from '../tests/js/support/gate.mjs'

const { values: opts } = parseArgs({ options: { requests: { type: 'string', default: '20000' } } })
const N = Number(opts.requests)
const NETWORK = 'eip155:84532'
const PLAN = '1234567890'
const verify = JSON.stringify({ isValid: true, payer: '0xbb', network: NETWORK, agentRequestId: 'r' })
const settle = JSON.stringify({ success: true, payer: '0xbb', transaction: '0x01', network: NETWORK, creditsRedeemed: '1', remainingBalance: '1000000' })
const fetch = async (url) => ({ status: 200, text: async () => (url.endsWith('verify') ? verify : settle) })
const payments = Payments.getInstance({ nvmApiKey: 'local:eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIweGFhIn0.c2ln', backendUrl: 'http://127.0.0.1:9/', fetch })
const gate = payments.paywall({ agentId: 'bench-agent', routes: { 'POST /work': { planId: PLAN, scheme: 'nvm:erc4337', credits: 1 } } })
const token = benchToken({ planId: PLAN, agentId: 'bench-agent', network: NETWORK })
const handler = () => Response.json({ answer: 'done' })
const request = (headers) => new Request('http://127.0.0.1:8787/work', { method: 'POST', headers, body: '{}' })

async function cpu(label, once, status) {
  for (let i = 0; i < Math.min(2000, N); i++) await once() // warm up
  const start = process.cpuUsage()
  for (let i = 0; i < N; i++) {
    const r = await once()
    await r.arrayBuffer()
    if (r.status !== status) throw new Error(`${label}: ${r.status}`)
  }
  const used = process.cpuUsage(start)
  return (used.user + used.system) / N
}

const bare = await cpu('bare', () => handler(request({})), 200)
const paid = await cpu('paid', () => gate.handle(request({ 'payment-signature': token }), handler), 200)
const refused = await cpu('402', () => gate.handle(request({}), handler), 402)
console.log(`${N} requests each, CPU per request (user + system)`)
console.log(`  bare handler               ${bare.toFixed(1)} µs`)
console.log(`  paid (verify + settle)     ${paid.toFixed(1)} µs  -> the gate's own: ${(paid - bare).toFixed(1)} µs`)
console.log(`  no token (402)             ${refused.toFixed(1)} µs  -> the gate's own: ${(refused - bare).toFixed(1)} µs`)
