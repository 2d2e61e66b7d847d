// How the package loads its WebAssembly core (issue #11): nothing at import,
// the core on first use (or on `await ready()`), a load failure as a
// PaymentsError from the first call (never at import), `require()` through
// the CommonJS entry, and the asset entry's explicit `ready()`. Each case runs
// in a fresh Node process, so module state starts empty.
import test from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { ROOT } from '../support/servers.mjs'

/** Runs `source` as a module (`.mjs`) or script (`.cjs`) inside the repository (so `nvm-x402` resolves); returns its JSON output. */
async function runIn(extension, source) {
  const dir = await mkdtemp(join(ROOT, 'target', 'loading-'))
  try {
    const file = join(dir, `case${extension}`)
    await writeFile(file, source)
    const { stdout } = await promisify(execFile)(process.execPath, [file], { cwd: ROOT })
    return JSON.parse(stdout)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** Counts the package's WebAssembly compilations (sync and async) from here on: instantiating a
 * compiled Module is not one, nor is Node compiling its own (undici's llhttp). */
const COUNT = `
let count = 0
const ours = () => /nvm_x402|loader\\.js/.test(new Error().stack)
Object.defineProperty(globalThis, 'compiled', { get: () => count })
const { Module, compile, instantiate } = WebAssembly
function Counted(...args) { if (ours()) count++; return new Module(...args) }
Counted.prototype = Module.prototype
WebAssembly.Module = Counted
WebAssembly.compile = (...args) => { if (ours()) count++; return compile(...args) }
WebAssembly.instantiate = (source, ...rest) => { if (!(source instanceof Module) && ours()) count++; return instantiate(source, ...rest) }
`

test('importing the package, a constant or the error class compiles nothing; the first call does, once', async () => {
  const out = await runIn('.mjs', `${COUNT}
const { ONE_DAY_DURATION, PaymentsError, decodeAccessToken, encodeAccessToken } = await import('nvm-x402')
const afterImport = compiled
const constant = String(ONE_DAY_DURATION), isClass = typeof PaymentsError
const decoded = decodeAccessToken(encodeAccessToken({ a: 1 }))
const afterFirst = compiled
decodeAccessToken('e30')
console.log(JSON.stringify({ afterImport, constant, isClass, decoded, afterFirst, afterSecond: compiled }))`)
  assert.deepEqual(out, { afterImport: 0, constant: '86400', isClass: 'function', decoded: { a: 1 }, afterFirst: 1, afterSecond: 1 })
})

test('await ready() loads the core ahead of time (asynchronously) and is idempotent', async () => {
  const out = await runIn('.mjs', `${COUNT}
const { ready, Payments } = await import('nvm-x402')
const pending = ready()
const isPromise = pending instanceof Promise
await pending
await ready()
const afterReady = compiled
const p = Payments.getInstance({ nvmApiKey: 'local:eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIweGFiYyJ9.c2ln' })
console.log(JSON.stringify({ isPromise, afterReady, environment: p.environment, afterUse: compiled }))`)
  assert.deepEqual(out, { isPromise: true, afterReady: 1, environment: 'local', afterUse: 1 })
})

test('a core that cannot load is a PaymentsError from the first call (and from ready()), never an error at import', async () => {
  const out = await runIn('.mjs', `
// What a browser says under a Content-Security-Policy without 'wasm-unsafe-eval'.
function refuse() { throw new Error("WebAssembly.Module(): Refused to compile or instantiate WebAssembly module because 'wasm-unsafe-eval' is not an allowed source of script") }
refuse.prototype = WebAssembly.Module.prototype
WebAssembly.Module = refuse
WebAssembly.compile = async () => refuse()
WebAssembly.instantiate = async () => refuse()
const m = await import('nvm-x402')
const errors = []
for (const call of [() => m.decodeAccessToken('e30'), () => m.Payments.getInstance({ nvmApiKey: 'x' }), () => m.buildPaymentRequired('1')]) {
  try { call(); errors.push('no error') } catch (e) { errors.push({ isPaymentsError: e instanceof m.PaymentsError, code: e.code, hint: e.hint, cause: e.cause?.message }) }
}
const fromReady = await m.ready().then(() => 'resolved', (e) => e.code)
console.log(JSON.stringify({ imported: typeof m.Payments, errors, fromReady, constant: String(m.ONE_WEEK_DURATION) }))`)
  assert.equal(out.imported, 'function')
  assert.equal(out.errors.length, 3)
  for (const e of out.errors) {
    assert.equal(e.isPaymentsError, true)
    assert.equal(e.code, 'wasm_load_failed')
    assert.match(e.hint, /wasm-unsafe-eval/)
    assert.match(e.cause, /Refused to compile/)
  }
  assert.equal(out.fromReady, 'wasm_load_failed')
  assert.equal(out.constant, '604800', 'constants still work')
})

test("require('nvm-x402') works (a CommonJS entry, for every Node 20)", async () => {
  const out = await runIn('.cjs', `
const { Payments, PaymentsError, decodeAccessToken, encodePaymentHeader, ready } = require('nvm-x402')
const p = Payments.getInstance({ nvmApiKey: 'local:eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIweGFiYyJ9.c2ln' })
let code
try { Payments.getInstance({ nvmApiKey: 'nope' }) } catch (e) { code = e instanceof PaymentsError && e.code }
console.log(JSON.stringify({ decoded: decodeAccessToken('e30'), header: encodePaymentHeader({ a: 1 }), environment: p.environment, code, ready: typeof ready }))`)
  assert.deepEqual(out, { decoded: {}, header: 'eyJhIjoxfQ==', environment: 'local', code: 'validation', ready: 'function' })
})

test('the asset entry fetches the .wasm: a call before ready() says so; in Node, where fetch reads no file: URL, ready() fails as a PaymentsError', async () => {
  const out = await runIn('.mjs', `
const m = await import('nvm-x402/asset')
let early
try { m.decodeAccessToken('e30') } catch (e) { early = { code: e.code, message: e.message } }
const failed = await m.ready().then(() => 'resolved', (e) => e.code)
console.log(JSON.stringify({ early, failed }))`)
  assert.equal(out.early.code, 'not_ready')
  assert.match(out.early.message, /await ready\(\)/)
  assert.equal(out.failed, 'wasm_load_failed')
})

test('nvm-x402 and nvm-x402/asset in one realm share one core, and the default entry still loads on first use whichever was imported last', async () => {
  for (const order of [['nvm-x402', 'nvm-x402/asset'], ['nvm-x402/asset', 'nvm-x402']]) {
    const out = await runIn('.mjs', `${COUNT}
const first = await import(${JSON.stringify(order[0])})
const second = await import(${JSON.stringify(order[1])})
const universal = ${JSON.stringify(order[0])} === 'nvm-x402' ? first : second
const decoded = universal.decodeAccessToken('e30')
const viaAsset = (${JSON.stringify(order[0])} === 'nvm-x402' ? second : first).decodeAccessToken('e30')
console.log(JSON.stringify({ decoded, viaAsset, compiled }))`)
    assert.deepEqual(out, { decoded: {}, viaAsset: {}, compiled: 1 }, order.join(' then '))
  }
})

test("a failed ready() of nvm-x402/asset doesn't break nvm-x402 in the same realm, which loads its embedded core", async () => {
  const out = await runIn('.mjs', `${COUNT}
const asset = await import('nvm-x402/asset')
const failed = await asset.ready().then(() => 'resolved', (e) => e.code) // Node's fetch reads no file: URL
const universal = await import('nvm-x402')
const decoded = universal.decodeAccessToken('e30')
const afterwards = await asset.ready().then(() => 'resolved', (e) => e.code)
console.log(JSON.stringify({ failed, decoded, afterwards, viaAsset: asset.decodeAccessToken('e30'), compiled }))`)
  assert.deepEqual(out, { failed: 'wasm_load_failed', decoded: {}, afterwards: 'resolved', viaAsset: {}, compiled: 1 })
})
