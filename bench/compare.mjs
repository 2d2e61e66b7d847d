// The gate's own CPU beside the reference x402 gate (#14, items 1 and 5), in one
// command, in-process in Node and on workerd: the four apps of
// bench/compare-apps.js (bare Hono, the two-call control, @x402/hono 2.27,
// nvm-x402/hono), against one instant loopback backend that serves both x402's
// facilitator API and Nevermined's x402 API. Reported: CPU per paid request
// and per 402 — in Node process.cpuUsage (user + system) of this process, on
// workerd the workerd processes' user + system time from /proc —, each gate
// over the control (paid) or over bare (402), and the ratio nvm-x402 /
// x402-hono. Rounds are interleaved; medians. Not a test: run it on demand
// (after scripts/build.sh):
//   node bench/compare.mjs [--requests N] [--rounds R] [--workerd-requests N] [--clients C] [--no-workerd]
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { startRecorder } from '../tests/js/support/servers.mjs'
import { SETTLE, VERIFY, benchToken, offlineKey } from '../tests/js/support/gate.mjs'
import { AGENT, APPS, NETWORK, PLAN, app, referencePayment } from './compare-apps.js'
import { cpuMs, startMeasuredWorker } from './workerd.mjs'

const { values: opts } = parseArgs({
  options: {
    requests: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '5' },
    'workerd-requests': { type: 'string', default: '600' },
    clients: { type: 'string', default: '8' },
    'no-workerd': { type: 'boolean', default: false },
  },
})
const REQUESTS = Number(opts.requests)
const ROUNDS = Number(opts.rounds)
const WORKERD_REQUESTS = Number(opts['workerd-requests'])
const CLIENTS = Number(opts.clients)

// ---- one instant backend for both: x402's facilitator API and Nevermined's x402 API ----------
const backend = await startRecorder()
backend.respond('GET', '/supported', { json: { kinds: [{ x402Version: 2, scheme: 'exact', network: NETWORK }], extensions: [], signers: {} } })
backend.respond('POST', '/verify', { json: { isValid: true, payer: '0x00000000000000000000000000000000000000bb' } })
backend.respond('POST', '/settle', { json: { success: true, transaction: '0x01', network: NETWORK, payer: '0x00000000000000000000000000000000000000bb' } })
backend.respond('POST', VERIFY, { json: { isValid: true, payer: '0xbb', network: NETWORK, agentRequestId: 'r' } })
backend.respond('POST', SETTLE, (call) => ({ json: { success: true, payer: '0xbb', transaction: '0x01', network: NETWORK, creditsRedeemed: call.json.maxAmount, remainingBalance: '1000000' } }))

const oursToken = benchToken({ planId: PLAN, agentId: AGENT, network: NETWORK })
const decode = (header) => JSON.parse(Buffer.from(header, 'base64').toString())
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

/** The eight scenarios: `{name: {app, headers, status}}`; `paying` is the reference gate's payment header. */
const scenarios = (paying) => ({
  'bare (no gate)': { app: 'bare', headers: {}, status: 200 },
  'control (2 backend calls by hand)': { app: 'control', headers: { 'payment-signature': oursToken }, status: 200 },
  'x402-hono, paid': { app: 'reference', headers: { 'payment-signature': paying }, status: 200 },
  'nvm-x402, paid': { app: 'ours', headers: { 'payment-signature': oursToken }, status: 200 },
  'x402-hono, 402': { app: 'reference', headers: {}, status: 402 },
  'nvm-x402, 402': { app: 'ours', headers: {}, status: 402 },
  'floor, paid': { app: 'floor', headers: { 'payment-signature': oursToken }, status: 200 },
  'floor, 402': { app: 'floor', headers: {}, status: 402 },
})

/** Runs `measure(scenario)` for each scenario in `rounds` interleaved rounds; the median CPU µs and wall ms per request of each. */
async function interleaved(all, rounds, measure) {
  const results = Object.fromEntries(Object.keys(all).map((k) => [k, []]))
  for (let r = 0; r < rounds; r++) for (const [name, s] of Object.entries(all)) results[name].push(await measure(s))
  return Object.fromEntries(Object.entries(results).map(([k, v]) => [k, { cpu: median(v.map((x) => x.cpuUs)), wall: median(v.map((x) => x.wallMs)) }]))
}

function report(title, m) {
  console.log(`\n${title}`)
  console.log('scenario                              CPU µs/request   wall ms/request')
  for (const [k, v] of Object.entries(m)) console.log(`${k.padEnd(38)}${v.cpu.toFixed(0).padStart(10)}${v.wall.toFixed(2).padStart(16)}`)
  const paidRef = m['x402-hono, paid'].cpu - m['control (2 backend calls by hand)'].cpu
  const paidOurs = m['nvm-x402, paid'].cpu - m['control (2 backend calls by hand)'].cpu
  const reqRef = m['x402-hono, 402'].cpu - m['bare (no gate)'].cpu
  const reqOurs = m['nvm-x402, 402'].cpu - m['bare (no gate)'].cpu
  console.log(`the gate's own CPU, paid (over the control):  x402-hono ${paidRef.toFixed(0)} µs, nvm-x402 ${paidOurs.toFixed(0)} µs, ratio ${(paidOurs / paidRef).toFixed(2)} (target <= 0.25)`)
  console.log(`the gate's own CPU, 402 (over bare):          x402-hono ${reqRef.toFixed(0)} µs, nvm-x402 ${reqOurs.toFixed(0)} µs, ratio ${(reqOurs / reqRef).toFixed(2)} (target <= 0.25)`)
  const paidFloor = m['floor, paid'].cpu - m['control (2 backend calls by hand)'].cpu
  const reqFloor = m['floor, 402'].cpu - m['bare (no gate)'].cpu
  console.log(`the floor (the same wire work by hand, no checks): paid ${paidFloor.toFixed(0)} µs (ratio ${(paidFloor / paidRef).toFixed(2)}), 402 ${reqFloor.toFixed(0)} µs (ratio ${(reqFloor / reqRef).toFixed(2)})`)
}

// ---- in-process in Node -----------------------------------------------------------------------
// The backend is an instant fetch (the method): a loopback server in this process would
// put its own CPU (parsing the gates' requests) into the figures, and each gate's requests differ.
{
  const answers = {
    '/supported': { kinds: [{ x402Version: 2, scheme: 'exact', network: NETWORK }], extensions: [], signers: {} },
    '/verify': { isValid: true, payer: '0x00000000000000000000000000000000000000bb' },
    '/settle': { success: true, transaction: '0x01', network: NETWORK, payer: '0x00000000000000000000000000000000000000bb' },
    [VERIFY]: { isValid: true, payer: '0xbb', network: NETWORK, agentRequestId: 'r' },
    [SETTLE]: { success: true, payer: '0xbb', transaction: '0x01', network: NETWORK, creditsRedeemed: '1', remainingBalance: '1000000' },
  }
  const texts = new Map(Object.entries(answers).map(([path, json]) => [path, JSON.stringify(json)]))
  const realFetch = globalThis.fetch
  globalThis.fetch = async (input) => {
    const text = texts.get(new URL(typeof input === 'string' || input instanceof URL ? input : input.url).pathname)
    return text === undefined ? new Response('{}', { status: 404 }) : new Response(text, { headers: { 'content-type': 'application/json' } })
  }
  const served = Object.fromEntries(APPS.map((name) => [name, app(name, { backendUrl: 'http://127.0.0.1:9/', nvmApiKey: offlineKey() })]))
  const url = 'http://127.0.0.1:8787/work'
  const ask = (app, headers = {}) => served[app].fetch(new Request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{"prompt":"three little words"}' }))
  const refused = await ask('reference')
  if (refused.status !== 402) throw new Error(`x402-hono answered ${refused.status} without payment`)
  const all = scenarios(referencePayment(decode(refused.headers.get('payment-required'))))
  const round = async ({ app, headers, status }, n = REQUESTS) => {
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
  for (const s of Object.values(all)) await round(s, Math.min(1000, REQUESTS)) // warm up (JIT)
  report(`In-process in Node, ${REQUESTS} requests x ${ROUNDS} rounds (medians), an instant injected fetch as the backend`, await interleaved(all, ROUNDS, round))
  globalThis.fetch = realFetch
}

// ---- on workerd (wrangler dev --local), the apps bundled into one Worker -----------------------
if (!opts['no-workerd']) {
  const worker = await startMeasuredWorker({ cwd: join(dirname(fileURLToPath(import.meta.url)), 'compare-worker'), vars: { NVM_API_KEY: offlineKey(), BACKEND_URL: backend.url } })
  try {
    const refused = await fetch(`${worker.url}reference/work`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
    if (refused.status !== 402) throw new Error(`x402-hono on workerd answered ${refused.status} without payment`)
    const all = scenarios(referencePayment(decode(refused.headers.get('payment-required'))))
    const round = async ({ app, headers, status }, n = WORKERD_REQUESTS) => {
      const cpu0 = await cpuMs(worker.workerd)
      const wall = performance.now()
      const statuses = await worker.drive(n, `/${app}/work`, headers, CLIENTS)
      if (statuses[status] !== n) throw new Error(`/${app}/work: expected ${n} x ${status}, got ${JSON.stringify(statuses)}`)
      return { cpuUs: (((await cpuMs(worker.workerd)) - cpu0) * 1000) / n, wallMs: (performance.now() - wall) / n }
    }
    for (const s of Object.values(all)) await round(s, 200) // warm up
    report(`On workerd (wrangler dev --local), ${WORKERD_REQUESTS} requests from ${CLIENTS} keep-alive clients x ${ROUNDS} rounds (medians); CPU of the workerd processes (${worker.workerd.length})`, await interleaved(all, ROUNDS, round))
  } finally {
    await worker.stop()
  }
}
await backend.close()
