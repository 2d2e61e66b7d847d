// Two builds of the package side by side in one Node process (#14, item 1): the
// paywall of each (nvm-x402/agent of directory A and of directory B, each with its
// own core) gates paid requests and 402s against an injected fetch that answers
// verify and settle at once with real Responses (bench/instant-backend.js); batches alternate between A and B
// (and a bare handler), so a machine that speeds up or slows down affects both
// alike. Reported: the median CPU per request of each, the gate's own (minus the
// bare handler's), B/A, and in how many rounds B used less. Not a test:
//   cp -RL pkg /tmp/pkg-before; <change, scripts/build.sh>
//   node bench/ab.mjs /tmp/pkg-before pkg [--rounds 30] [--batch 1000] [--only paid|402]
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { benchToken, offlineKey } from '../tests/js/support/gate.mjs'
import { AGENT, INSTANT_BACKEND, NETWORK, PLAN, instantFetch } from './instant-backend.js'

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: { rounds: { type: 'string', default: '30' }, batch: { type: 'string', default: '1000' }, only: { type: 'string' } },
})
if (positionals.length !== 2) throw new Error('usage: node bench/ab.mjs DIR_A DIR_B [--rounds R] [--batch N] [--only paid|402]')
const [ROUNDS, BATCH] = [Number(opts.rounds), Number(opts.batch)]
// bench/compare.mjs's instant backend; nothing else is asked.
const fetch = instantFetch((input) => Promise.reject(new Error(`bench/ab.mjs: unexpected fetch of ${input}`)))
const token = benchToken({ planId: PLAN, agentId: AGENT, network: NETWORK })
const handler = () => Response.json({ answer: 'done' })
const request = (headers) => new Request('http://127.0.0.1:8787/work', { method: 'POST', headers, body: '{}' })

async function paywallOf(dir) {
  const { Payments } = await import(pathToFileURL(resolve(dir, 'agent/index.js')).href)
  const payments = Payments.getInstance({ nvmApiKey: offlineKey(), backendUrl: INSTANT_BACKEND, fetch })
  return payments.paywall({ agentId: AGENT, routes: { 'POST /work': { planId: PLAN, scheme: 'nvm:erc4337', credits: 1 } } })
}
const gates = { A: await paywallOf(positionals[0]), B: await paywallOf(positionals[1]) }
const kinds = {
  paid: { status: 200, once: (gate) => gate.handle(request({ 'payment-signature': token }), handler) },
  402: { status: 402, once: (gate) => gate.handle(request({}), handler) },
}

async function cpuPer(once, n, status) {
  const start = process.cpuUsage()
  for (let i = 0; i < n; i++) {
    const response = await once()
    await response.arrayBuffer()
    if (response.status !== status) throw new Error(`expected ${status}, got ${response.status}`)
  }
  const used = process.cpuUsage(start)
  return (used.user + used.system) / n
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

console.log(`A ${positionals[0]}, B ${positionals[1]}: ${ROUNDS} rounds of ${BATCH} requests each, CPU per request (user + system), medians`)
for (const [kind, { status, once }] of Object.entries(kinds)) {
  if (opts.only && opts.only !== kind) continue
  for (const k of ['A', 'B']) await cpuPer(() => once(gates[k]), 2000, status) // warm up
  const runs = { A: [], B: [], bare: [] }
  for (let r = 0; r < ROUNDS; r++) {
    runs.bare.push(await cpuPer(() => handler(request({})), BATCH, 200))
    for (const k of r % 2 ? ['A', 'B'] : ['B', 'A']) runs[k].push(await cpuPer(() => once(gates[k]), BATCH, status))
  }
  const [a, b, bare] = [median(runs.A), median(runs.B), median(runs.bare)]
  const wins = runs.B.filter((x, i) => x < runs.A[i]).length
  console.log(`${kind.padEnd(4)}  A ${a.toFixed(1)} µs, B ${b.toFixed(1)} µs, bare handler ${bare.toFixed(1)} µs; the gate's own: A ${(a - bare).toFixed(1)}, B ${(b - bare).toFixed(1)} µs, B/A ${((b - bare) / (a - bare)).toFixed(2)}; B used less in ${wins} of ${ROUNDS} rounds`)
}
