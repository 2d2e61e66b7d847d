// Cold start (#14, item 4): from a fresh isolate to the first gated answer —
// loading the package (the .wasm compiled and instantiated), building the
// paywall, and answering one paid request (verify + settle against an
// instant loopback backend; the route fixes its scheme, so no plan lookup) —
// next to a warm request in the same isolate.
//   Node:    a fresh process per sample; phases timed inside it.
//   workerd: the Worker example's deployable bundle (wrangler deploy --dry-run)
//            in a fresh Miniflare per sample: time to the first answer, and a
//            second request.
// Medians of `--rounds N` samples (default 7). Not a test (timings are noisy):
//   scripts/build.sh && node bench/cold.mjs [--rounds N]
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { ROOT } from '../tests/js/support/servers.mjs'
import { SETTLE, VERIFY, offlineKey } from '../tests/js/support/gate.mjs'
import { PAYMENT, PLAN, col, instantBackend, rounds, workerCold } from './support/worker-cold.mjs'

const run = promisify(execFile)
const TOKEN = Buffer.from(JSON.stringify(PAYMENT)).toString('base64url')

const backend = await instantBackend()

// ---- Node: a fresh process per sample ----------------------------------------------------------
const script = `
const t0 = performance.now()
const { Payments } = await import('nvm-x402/agent')
const t1 = performance.now()
const payments = Payments.getInstance({ nvmApiKey: ${JSON.stringify(offlineKey())}, backendUrl: ${JSON.stringify(backend.url)} })
const t2 = performance.now()
const gate = payments.paywall({ agentId: 'a', routes: { 'POST /tasks': { planId: '${PLAN}', scheme: 'nvm:erc4337', credits: 1 } } })
const t3 = performance.now()
const ask = async () => (await gate.handle(new Request('http://127.0.0.1:8787/tasks', { method: 'POST', headers: { 'payment-signature': '${TOKEN}' } }), () => new Response('ok'))).status
const status = await ask()
const t4 = performance.now()
await ask()
const t5 = performance.now()
console.log(JSON.stringify({ status, import: t1 - t0, instance: t2 - t1, paywall: t3 - t2, first: t4 - t3, total: t4 - t0, warm: t5 - t4 }))
`
// The control: the same two backend calls with plain fetch in a fresh process (Node loads its
// fetch implementation, undici, on first use: that is not the package's cost).
const control = `
const t0 = performance.now()
for (const path of ['${VERIFY}', '${SETTLE}']) await (await fetch(new URL(path, ${JSON.stringify(backend.url)}), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"maxAmount":"1"}' })).text()
console.log(JSON.stringify({ status: 200, trips: performance.now() - t0 }))
`
const dir = await mkdtemp(join(ROOT, 'target', 'cold-'))
async function samples(source) {
  const file = join(dir, `s${Math.random().toString(36).slice(2)}.mjs`)
  await writeFile(file, source)
  const out = []
  for (let i = 0; i < rounds; i++) {
    const { stdout } = await run(process.execPath, [file], { cwd: ROOT })
    const sample = JSON.parse(stdout)
    if (sample.status !== 200) throw new Error(`Node sample answered ${sample.status}`)
    out.push(sample)
  }
  return out
}
const node = await samples(script)
const bare = await samples(control)
await rm(dir, { recursive: true, force: true })

// ---- workerd: the Worker example's bundle in a fresh Miniflare per sample ----------------------
const ask = async (mf) => {
  const response = await mf.dispatchFetch('http://127.0.0.1:8787/tasks', { method: 'POST', headers: { 'payment-signature': TOKEN, 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'cold start' }) })
  await response.text()
  if (response.status !== 200) throw new Error(`workerd sample answered ${response.status}`)
}
const { samples: workerd } = await workerCold(join(ROOT, 'examples/cloudflare-worker'), backend, ask)
await backend.close()

console.log(`Cold start to the first gated answer (median of ${rounds}; instant loopback backend, verify + settle)`)
console.log('\nNode (fresh process):')
console.log(`  import nvm-x402/agent (its default entry)   ${col(node, 'import')}`)
console.log(`  Payments.getInstance (.wasm inflate + compile + instantiate) ${col(node, 'instance')}`)
console.log(`  payments.paywall(options)            ${col(node, 'paywall')}`)
console.log(`  first paid request                   ${col(node, 'first')}`)
console.log(`    of which the control: two plain fetches in a fresh process ${col(bare, 'trips')}`)
console.log(`  total to the first gated answer      ${col(node, 'total')}`)
console.log(`  a warm paid request, for comparison  ${col(node, 'warm')}`)
console.log('\nworkerd (fresh Miniflare, the Worker example as deployed; the paywall is built on the first request):')
console.log(`  workerd started, bundle loaded (.wasm compiled)  ${col(workerd, 'start')}`)
console.log(`  first paid request (paywall built, verify, settle) ${col(workerd, 'first')}`)
console.log(`  a warm paid request, for comparison               ${col(workerd, 'warm')}`)
