// The JS API's names are defined once, in the core's method table
// (src/bridge.rs, where each name and its dispatch are one line). These tests
// hold the facade to it — the Payments object core.js builds from the core's
// `methodNames()`, the package's exports, and the hand-written index.d.ts (a
// file generated from the table must compile). The table comes from
// `cargo run --example api-table`.
import test from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import * as runtime from 'nvm-x402'
import * as mppEntry from 'nvm-x402/mpp'
import { ROOT } from '../support/servers.mjs'
import { typecheck } from '../support/tsc.mjs'

const cargo = spawnSync('cargo', ['run', '--quiet', '--example', 'api-table'], { cwd: ROOT, encoding: 'utf8' })
if (cargo.status !== 0) throw new Error(`cargo run --example api-table failed:\n${cargo.stderr}`)
const table = JSON.parse(cargo.stdout)
const KEY = 'local:eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIweGFiYyJ9.c2ln'
const payments = new runtime.Payments({ nvmApiKey: KEY, backendUrl: 'http://127.0.0.1:9' })
// MPP is nvm-x402/mpp's (its core has the buyer and the codec; nvm-x402's payments.mpp answers
// not_in_entry): its methods and functions are held to that entry.
const mppPayments = new mppEntry.Payments({ nvmApiKey: KEY, backendUrl: 'http://127.0.0.1:9' })
const MPP_FUNCTIONS = ['parseChallengeHeader', 'buildCredentialHeader', 'parseReceiptHeader', 'extractPaymentScheme', 'extractCredentialChallengeId', 'normalizeCredits', 'isRetryableMppCode']
const SELLER = ['mpp.issueChallenge', 'mpp.verifyCredential', 'mpp.settleCredential']
const exporter = (name) => (MPP_FUNCTIONS.includes(name) ? mppEntry : runtime)

/** `plans.getPlan` -> payments.plans.getPlan; `resolveScheme` -> payments.resolveScheme. */
function member(name) {
  const [ns, fn] = name.includes('.') ? name.split('.') : [null, name]
  return ns === null ? payments[fn] : payments[ns]?.[fn]
}

test('the table names a real API: async methods in namespaces, exported functions', () => {
  assert.ok(table.methods.length >= 20, `only ${table.methods.length} methods`)
  assert.ok(table.functions.length >= 15, `only ${table.functions.length} functions`)
  assert.ok(table.methods.includes('x402.getX402AccessToken'))
  assert.ok(table.functions.includes('decodeAccessToken'))
  assert.ok(table.internal.includes('redact'))
})

test('every method in the table is on a Payments instance, and nothing else is in its namespaces', () => {
  for (const name of table.methods) assert.equal(typeof member(name), 'function', name)
  const helpers = table.functions.filter((f) => /^get\w+Config$/.test(f))
  const namespaces = new Set(table.methods.filter((m) => m.includes('.')).map((m) => m.split('.')[0]))
  for (const ns of namespaces) {
    assert.ok(Object.isFrozen(payments[ns]), `${ns} is frozen`)
    for (const [fn, value] of Object.entries(payments[ns])) {
      // (payments.mpp.fetch is the facade's paying loop, as payments.fetch)
      const known = table.methods.includes(`${ns}.${fn}`) || (ns === 'plans' && helpers.includes(fn)) || (ns === 'mpp' && fn === 'fetch')
      assert.ok(known, `payments.${ns}.${fn} is not in the core's table`)
      assert.equal(typeof value, 'function', `${ns}.${fn}`)
    }
  }
  // The plans namespace carries every price/credits helper, the same function the package exports,
  // but where the official's namespace has a method of that name (getPayAsYouGoPriceConfig: async,
  // the template read from the deployment).
  for (const fn of helpers) {
    if (table.methods.includes(`plans.${fn}`)) assert.notEqual(payments.plans[fn], runtime[fn], fn)
    else assert.equal(payments.plans[fn], runtime[fn], fn)
  }
  assert.ok(table.methods.includes('plans.getPayAsYouGoPriceConfig'))
  // The internal step is not part of the API.
  assert.equal(payments.client, undefined)
})

test('a method from the table reaches the core with its own name', async () => {
  // No backend listens on port 9: the call fails as the network error of that one method.
  await assert.rejects(payments.plans.getPlan(''), (e) => e instanceof runtime.PaymentsError && e.code === 'validation' && /plans\.getPlan: planId/.test(e.message))
  await assert.rejects(payments.agents.getAgent(''), (e) => e.code === 'validation' && /agents\.getAgent: agentId/.test(e.message))
})

test('every function in the table is exported by the package', () => {
  for (const name of table.functions) assert.equal(typeof exporter(name)[name], 'function', name)
  for (const name of MPP_FUNCTIONS) assert.equal(runtime[name], undefined, `${name} is nvm-x402/mpp's`)
  assert.equal(typeof mppPayments.mpp.fetch, 'function')
  for (const name of table.internal) assert.equal(runtime[name.split('.').pop()], undefined, name)
})

test('index.d.ts declares every method and function in the table (a generated file type-checks)', () => {
  const lines = [
    "import * as nvm from 'nvm-x402'",
    "import * as mpp from 'nvm-x402/mpp'",
    "import * as express from 'nvm-x402/express'",
    'declare const p: nvm.Payments',
    'declare const q: mpp.Payments',
    'declare const x: express.Payments',
    'type Async = (...args: never[]) => Promise<unknown>',
    'type Sync = (...args: never[]) => unknown',
    // MPP's buyer calls are nvm-x402/mpp's, the seller's nvm-x402/express's.
    ...table.methods.map((m, i) => `const m${i}: Async = ${SELLER.includes(m) ? 'x' : m.startsWith('mpp.') ? 'q' : 'p'}.${m}`),
    ...table.functions.map((f, i) => `const f${i}: Sync = ${MPP_FUNCTIONS.includes(f) ? 'mpp' : 'nvm'}.${f}`),
    `export const all = [${table.methods.map((_, i) => `m${i}`).concat(table.functions.map((_, i) => `f${i}`)).join(', ')}]`,
  ]
  const { status, output } = typecheck({ 'table.ts': lines.join('\n') + '\n' })
  assert.equal(status, 0, `index.d.ts lacks a name from the table:\n${output}`)
})

test('PaymentsErrorCode is exactly the codes thrown: the core\'s (src/error.rs CODES), the JavaScript files\', http_<status> and the backend\'s BCK.*', async () => {
  const { readdirSync, readFileSync } = await import('node:fs')
  const { join } = await import('node:path')
  assert.ok(table.errorCodes.includes('validation') && table.errorCodes.includes('plan_not_allowed'), table.errorCodes.join(' '))
  // The codes the package's own JavaScript gives a PaymentsError.
  const dir = join(ROOT, 'pkg-template')
  const jsCodes = new Set()
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.js'))) {
    const text = readFileSync(join(dir, file), 'utf8')
    for (const m of text.matchAll(/new PaymentsError\(\{\s*code: '([a-z_]+)'/g)) jsCodes.add(m[1])
  }
  assert.ok(jsCodes.has('wasm_load_failed') && jsCodes.has('not_ready'), [...jsCodes].join(' '))
  const codes = [...new Set([...table.errorCodes, ...jsCodes])].map((c) => `'${c}'`)
  const expected = [...codes, '`http_${number}`', '`BCK.${string}`'].join(' | ')
  const lines = [
    "import type { PaymentsError, PaymentsErrorCode } from 'nvm-x402'",
    'type Exactly<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false',
    `export const same: Exactly<PaymentsErrorCode, ${expected}> = true`,
    'declare const e: PaymentsError',
    // Backend codes and statuses still type-check; a misspelt code does not.
    "export const backend = e.code === 'BCK.X402.0013' || e.code === 'http_404' || e.code === 'plan_not_allowed'",
    '// @ts-expect-error a typo is not a PaymentsErrorCode',
    "export const typo = e.code === 'plan_not_alowed'",
  ]
  const { status, output } = typecheck({ 'codes.ts': lines.join('\n') + '\n' })
  assert.equal(status, 0, `PaymentsErrorCode (pkg-template/common.d.ts) is not the set of codes thrown, ${expected}:\n${output}`)
})
