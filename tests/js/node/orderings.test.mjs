// Issue #20, item 1: one core per entry per realm, whatever the order of
// `ready()`, synchronous first use and concurrent `ready()` calls. A
// fire-and-forget `ready()` followed by building objects before it settled used
// to install a second WebAssembly core under objects made by the first: paywalls
// served paid routes unpaid, clients acted with another client's key, MCP servers
// offered another server's plan. Every ordering of tests/js/support/orderings.js
// runs in a fresh realm (a process) per entry and module system, in Node, Deno
// and Bun; tests/js/browser/orderings.test.mjs runs them in Chromium.
import test from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { ROOT } from '../support/servers.mjs'
import { ORDERINGS } from '../support/orderings.js'
import { assertKeptApart } from '../support/orderings-check.mjs'
import { runtimeBinary } from '../support/runtimes.mjs'

const HARNESS = pathToFileURL(join(ROOT, 'tests/js/support/orderings.js')).href
const pkg = (path) => pathToFileURL(join(ROOT, 'pkg', path)).href

/** The entries, each as a module system loads it: [label, kind, the case's source for an ordering]. */
const ENTRIES = [
  ['nvm-x402', 'client', 'index.js'],
  ['nvm-x402/agent', 'agent', 'agent/index.js'],
  ['nvm-x402/mcp', 'mcp', 'mcp/index.js'],
]

const esmCase = (file, kind, ordering) =>
  `import * as entry from ${JSON.stringify(pkg(file))}\nimport { runOrdering } from ${JSON.stringify(HARNESS)}\nconsole.log(JSON.stringify(await runOrdering(entry, ${JSON.stringify(kind)}, ${JSON.stringify(ordering)})))\n`

// require('nvm-x402'): the CommonJS bundle has a loader of its own.
const cjsCase = (ordering) =>
  `const entry = require(${JSON.stringify(join(ROOT, 'pkg/index.cjs'))})\nimport(${JSON.stringify(HARNESS)}).then(async ({ runOrdering }) => console.log(JSON.stringify(await runOrdering(entry, 'client', ${JSON.stringify(ordering)}))))\n`

/** Runs one case file with `command` in a fresh process; its report. */
async function runCase(dir, name, source, command, args = []) {
  const file = join(dir, name)
  await writeFile(file, source)
  const { stdout } = await promisify(execFile)(command, [...args, file], { cwd: ROOT, timeout: 60_000 })
  return JSON.parse(stdout.trim().split('\n').at(-1))
}

async function scratch(t) {
  const dir = await mkdtemp(join(ROOT, 'target', 'orderings-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  return dir
}

for (const [label, kind, file] of ENTRIES) {
  test(`Node, ${label} (ES module): every loading ordering keeps one core, and each object its own key, plan and routes`, async (t) => {
    const dir = await scratch(t)
    for (const ordering of Object.keys(ORDERINGS)) assertKeptApart(await runCase(dir, `${ordering}.mjs`, esmCase(file, kind, ordering), process.execPath))
  })
}

test("Node, require('nvm-x402'): every loading ordering keeps one core, and each object its own key", async (t) => {
  const dir = await scratch(t)
  for (const ordering of Object.keys(ORDERINGS)) assertKeptApart(await runCase(dir, `${ordering}.cjs`, cjsCase(ordering), process.execPath))
})

for (const [runtime, args] of [['deno', ['run', '--quiet', '--no-config', '--allow-read']], ['bun', []]]) {
  test(`${runtime}: every loading ordering in every entry keeps one core, and each object its own key, plan and routes`, async (t) => {
    const binary = await runtimeBinary(runtime)
    const dir = await scratch(t)
    for (const [, kind, file] of ENTRIES) {
      for (const ordering of Object.keys(ORDERINGS)) assertKeptApart(await runCase(dir, `${kind}-${ordering}.mjs`, esmCase(file, kind, ordering), binary, args))
    }
  })
}
