// The gate's own CPU beside the reference x402 gate, in-process in Node (#14,
// items 1 and 5): the same Hono app and handler served
//   bare        no gate
//   control     no gate, but the handler first POSTs verify- and settle-sized
//               bodies to the backend itself: what two backend calls cost alone
//   x402-hono   @x402/hono 2.27 paymentMiddleware (exact EVM scheme) against a
//               facilitator that answers at once
//   nvm-x402    nvm-x402/hono's paywall against nvm-x402's backend API, answering at once
// Both backends are the same loopback recorder. Reported: CPU (process.cpuUsage,
// user + system) per paid request and per 402, each gate over the control
// (paid) or over bare (402), and the ratio nvm-x402 / x402-hono. Rounds are
// interleaved; medians. Not a test: run it on demand (after scripts/build.sh):
//   node bench/compare.mjs [--requests N] [--rounds R]
import { parseArgs } from 'node:util'
import { Hono } from 'hono'
import { paymentMiddleware, x402ResourceServer } from '@x402/hono'
import { HTTPFacilitatorClient } from '@x402/core/server'
import { ExactEvmScheme } from '@x402/evm/exact/server'
import { Payments } from 'nvm-x402'
import { paywall } from 'nvm-x402/hono'
import { startRecorder } from '../tests/js/support/servers.mjs'
import { SETTLE, VERIFY, benchToken, offlineKey } from '../tests/js/support/gate.mjs'

const { values: opts } = parseArgs({ options: { requests: { type: 'string', default: '300' }, rounds: { type: 'string', default: '5' } } })
const REQUESTS = Number(opts.requests)
const ROUNDS = Number(opts.rounds)
const NETWORK = 'eip155:84532'
const PAY_TO = '0x00000000000000000000000000000000000000aa'
const PLAN = '1234567890'

// ---- one instant backend for both: x402's facilitator API and Nevermined's x402 API ----------
const backend = await startRecorder()
backend.respond('GET', '/supported', { json: { kinds: [{ x402Version: 2, scheme: 'exact', network: NETWORK }], extensions: [], signers: {} } })
backend.respond('POST', '/verify', { json: { isValid: true, payer: '0x00000000000000000000000000000000000000bb' } })
backend.respond('POST', '/settle', { json: { success: true, transaction: '0x01', network: NETWORK, payer: '0x00000000000000000000000000000000000000bb' } })
backend.respond('POST', VERIFY, { json: { isValid: true, payer: '0xbb', network: NETWORK, agentRequestId: 'r' } })
backend.respond('POST', SETTLE, (call) => ({ json: { success: true, payer: '0xbb', transaction: '0x01', network: NETWORK, creditsRedeemed: call.json.maxAmount, remainingBalance: '1000000' } }))
const facilitator = backend.url.replace(/\/$/, '')

const work = (c) => c.json({ answer: 'done', words: 3 })

// ---- the apps --------------------------------------------------------------------------------
const bare = new Hono().post('/work', work)

const control = new Hono().post('/work', async (c) => {
  const body = JSON.stringify({ paymentRequired: { resource: { url: c.req.url } }, x402AccessToken: c.req.header('payment-signature'), maxAmount: '1' })
  for (const path of [VERIFY, SETTLE]) await (await fetch(new URL(path, backend.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body })).json()
  return work(c)
})

const server = new x402ResourceServer(new HTTPFacilitatorClient({ url: facilitator })).register(NETWORK, new ExactEvmScheme())
const reference = new Hono()
reference.use(paymentMiddleware({ 'POST /work': { accepts: { scheme: 'exact', price: '$0.01', network: NETWORK, payTo: PAY_TO }, description: 'work' } }, server))
reference.post('/work', work)

const payments = Payments.getInstance({ nvmApiKey: offlineKey(), backendUrl: backend.url })
const ours = new Hono()
ours.use(paywall(payments, { agentId: 'bench-agent', routes: { 'POST /work': { planId: PLAN, scheme: 'nvm:erc4337', credits: 1 } } }))
ours.post('/work', work)

// ---- tokens: what each gate's 402 asks for, paid ----------------------------------------------
const url = 'http://127.0.0.1:8787/work'
const ask = (app, headers = {}) => app.fetch(new Request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{"prompt":"three little words"}' }))
const b64 = (v) => Buffer.from(JSON.stringify(v)).toString('base64')

const refused = await ask(reference)
if (refused.status !== 402) throw new Error(`x402-hono answered ${refused.status} without payment`)
const required = JSON.parse(Buffer.from(refused.headers.get('payment-required'), 'base64').toString())
const accepted = required.accepts[0]
const referencePayment = b64({
  x402Version: 2,
  resource: required.resource,
  accepted,
  payload: {
    signature: `0x${'ab'.repeat(65)}`,
    authorization: { from: '0x00000000000000000000000000000000000000bb', to: PAY_TO, value: accepted.amount, validAfter: '0', validBefore: '99999999999', nonce: `0x${'cd'.repeat(32)}` },
  },
})
const oursToken = benchToken({ planId: PLAN, agentId: 'bench-agent', network: NETWORK })

const SCENARIOS = {
  'bare (no gate)': { app: bare, headers: {}, status: 200 },
  'control (2 backend calls by hand)': { app: control, headers: { 'payment-signature': oursToken }, status: 200 },
  'x402-hono, paid': { app: reference, headers: { 'payment-signature': referencePayment }, status: 200 },
  'nvm-x402, paid': { app: ours, headers: { 'payment-signature': oursToken }, status: 200 },
  'x402-hono, 402': { app: reference, headers: {}, status: 402 },
  'nvm-x402, 402': { app: ours, headers: {}, status: 402 },
}

async function round({ app, headers, status }, n) {
  const start = process.cpuUsage()
  const wall = performance.now()
  for (let i = 0; i < n; i++) {
    const response = await ask(app, headers)
    await response.arrayBuffer()
    if (response.status !== status) throw new Error(`expected ${status}, got ${response.status}`)
  }
  const cpu = process.cpuUsage(start)
  return { cpuUs: (cpu.user + cpu.system) / n, wallMs: (performance.now() - wall) / n }
}

for (const s of Object.values(SCENARIOS)) await round(s, Math.min(100, REQUESTS)) // warm up (JIT, connections)
const results = Object.fromEntries(Object.keys(SCENARIOS).map((k) => [k, []]))
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, s] of Object.entries(SCENARIOS)) results[name].push(await round(s, REQUESTS))
}
await backend.close()

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const m = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, { cpu: median(v.map((x) => x.cpuUs)), wall: median(v.map((x) => x.wallMs)) }]))
console.log(`In-process in Node, ${REQUESTS} requests x ${ROUNDS} rounds (medians), loopback backend answering at once`)
console.log('scenario                              CPU µs/request   wall ms/request')
for (const [k, v] of Object.entries(m)) console.log(`${k.padEnd(38)}${v.cpu.toFixed(0).padStart(10)}${v.wall.toFixed(2).padStart(16)}`)
const paidRef = m['x402-hono, paid'].cpu - m['control (2 backend calls by hand)'].cpu
const paidOurs = m['nvm-x402, paid'].cpu - m['control (2 backend calls by hand)'].cpu
const reqRef = m['x402-hono, 402'].cpu - m['bare (no gate)'].cpu
const reqOurs = m['nvm-x402, 402'].cpu - m['bare (no gate)'].cpu
console.log(`\nthe gate's own CPU, paid (over the control):  x402-hono ${paidRef.toFixed(0)} µs, nvm-x402 ${paidOurs.toFixed(0)} µs, ratio ${(paidOurs / paidRef).toFixed(2)} (target <= 0.25)`)
console.log(`the gate's own CPU, 402 (over bare):          x402-hono ${reqRef.toFixed(0)} µs, nvm-x402 ${reqOurs.toFixed(0)} µs, ratio ${(reqOurs / reqRef).toFixed(2)} (target <= 0.25)`)
