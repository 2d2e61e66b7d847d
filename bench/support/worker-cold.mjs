// The cold start of a paid Worker, written once for the benches that measure one
// (bench/cold.mjs's workerd half, bench/mcp-cold.mjs, bench/a2a-cold.mjs): an
// instant loopback backend that accepts every payment, the Worker's deployable
// bundle (wrangler deploy --dry-run) and its bytes, and a fresh Miniflare per
// sample: workerd started with the bundle, a first paid request, a warm one.
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { gzipSync } from 'node:zlib'
import { Miniflare } from 'miniflare'
import { ROOT, WRANGLER_ENV, startRecorder } from '../../tests/js/support/servers.mjs'
import { SETTLE, VERIFY, offlineKey } from '../../tests/js/support/gate.mjs'

/** Samples per measurement: `--rounds N` (default 7). */
export const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1]) || 7
export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
export const ms = (x) => `${x.toFixed(1)} ms`.padStart(10)
export const kib = (n) => `${(n / 1024).toFixed(1)} KiB`.padStart(11)
/** The median of `key` over `samples`, as `ms` writes it. */
export const col = (samples, key) => ms(median(samples.map((s) => s[key])))

export const PLAN = '1234567890'
/** A payment for PLAN (decoded), which the instant backend accepts. */
export const PAYMENT = { x402Version: 2, accepted: { scheme: 'nvm:erc4337', network: 'eip155:84532', planId: PLAN, extra: { version: '1' } }, payload: { authorization: { from: '0xbb' } }, extensions: {} }

/** A recording backend that answers PLAN's lookup, verify and settle at once, always yes. Close it when done. */
export async function instantBackend() {
  const backend = await startRecorder()
  backend.respond('GET', `/api/v1/protocol/plans/${PLAN}`, { json: { id: PLAN, registry: { price: { isCrypto: true } } } })
  backend.respond('POST', VERIFY, { json: { isValid: true, agentRequestId: 'r' } })
  backend.respond('POST', SETTLE, (call) => ({ json: { success: true, transaction: '0x01', network: 'eip155:84532', creditsRedeemed: call.json.maxAmount, remainingBalance: '1000' } }))
  return backend
}

/**
 * The Worker in `dir` (its wrangler.toml) as deployed, against `backend`:
 * `bytes` of its bundle (`script` and `wasm`, each `{raw, gz}`, gzip -9) and
 * `rounds` samples of a fresh Miniflare, each `{start, first, warm}` in ms:
 * workerd started with the bundle (the .wasm compiled), then `ask(mf, 'cold')`
 * and `ask(mf, 'warm')`, which send one paid request each and throw unless it
 * was answered as paid. `options`: more Miniflare options (Durable Objects).
 * The Worker's env: NVM_API_KEY, NVM_AGENT_ID, NVM_PLAN_ID (PLAN), NVM_BACKEND_URL.
 */
export async function workerCold(dir, backend, ask, options = {}) {
  const out = await mkdtemp(join(tmpdir(), 'nvm-worker-cold-'))
  try {
    await promisify(execFile)(join(ROOT, 'node_modules/.bin/wrangler'), ['deploy', '--dry-run', '--outdir', out], { cwd: dir, env: { ...process.env, ...WRANGLER_ENV } })
    const files = await readdir(out)
    const main = files.find((f) => f.endsWith('.js'))
    const size = async (file) => {
      const bytes = await readFile(join(out, file))
      return { raw: bytes.length, gz: gzipSync(bytes, { level: 9 }).length }
    }
    const bytes = { script: await size(main), wasm: await size(files.find((f) => f.endsWith('.wasm'))) }
    const samples = []
    for (let i = 0; i < rounds; i++) {
      const t0 = performance.now()
      const mf = new Miniflare({
        modules: true,
        scriptPath: join(out, main),
        modulesRoot: out,
        modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }],
        compatibilityDate: '2025-01-01',
        bindings: { NVM_API_KEY: offlineKey(), NVM_AGENT_ID: 'a', NVM_PLAN_ID: PLAN, NVM_BACKEND_URL: backend.url },
        ...options,
      })
      try {
        await mf.ready
        const t1 = performance.now()
        await ask(mf, 'cold')
        const t2 = performance.now()
        await ask(mf, 'warm')
        const t3 = performance.now()
        samples.push({ start: t1 - t0, first: t2 - t1, warm: t3 - t2 })
      } finally {
        await mf.dispose()
      }
    }
    return { bytes, samples }
  } finally {
    await rm(out, { recursive: true, force: true })
  }
}
