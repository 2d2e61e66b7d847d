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
import { join } from 'node:path'
import { ROOT } from '../tests/js/support/servers.mjs'
import { PAYMENT, col, instantBackend, kib, median, rounds, workerCold } from './support/worker-cold.mjs'

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
const backend = await instantBackend()
const results = []
for (const [name, dir] of LINES) {
  const ask = async (mf, text) => {
    const response = await mf.dispatchFetch('http://127.0.0.1:8788/mcp', call(text))
    const body = await response.text()
    if (response.status !== 200 || !body.includes(`"text":"${text}"`) || body.includes('"isError":true')) throw new Error(`${name}: the paid call answered ${response.status} ${body.slice(0, 200)}`)
  }
  results.push({ name, ...(await workerCold(dir, backend, ask)) })
}
await backend.close()

console.log(`The paid MCP Worker, v2 vs v1 of the MCP SDK (median of ${rounds}; instant loopback backend)\n`)
console.log(`${'line'.padEnd(58)} ${'script'.padStart(11)} ${'gz'.padStart(11)} ${'.wasm gz'.padStart(11)}  ${'start'.padStart(10)} ${'1st paid'.padStart(10)} ${'warm'.padStart(10)}`)
for (const { name, bytes, samples } of results) {
  console.log(`${name.padEnd(58)} ${kib(bytes.script.raw)} ${kib(bytes.script.gz)} ${kib(bytes.wasm.gz)}  ${col(samples, 'start')} ${col(samples, 'first')} ${col(samples, 'warm')}`)
}
const [v2, v1] = results
const ratio = (key) => (median(v2.samples.map((s) => s[key])) / median(v1.samples.map((s) => s[key]))).toFixed(2)
console.log(`\nv2 / v1: script gz ${(v2.bytes.script.gz / v1.bytes.script.gz).toFixed(2)}, start ${ratio('start')}, first paid ${ratio('first')}, warm ${ratio('warm')}`)
