// Random input through every entry point that takes a stranger's data, in the
// built package (a fixed seed, so a failure reproduces): the codecs never throw
// anything but a PaymentsError (the decoders nothing at all), the paywall
// always answers, and — the point in WebAssembly, where a Rust panic is a trap
// that leaves the instance broken — every later call still works.
import test from 'node:test'
import assert from 'node:assert/strict'
import { Payments, PaymentsError, buildPaymentRequired, decodeAccessToken, decodePaymentHeader, encodeAccessToken, encodePaymentHeader, redactToken, tryDecodeAccessToken } from 'nvm-x402'
import { Payments as AgentPayments } from 'nvm-x402/agent'
import { KEY } from '../support/nvm.mjs'

/** mulberry32: a small seeded PRNG. */
function prng(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const random = prng(0x402)
const int = (n) => Math.floor(random() * n)
const pick = (list) => list[int(list.length)]
const PIECES = ['e30', '{', '}', '"', '\\', '\ud800', '\udfff', '😀', 'é', '\u0000', '=', '==', '+', '/', '-', '_', ' ', '\n', 'eyJ', 'x402Version', 'accepts', '[', ']', ':', ',', '%', '0', '9', 'A'.repeat(int(300)), 'http://', '@', '..']
const text = () => Array.from({ length: int(12) }, () => pick(PIECES)).join('')
const b64 = (s) => Buffer.from(s).toString(pick(['base64', 'base64url']))
function value(depth = 0) {
  const leaves = [null, true, 0, -1, 1.5, 2 ** 53 + 1, NaN, text(), 10n ** 30n]
  if (depth > 3 || random() < 0.4) return pick(leaves)
  if (random() < 0.5) return Array.from({ length: int(4) }, () => value(depth + 1))
  return Object.fromEntries(Array.from({ length: int(4) }, () => [pick(['accepts', 'planId', 'x402Version', 'resource', text()]), value(depth + 1)]))
}
const json = (v) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x))
const stranger = () => pick([text, () => b64(text()), () => b64(json(value())), () => onlyPaymentsErrors(() => encodeAccessToken({ a: text() }), 'encodeAccessToken') ?? text(), value])()

/** Runs `fn`; only a PaymentsError may come out of it. */
function onlyPaymentsErrors(fn, what) {
  try {
    return fn()
  } catch (error) {
    assert.ok(error instanceof PaymentsError, `${what} threw ${error?.name}: ${error?.message}`)
    assert.equal(typeof error.code, 'string')
  }
}

test('codecs on 5,000 random inputs: decoders never throw, others only PaymentsError, and nothing breaks later calls', () => {
  let decoded = 0
  for (let i = 0; i < 5000; i++) {
    const input = stranger()
    const one = decodeAccessToken(input)
    assert.ok(one === null || typeof one === 'object')
    const why = tryDecodeAccessToken(input)
    assert.equal(typeof why.ok, 'boolean')
    if (why.ok) decoded++
    onlyPaymentsErrors(() => decodePaymentHeader(input), 'decodePaymentHeader')
    onlyPaymentsErrors(() => encodePaymentHeader(value()), 'encodePaymentHeader')
    onlyPaymentsErrors(() => encodeAccessToken(value()), 'encodeAccessToken')
    onlyPaymentsErrors(() => buildPaymentRequired(stranger(), { endpoint: stranger(), agentId: stranger(), httpVerb: stranger() }), 'buildPaymentRequired')
    assert.equal(typeof redactToken(typeof input === 'string' ? input : text()), 'string')
  }
  assert.ok(decoded > 100, `only ${decoded} inputs decoded`)
  assert.deepEqual(decodeAccessToken(encodeAccessToken({ ok: 1 })), { ok: 1 }, 'the instance still works')
})

test('Payments.getInstance on random options: a PaymentsError or a client, never anything else', () => {
  for (let i = 0; i < 1000; i++) {
    onlyPaymentsErrors(() => Payments.getInstance({ nvmApiKey: pick([KEY, stranger()]), backendUrl: pick([undefined, stranger(), `http://${text()}`]), environment: pick([undefined, stranger()]), timeoutMs: pick([undefined, value()]) }), 'getInstance')
  }
  assert.equal(Payments.getInstance({ nvmApiKey: KEY }).environment, 'local')
})

/** The reference: whether the route table above makes `method url` paid (path decoded, slashes collapsed, case folded). */
function isPaid(method, url) {
  let path
  try {
    path = new URL(url).pathname
  } catch {
    return true // not absolute: must never reach the handler
  }
  path = path.replace(/%([0-9a-f]{2})/gi, (_, h) => String.fromCharCode(parseInt(h, 16))).replace(/\\/g, '/')
  const segments = []
  for (const s of path.split('/')) {
    if (s === '..') segments.pop()
    else if (s !== '' && s !== '.') segments.push(s.toLowerCase())
  }
  const p = `/${segments.join('/')}`
  return (String(method).toUpperCase() === 'POST' && p === '/tasks') || p === '/files' || p.startsWith('/files/')
}

test('the paywall on 2,000 random requests always answers, and never runs the paid handler unpaid', async () => {
  // A backend that can't be reached: nothing may be paid for.
  const payments = AgentPayments.getInstance({ nvmApiKey: KEY, backendUrl: 'http://127.0.0.1:9', timeoutMs: 200 })
  const gate = payments.paywall({ agentId: '1', routes: { 'POST /tasks': { planId: '10', scheme: 'nvm:erc4337' }, '/files/*': { planId: '10', scheme: 'nvm:erc4337', credits: () => value() } } })
  const warn = console.warn
  const error = console.error
  console.warn = console.error = () => {}
  let paidRan = 0
  let paidAsked = 0
  try {
    for (let i = 0; i < 2000; i++) {
      const path = pick(['/tasks', '/TASKS', '//tasks/', '/%74asks', '/files/x', `/files/${text()}`, `/${text()}`])
      const headers = new Headers()
      for (const name of ['payment-signature', 'authorization', 'origin']) {
        const v = String(stranger()).replace(/[^\x20-\x7e]/g, '')
        if (random() < 0.6) headers.set(name, name === 'authorization' ? `Bearer ${v}` : v)
      }
      const url = random() < 0.9 ? `http://127.0.0.1:8787${encodeURI(path.toWellFormed())}` : text()
      const request = { url, method: pick(['POST', 'GET', 'HEAD', 'OPTIONS', text()]), headers }
      let ran = false
      const response = await gate.handle(request, () => {
        ran = true
        return new Response('paid content')
      })
      assert.ok(response instanceof Response)
      assert.ok([200, 402, 500, 503].includes(response.status), `${response.status} for ${request.method} ${url}`)
      if (isPaid(request.method, url)) paidAsked++
      if (ran && isPaid(request.method, url)) paidRan++
    }
  } finally {
    console.warn = warn
    console.error = error
  }
  assert.ok(paidAsked > 400, `only ${paidAsked} requests were for paid routes`)
  assert.equal(paidRan, 0, 'no paid handler ran without a settle')
  assert.deepEqual(decodeAccessToken('e30'), {}, 'the instance still works')
})
