// Each entry's declarations (index.d.ts, agent.d.ts, mcp.d.ts, a2a.d.ts, a2a-client.d.ts, mpp.d.ts, express.d.ts over the shared
// common.d.ts) hold exactly what works in that entry: a call its core lacks,
// which answers PaymentsError `not_in_entry` at run time, is a compile error
// (TS2339), and every call that works type-checks. What works is found by
// asking each entry's Payments at run time; the injected `fetch` is typed as
// what the client really calls it with.
import test from 'node:test'
import assert from 'node:assert/strict'
import * as client from 'nvm-x402'
import * as agent from 'nvm-x402/agent'
import * as mcp from 'nvm-x402/mcp'
import * as a2a from 'nvm-x402/a2a'
import * as a2aClient from 'nvm-x402/a2a-client'
import * as mpp from 'nvm-x402/mpp'
import * as express from 'nvm-x402/express'
import { KEY } from '../support/nvm.mjs'
import { typecheck } from '../support/tsc.mjs'

const ENTRIES = { 'nvm-x402': client, 'nvm-x402/agent': agent, 'nvm-x402/mcp': mcp, 'nvm-x402/a2a': a2a, 'nvm-x402/a2a-client': a2aClient, 'nvm-x402/mpp': mpp, 'nvm-x402/express': express }
// Nothing listens on port 9: a call that reaches the network fails at once, and none is sent anywhere.
const OPTIONS = { nvmApiKey: KEY, backendUrl: 'http://127.0.0.1:9' }

/** Every function member of a Payments instance, as a path: `plans.getPlan`, `fetch`, `paywall`. */
function members(payments) {
  const paths = Object.getOwnPropertyNames(Object.getPrototypeOf(payments)).filter((name) => name !== 'constructor')
  for (const [name, value] of Object.entries(payments)) {
    if (typeof value === 'function') paths.push(name)
    else if (value !== null && typeof value === 'object') paths.push(...Object.keys(value).filter((fn) => typeof value[fn] === 'function').map((fn) => `${name}.${fn}`))
  }
  return paths.sort()
}

// Arguments that get a call past its own checks to the core (the others are called with none).
const ARGS = {
  fetch: ['http://127.0.0.1:9/tasks', {}, { planIds: ['1'] }],
  queryAgent: [{ agentUrl: 'http://127.0.0.1:9/tasks', prompt: 'hi', planId: '1' }],
  'mcp.callTool': [{ url: 'http://127.0.0.1:9/mcp', name: 'echo', planId: '1' }],
  'a2a.getClient': [{ agentBaseUrl: 'http://127.0.0.1:9/', planId: '1' }],
  'mpp.fetch': ['http://127.0.0.1:9/tasks', {}, { delegationConfig: { delegationId: 'd' } }],
}

/** Whether calling `path` answers `not_in_entry`, thrown or rejected, or the entry has no such member. */
async function lacks(m, path) {
  const payments = m.Payments.getInstance(OPTIONS)
  const [ns, fn] = path.includes('.') ? path.split('.') : [null, path]
  const target = ns === null ? payments : payments[ns]
  // Not there at all (an entry without payments.a2a): not declared either.
  if (typeof target?.[fn] !== 'function') return true
  try {
    await target[fn](...(ARGS[path] ?? []))
  } catch (error) {
    return error?.code === 'not_in_entry'
  }
  return false
}

/** Compiles each snippet as its own module, in one run: the error codes of each (none: it type-checks). */
function codes(snippets) {
  const { errors } = typecheck(Object.fromEntries(snippets.map((code, i) => [`snippet${i}.ts`, code])))
  return snippets.map((_, i) => errors.filter((e) => e.file === `snippet${i}.ts`).map((e) => e.code))
}

test("each entry's Payments declares exactly the calls that work there: the others are TS2339", async () => {
  const all = members(client.Payments.getInstance(OPTIONS))
  for (const m of Object.values(ENTRIES)) all.push(...members(m.Payments.getInstance(OPTIONS)))
  const paths = [...new Set(all)].sort()
  assert.ok(paths.includes('paywall') && paths.includes('mcp.configure') && paths.includes('x402.getX402AccessToken'))
  const files = {}
  const expected = {}
  for (const [entry, m] of Object.entries(ENTRIES)) {
    const absent = new Set()
    for (const path of paths) if (await lacks(m, path)) absent.add(path)
    assert.ok(absent.size > 0, `${entry} lacks something`)
    const file = `${entry.replace('/', '-')}.ts`
    files[file] = [`import { Payments } from '${entry}'`, 'declare const payments: Payments', ...paths.map((path, i) => `export const m${i} = payments.${path}`)].join('\n') + '\n'
    expected[file] = { entry, absent }
  }
  const { errors, output } = typecheck(files)
  for (const [file, { entry, absent }] of Object.entries(expected)) {
    // Line 3 is the first path's.
    const failing = new Map(errors.filter((e) => e.file === file).map((e) => [paths[e.line - 3], e.code]))
    const declaredButAbsent = [...absent].filter((p) => !failing.has(p))
    const workingButUndeclared = paths.filter((p) => !absent.has(p) && failing.has(p))
    assert.deepEqual(declaredButAbsent, [], `${entry}: declared, but not_in_entry at run time`)
    assert.deepEqual(workingButUndeclared, [], `${entry}: works at run time, but does not type-check:\n${output}`)
    // TS2551 is TS2339 with a suggestion (plans.getPayAsYouGoPriceConfig: "did you mean getPayAsYouGoCreditsConfig?").
    for (const path of absent) assert.ok(['TS2339', 'TS2551'].includes(failing.get(path)), `${entry}: ${path}: ${failing.get(path)}`)
  }
})

test('calls an entry lacks do not compile there, with the expected error, and do in their own entry', () => {
  const routes = "{ agentId: 'a', routes: { 'POST /tasks': { planId: '1' } } }"
  const cases = [
    // [the entry that has it, an entry that lacks it, the code, the error there]
    ['nvm-x402/agent', 'nvm-x402', `import { Payments } from '$entry'\nPayments.getInstance({ nvmApiKey: 'k' }).paywall(${routes})\n`, 'TS2339'],
    ['nvm-x402/mcp', 'nvm-x402/agent', "import { Payments } from '$entry'\nPayments.getInstance({ nvmApiKey: 'k' }).mcp.configure({ planId: '1' })\n", 'TS2339'],
    ['nvm-x402', 'nvm-x402/mcp', "import { Payments } from '$entry'\nvoid Payments.getInstance({ nvmApiKey: 'k' }).plans.orderPlan('1')\n", 'TS2339'],
    ['nvm-x402', 'nvm-x402/agent', "import { Payments } from '$entry'\nvoid Payments.getInstance({ nvmApiKey: 'k' }).mcp.callTool({ url: 'https://a.example/mcp', name: 'echo', planId: '1' })\n", 'TS2339'],
    ['nvm-x402', 'nvm-x402/agent', "import { Payments, fetchWithPayment } from '$entry'\nvoid fetchWithPayment('https://a.example/', {}, { payments: Payments.getInstance({ nvmApiKey: 'k' }), planIds: ['1'] })\n", 'TS2305'],
    // Hono's middleware takes the agent entry's client.
    ['nvm-x402/agent', 'nvm-x402', `import { Payments } from '$entry'\nimport { paywall } from 'nvm-x402/hono'\npaywall(Payments.getInstance({ nvmApiKey: 'k' }), ${routes})\n`, 'TS2741'],
  ]
  const inOwn = codes(cases.map(([has, , code]) => code.replace('$entry', has)))
  const inOther = codes(cases.map(([, lacks, code]) => code.replace('$entry', lacks)))
  cases.forEach(([has, lacks, code, error], i) => {
    assert.deepEqual(inOwn[i], [], `${has}:\n${code}`)
    assert.deepEqual(inOther[i], [error], `${lacks}:\n${code}`)
  })
})

test('the injected fetch is typed as what the client calls it with: (url, init) for the backend, a Request for agents', () => {
  const withFetch = (fetch, prelude = '') => `import { Payments } from 'nvm-x402'\n${prelude}\nPayments.getInstance({ nvmApiKey: 'k', fetch: ${fetch} })\n`
  // A Cloudflare service binding (@cloudflare/workers-types' Fetcher).
  const binding = 'interface Fetcher { fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> }\ndeclare const env: { SERVICE: Fetcher }'
  const accepted = [
    withFetch('globalThis.fetch'),
    withFetch('fetch'),
    withFetch('(input: Request | string, init?: RequestInit) => globalThis.fetch(input, init)'),
    withFetch('async (input, init) => new Response(typeof input === "string" ? input : input.url, { status: init?.method === "POST" ? 201 : 200 })'),
    withFetch('(input, init) => env.SERVICE.fetch(input, init)', binding),
    withFetch('env.SERVICE.fetch.bind(env.SERVICE)', binding),
  ]
  codes(accepted).forEach((found, i) => assert.deepEqual(found, [], accepted[i]))
  const rejected = [
    // Takes only a number.
    withFetch('(n: number) => globalThis.fetch(String(n))'),
    // Takes only a URL string: agents are called with a Request.
    withFetch('(url: string) => globalThis.fetch(url)'),
    // Answers less than a Response: an agent's answer is read as one and handed back.
    withFetch('async (input: Request | string) => ({ status: 200, text: async () => String(input) })'),
  ]
  codes(rejected).forEach((found, i) => assert.deepEqual(found, ['TS2322'], rejected[i]))
})
