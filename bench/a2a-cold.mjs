// The paid A2A Worker (examples/a2a-worker, #25):
//   bytes: its deployable bundle (wrangler deploy --dry-run), raw and gzipped,
//          the script and the .wasm apart;
//   cold:  a fresh Miniflare per sample (its task store Durable Object
//          included): workerd started with the bundle, the first paid
//          message/send (paywall built, plan looked up, verify, task kept in
//          the Durable Object, executor, settle), then a warm one; instant
//          loopback backend.
// Medians of `--rounds N` samples (default 7). Not a test (timings are noisy):
//   scripts/build.sh && node bench/a2a-cold.mjs [--rounds N]
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { gzipSync } from 'node:zlib'
import { Miniflare } from 'miniflare'
import { ROOT, WRANGLER_ENV, startRecorder } from '../tests/js/support/servers.mjs'
import { SETTLE, VERIFY, offlineKey } from '../tests/js/support/gate.mjs'

const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1]) || 7
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const run = promisify(execFile)

const PLAN = '1234567890'
const PAYMENT = { x402Version: 2, accepted: { scheme: 'nvm:erc4337', network: 'eip155:84532', planId: PLAN, extra: { version: '1' } }, payload: { authorization: { from: '0xbb' } }, extensions: {} }

const backend = await startRecorder()
backend.respond('GET', `/api/v1/protocol/plans/${PLAN}`, { json: { id: PLAN, registry: { price: { isCrypto: true } } } })
backend.respond('POST', VERIFY, { json: { isValid: true, agentRequestId: 'r' } })
backend.respond('POST', SETTLE, (call) => ({ json: { success: true, transaction: '0x01', network: 'eip155:84532', creditsRedeemed: call.json.maxAmount, remainingBalance: '1000' } }))

/** A paid message/send with the payment in band (a new task). */
const send = (text) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'message/send', params: { message: { kind: 'message', messageId: crypto.randomUUID(), role: 'user', parts: [{ kind: 'text', text }], metadata: { 'x402.payment.status': 'payment-submitted', 'x402.payment.payload': PAYMENT } } } }),
})

const dir = join(ROOT, 'examples/a2a-worker')
const out = await mkdtemp(join(tmpdir(), 'nvm-a2a-cold-'))
await run(join(ROOT, 'node_modules/.bin/wrangler'), ['deploy', '--dry-run', '--outdir', out], { cwd: dir, env: { ...process.env, ...WRANGLER_ENV } })
const files = await readdir(out)
const main = files.find((f) => f.endsWith('.js'))
const wasm = files.find((f) => f.endsWith('.wasm'))
const size = async (file) => {
  const bytes = await readFile(join(out, file))
  return { raw: bytes.length, gz: gzipSync(bytes, { level: 9 }).length }
}
const bytes = { script: await size(main), wasm: await size(wasm) }
const samples = []
for (let i = 0; i < rounds; i++) {
  const t0 = performance.now()
  const mf = new Miniflare({
    modules: true,
    scriptPath: join(out, main),
    modulesRoot: out,
    modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }],
    compatibilityDate: '2025-01-01',
    durableObjects: { A2A_TASKS: { className: 'A2ATaskStore', useSQLite: true } },
    bindings: { NVM_API_KEY: offlineKey(), NVM_AGENT_ID: 'a', NVM_PLAN_ID: PLAN, NVM_BACKEND_URL: backend.url },
  })
  await mf.ready
  const t1 = performance.now()
  const ask = async (text) => {
    const response = await mf.dispatchFetch('http://127.0.0.1:8789/a2a', send(text))
    const body = await response.text()
    if (response.status !== 200 || !body.includes('payment-completed') || !body.includes(`"text":"${text}"`)) throw new Error(`the paid message answered ${response.status} ${body.slice(0, 300)}`)
  }
  await ask('cold')
  const t2 = performance.now()
  await ask('warm')
  const t3 = performance.now()
  samples.push({ start: t1 - t0, first: t2 - t1, warm: t3 - t2 })
  await mf.dispose()
}
await rm(out, { recursive: true, force: true })
await backend.close()

const kib = (n) => `${(n / 1024).toFixed(1)} KiB`.padStart(11)
const ms = (x) => `${x.toFixed(1)} ms`.padStart(10)
const col = (key) => ms(median(samples.map((s) => s[key])))
console.log(`The paid A2A Worker (median of ${rounds}; instant loopback backend)\n`)
console.log(`${'script'.padStart(11)} ${'gz'.padStart(11)} ${'.wasm'.padStart(11)} ${'.wasm gz'.padStart(11)}  ${'start'.padStart(10)} ${'1st paid'.padStart(10)} ${'warm'.padStart(10)}`)
console.log(`${kib(bytes.script.raw)} ${kib(bytes.script.gz)} ${kib(bytes.wasm.raw)} ${kib(bytes.wasm.gz)}  ${col('start')} ${col('first')} ${col('warm')}`)
