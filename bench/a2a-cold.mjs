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
import { join } from 'node:path'
import { ROOT } from '../tests/js/support/servers.mjs'
import { PAYMENT, col, instantBackend, kib, rounds, workerCold } from './support/worker-cold.mjs'

/** A paid message/send with the payment in band (a new task). */
const send = (text) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'message/send', params: { message: { kind: 'message', messageId: crypto.randomUUID(), role: 'user', parts: [{ kind: 'text', text }], metadata: { 'x402.payment.status': 'payment-submitted', 'x402.payment.payload': PAYMENT } } } }),
})
const ask = async (mf, text) => {
  const response = await mf.dispatchFetch('http://127.0.0.1:8789/a2a', send(text))
  const body = await response.text()
  if (response.status !== 200 || !body.includes('payment-completed') || !body.includes(`"text":"${text}"`)) throw new Error(`the paid message answered ${response.status} ${body.slice(0, 300)}`)
}

const backend = await instantBackend()
const { bytes, samples } = await workerCold(join(ROOT, 'examples/a2a-worker'), backend, ask, { durableObjects: { A2A_TASKS: { className: 'A2ATaskStore', useSQLite: true } } })
await backend.close()

console.log(`The paid A2A Worker (median of ${rounds}; instant loopback backend)\n`)
console.log(`${'script'.padStart(11)} ${'gz'.padStart(11)} ${'.wasm'.padStart(11)} ${'.wasm gz'.padStart(11)}  ${'start'.padStart(10)} ${'1st paid'.padStart(10)} ${'warm'.padStart(10)}`)
console.log(`${kib(bytes.script.raw)} ${kib(bytes.script.gz)} ${kib(bytes.wasm.raw)} ${kib(bytes.wasm.gz)}  ${col(samples, 'start')} ${col(samples, 'first')} ${col(samples, 'warm')}`)
