// The paid MCP Worker on the MCP SDK's two lines, side by side (#22): the v2
// example (examples/mcp-worker, @modelcontextprotocol/server under
// createMcpHandler) and the same server on v1 (tests/js/workerd/mcp-v1-worker,
// @modelcontextprotocol/sdk McpServer over the Web-standard transport).
//   bytes: each deployable bundle (wrangler deploy --dry-run), raw and gzipped,
//          the script and the .wasm apart (the .wasm is the same in both);
//   cold:  a fresh Miniflare per sample: workerd started with the bundle, the
//          first paid tools/call (paywall built, plan looked up, verify, settle),
//          then a warm one; instant loopback backend.
// Medians of `--rounds N` samples (default 7). Not a test (timings are noisy):
//   scripts/build.sh && node bench/mcp-cold.mjs [--rounds N]
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

/** A stateless paid `tools/call` of `echo`, as a 2025-11-25 client sends it (both servers serve it without initialize). */
const call = (text) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25' },
  body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text }, _meta: { 'x402/payment': PAYMENT } } }),
})

const LINES = [
  ['v2 (@modelcontextprotocol/server 2.4, createMcpHandler)', join(ROOT, 'examples/mcp-worker')],
  ['v1 (@modelcontextprotocol/sdk 1.32, McpServer)', join(ROOT, 'tests/js/workerd/mcp-v1-worker')],
]
const results = []
for (const [name, dir] of LINES) {
  const out = await mkdtemp(join(tmpdir(), 'nvm-mcp-cold-'))
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
      bindings: { NVM_API_KEY: offlineKey(), NVM_AGENT_ID: 'a', NVM_PLAN_ID: PLAN, NVM_BACKEND_URL: backend.url },
    })
    await mf.ready
    const t1 = performance.now()
    const ask = async (text) => {
      const response = await mf.dispatchFetch('http://127.0.0.1:8788/mcp', call(text))
      const body = await response.text()
      if (response.status !== 200 || !body.includes(`"text":"${text}"`) || body.includes('"isError":true')) throw new Error(`${name}: the paid call answered ${response.status} ${body.slice(0, 200)}`)
    }
    await ask('cold')
    const t2 = performance.now()
    await ask('warm')
    const t3 = performance.now()
    samples.push({ start: t1 - t0, first: t2 - t1, warm: t3 - t2 })
    await mf.dispose()
  }
  await rm(out, { recursive: true, force: true })
  results.push({ name, bytes, samples })
}
await backend.close()

const kib = (n) => `${(n / 1024).toFixed(1)} KiB`.padStart(11)
const ms = (x) => `${x.toFixed(1)} ms`.padStart(10)
const col = (samples, key) => ms(median(samples.map((s) => s[key])))
console.log(`The paid MCP Worker, v2 vs v1 of the MCP SDK (median of ${rounds}; instant loopback backend)\n`)
console.log(`${'line'.padEnd(58)} ${'script'.padStart(11)} ${'gz'.padStart(11)} ${'.wasm gz'.padStart(11)}  ${'start'.padStart(10)} ${'1st paid'.padStart(10)} ${'warm'.padStart(10)}`)
for (const { name, bytes, samples } of results) {
  console.log(`${name.padEnd(58)} ${kib(bytes.script.raw)} ${kib(bytes.script.gz)} ${kib(bytes.wasm.gz)}  ${col(samples, 'start')} ${col(samples, 'first')} ${col(samples, 'warm')}`)
}
const [v2, v1] = results
const ratio = (key) => (median(v2.samples.map((s) => s[key])) / median(v1.samples.map((s) => s[key]))).toFixed(2)
console.log(`\nv2 / v1: script gz ${(v2.bytes.script.gz / v1.bytes.script.gz).toFixed(2)}, start ${ratio('start')}, first paid ${ratio('first')}, warm ${ratio('warm')}`)
