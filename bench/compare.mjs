// The gate's own CPU beside the reference x402 gate (#14, items 1 and 5), in one
// command, in-process in Node and on workerd: the apps of bench/compare-apps.js
// (bare Hono, the two-call control, @x402/hono 2.27, nvm-x402/hono, and the
// hand-written floor), against one instant backend (bench/instant-backend.js,
// in the process or the isolate) that serves both x402's
// facilitator API and Nevermined's x402 API. Reported: CPU per paid request
// and per 402 — in Node process.cpuUsage (user + system) of this process, on
// workerd the workerd processes' user + system time from /proc —, each gate
// over the control (paid) or over bare (402), and the ratio nvm-x402 /
// x402-hono. Rounds are interleaved; medians. Not a test: run it on demand
// (after scripts/build.sh):
//   node bench/compare.mjs [--requests N] [--rounds R] [--workerd-requests N] [--times T] [--clients C] [--no-workerd]
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { benchToken, offlineKey } from '../tests/js/support/gate.mjs'
import { APPS, app, referencePayment } from './compare-apps.js'
import { AGENT, INSTANT_BACKEND, NETWORK, PLAN, instantFetch } from './instant-backend.js'
import { cpuMs, startMeasuredWorker } from './workerd.mjs'

const { values: opts } = parseArgs({
  options: {
    requests: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '5' },
    'workerd-requests': { type: 'string', default: '4000' },
    times: { type: 'string', default: '20' },
    clients: { type: 'string', default: '8' },
    'no-workerd': { type: 'boolean', default: false },
  },
})
const REQUESTS = Number(opts.requests)
const ROUNDS = Number(opts.rounds)
const WORKERD_REQUESTS = Number(opts['workerd-requests'])
const TIMES = Number(opts.times)
const CLIENTS = Number(opts.clients)

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
{
  const realFetch = globalThis.fetch
  globalThis.fetch = instantFetch(realFetch)
  const served = Object.fromEntries(APPS.map((name) => [name, app(name, { backendUrl: INSTANT_BACKEND, nvmApiKey: offlineKey() })]))
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
  const worker = await startMeasuredWorker({ cwd: join(dirname(fileURLToPath(import.meta.url)), 'compare-worker'), vars: { NVM_API_KEY: offlineKey() } })
  try {
    const refused = await fetch(`${worker.url}reference/work`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
    if (refused.status !== 402) throw new Error(`x402-hono on workerd answered ${refused.status} without payment`)
    const all = scenarios(referencePayment(decode(refused.headers.get('payment-required'))))
    // Each HTTP request is served TIMES over inside the Worker (see compare-worker/src/index.js).
    const round = async ({ app, headers, status }, n = WORKERD_REQUESTS) => {
      const http = Math.max(1, Math.round(n / TIMES))
      const cpu0 = await cpuMs(worker.workerd)
      const wall = performance.now()
      const statuses = await worker.drive(http, `/${app}/work?times=${TIMES}`, headers, CLIENTS)
      if (statuses[status] !== http) throw new Error(`/${app}/work: expected ${http} x ${status}, got ${JSON.stringify(statuses)}`)
      return { cpuUs: (((await cpuMs(worker.workerd)) - cpu0) * 1000) / (http * TIMES), wallMs: (performance.now() - wall) / (http * TIMES) }
    }
    for (const s of Object.values(all)) await round(s, 1000) // warm up
    report(`On workerd (wrangler dev --local), the instant fetch inside the Worker, ${WORKERD_REQUESTS} gated requests (${TIMES} per HTTP request from ${CLIENTS} keep-alive clients) x ${ROUNDS} rounds (medians); CPU of the workerd processes (${worker.workerd.length})`, await interleaved(all, ROUNDS, round))
  } finally {
    await worker.stop()
  }
}
