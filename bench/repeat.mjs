// Repeat payers (#14, item 2): the latency a paid request costs in-process in
// Node with and without `repeatPayers`, against a loopback backend that takes
// `--delay` ms per call (a stand-in for the hosted backend's round trip).
// Not a test: run it on demand (after scripts/build.sh):
//   node bench/repeat.mjs [--requests N] [--delay MS]
import { parseArgs } from 'node:util'
import { Payments, encodeAccessToken } from 'nvm-x402/agent'
import { startRecorder } from '../tests/js/support/servers.mjs'
import { SETTLE, VERIFY, offlineKey } from '../tests/js/support/gate.mjs'

const { values: opts } = parseArgs({ options: { requests: { type: 'string', default: '200' }, delay: { type: 'string', default: '20' } } })
const REQUESTS = Number(opts.requests)
const DELAY = Number(opts.delay)

const backend = await startRecorder()
backend.respond('POST', VERIFY, { delayMs: DELAY, json: { isValid: true, agentRequestId: 'r' } })
backend.respond('POST', SETTLE, (call) => ({ delayMs: DELAY, json: { success: true, transaction: '0x01', network: 'eip155:84532', creditsRedeemed: call.json.maxAmount, remainingBalance: '1000000000' } }))
const token = encodeAccessToken({ x402Version: 2, accepted: { scheme: 'nvm:erc4337', network: 'eip155:84532', planId: '1', extra: { version: '1' } }, payload: { authorization: { from: '0xbb' } } })
const payments = Payments.getInstance({ nvmApiKey: offlineKey(), backendUrl: backend.url })
const route = { 'POST /tasks': { planId: '1', scheme: 'nvm:erc4337', credits: 1 } }

async function measure(options) {
  const gate = payments.paywall({ agentId: 'a', routes: route, ...options })
  const handler = () => new Response('ok')
  const request = () => new Request('http://127.0.0.1:8787/tasks', { method: 'POST', headers: { 'payment-signature': token } })
  await (await gate.handle(request(), handler)).text() // the first request verifies either way
  backend.requests.length = 0
  const times = []
  for (let i = 0; i < REQUESTS; i++) {
    const start = performance.now()
    const response = await gate.handle(request(), handler)
    await response.text()
    if (response.status !== 200) throw new Error(`status ${response.status}`)
    times.push(performance.now() - start)
  }
  times.sort((a, b) => a - b)
  return { median: times[times.length >> 1], p90: times[Math.floor(times.length * 0.9)], calls: backend.requests.length / REQUESTS }
}

const plain = await measure({})
const repeat = await measure({ repeatPayers: true })
console.log(`backend delay ${DELAY} ms, ${REQUESTS} repeat requests with one v2 token (after its first)`)
console.log('mode               median ms   p90 ms   backend calls/request')
for (const [name, r] of [['verify + settle', plain], ['repeatPayers', repeat]]) {
  console.log(`${name.padEnd(18)} ${r.median.toFixed(1).padStart(9)} ${r.p90.toFixed(1).padStart(8)} ${r.calls.toFixed(2).padStart(12)}`)
}
console.log(`saved per request: ${(plain.median - repeat.median).toFixed(1)} ms (median), ratio ${(repeat.median / plain.median).toFixed(2)}`)
await backend.close()
