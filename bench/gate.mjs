// The gate's cost on workerd, in one run: requests/s and workerd CPU per
// request of one handler served ungated and behind the gate (pass-through,
// 402s, paid, paid upfront), against a loopback backend that answers at once;
// backend round trips per request; and the Worker example's bundle size.
// Not a test: run it on demand (after scripts/build.sh):
//   node bench/gate.mjs [--requests N] [--rounds R] [--clients C] [--warmup W]
// Each scenario is warmed up first, then measured in R interleaved rounds of N
// requests; the table shows the median round.
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { ROOT, startRecorder } from '../tests/js/support/servers.mjs'
import { cpuMs, startMeasuredWorker } from './workerd.mjs'
import { kib, workerBundle } from '../tests/js/support/entries.mjs'
import { PLANS, SETTLE, VERIFY, benchToken, offlineKey } from '../tests/js/support/gate.mjs'

const { values: opts } = parseArgs({
  options: {
    requests: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '3' },
    clients: { type: 'string', default: '8' },
    warmup: { type: 'string', default: '300' },
  },
})
const REQUESTS = Number(opts.requests)
const CLIENTS = Number(opts.clients)
const WARMUP = Number(opts.warmup)
const ROUNDS = Number(opts.rounds)

const PLAN = '1234567890123456789012345678901234567890'
const AGENT = 'bench-agent'
const NETWORK = 'eip155:84532'
const TOKEN = benchToken({ planId: PLAN, agentId: AGENT, network: NETWORK })

// ---- an instant backend: canned plan, verify and settle answers -------------------------------
const backend = await startRecorder()
backend.respond('GET', `${PLANS}${PLAN}`, { json: { id: PLAN, registry: { price: { isCrypto: true } } } })
backend.respond('POST', VERIFY, { json: { isValid: true, payer: '0xbb', network: NETWORK, agentRequestId: 'bench-request' } })
backend.respond('POST', SETTLE, (call) => ({ json: { success: true, payer: '0xbb', transaction: '0x01', network: NETWORK, creditsRedeemed: call.json.maxAmount, remainingBalance: '1000000' } }))

let worker // the Worker: its url, its workerd and wrangler pids, and its load generator
const drive = (count, path, token) => worker.drive(count, path, token ? { 'payment-signature': token } : {}, CLIENTS)

const SCENARIOS = [
  { name: 'ungated', path: '/plain/work', status: 200 },
  { name: 'ungated + 2 backend trips by hand', path: '/plain/trips', token: TOKEN, status: 200 },
  { name: 'gate pass-through (free route)', path: '/free/work', status: 200 },
  { name: 'gated, no token (402)', path: '/paid/work', status: 402 },
  { name: 'gated, malformed token (402)', path: '/paid/work', token: 'not-a-token', status: 402 },
  { name: 'gated, paid (verify + settle)', path: '/paid/work', token: TOKEN, status: 200 },
  { name: 'gated, paid upfront (settle)', path: '/upfront/work', token: TOKEN, status: 200 },
]

async function measure(s) {
  const mark = backend.requests.length
  const [cpu0, other0] = [await cpuMs(worker.workerd), await cpuMs(worker.others)]
  const t0 = performance.now()
  const statuses = await drive(REQUESTS, s.path, s.token)
  const wall = performance.now() - t0
  const [cpu, other] = [(await cpuMs(worker.workerd)) - cpu0, (await cpuMs(worker.others)) - other0]
  if (statuses[s.status] !== REQUESTS) throw new Error(`${s.name}: expected ${REQUESTS} x ${s.status}, got ${JSON.stringify(statuses)}`)
  const calls = backend.requests.slice(mark)
  const kinds = [...new Set(calls.map((c) => c.path.split('/').pop().replace(PLAN, 'plan')))].join('+')
  return { rps: (REQUESTS * 1000) / wall, cpu: cpu / REQUESTS, other: other / REQUESTS, trips: calls.length / REQUESTS, kinds }
}

const median = (values) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]
const results = []
try {
  worker = await startMeasuredWorker({
    cwd: join(dirname(fileURLToPath(import.meta.url)), 'gate-worker'),
    vars: { NVM_API_KEY: offlineKey(), NVM_BACKEND_URL: backend.url, NVM_AGENT_ID: AGENT, NVM_PLAN_ID: PLAN },
  })
  const probe = await fetch(`${worker.url}paid/work`, { method: 'POST', headers: { 'payment-signature': TOKEN }, body: '{"prompt":"x"}' })
  if (probe.status !== 200 || !probe.headers.get('payment-response')) throw new Error(`the paid route does not pay: ${probe.status} ${await probe.text()}`)
  for (const s of SCENARIOS) await drive(WARMUP, s.path, s.token)
  const rounds = SCENARIOS.map(() => [])
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, s] of SCENARIOS.entries()) rounds[i].push(await measure(s))
  }
  for (const [i, s] of SCENARIOS.entries()) {
    const runs = rounds[i]
    results.push({ ...s, ...runs[0], rps: median(runs.map((r) => r.rps)), cpu: median(runs.map((r) => r.cpu)), other: median(runs.map((r) => r.other)), trips: median(runs.map((r) => r.trips)) })
  }
} finally {
  await worker?.stop()
  await backend.close()
}

// ---- the Worker example's bundle, as wrangler would upload it ----------------------------------
const bundle = await workerBundle(join(ROOT, 'examples/cloudflare-worker'))

// ---- the report ---------------------------------------------------------------------------------
const base = results[0].cpu
const col = (text, width) => String(text).padStart(width)
console.log(`\nworkerd (wrangler dev --local); per scenario ${WARMUP} warm-up requests, then the median of ${ROUNDS} interleaved rounds of ${REQUESTS}; ${CLIENTS} concurrent keep-alive clients; instant loopback backend`)
console.log(`workerd CPU: user + system time of the workerd process (${worker.workerd.length}) per request; wrangler's node processes (${worker.others.length}) shown apart`)
console.log(`${'scenario'.padEnd(36)}${col('req/s', 7)}${col('workerd CPU ms/req', 20)}${col('added ms/req', 14)}${col('node ms/req', 13)}${col('backend trips/req', 19)}  calls`)
for (const r of results) {
  console.log(`${r.name.padEnd(36)}${col(r.rps.toFixed(0), 7)}${col(r.cpu.toFixed(3), 20)}${col((r.cpu - base).toFixed(3), 14)}${col(r.other.toFixed(3), 13)}${col(r.trips.toFixed(2), 19)}  ${r.kinds || '-'}`)
}
console.log('targets: backend trips per paid request <= 2, 1 upfront, 0 for malformed tokens')
console.log(`\nexamples/cloudflare-worker bundle (wrangler deploy --dry-run):`)
for (const { file, raw, gz } of bundle.files) console.log(`  ${file.padEnd(26)}${col(kib(raw), 12)}  gzip -9 ${col(kib(gz), 10)}`)
console.log(`  ${'total'.padEnd(26)}${col(kib(bundle.raw), 12)}  gzip -9 ${col(kib(bundle.gz), 10)}   (budget <= 90 KiB, checked by tests/js/node/budgets.test.mjs)`)
if (bundle.wrangler) console.log(`  wrangler says: ${bundle.wrangler}`)
