// The package's byte budgets (issue #14), checked on the built package: sizes
// are deterministic, unlike timings. Each way of loading the package (every
// subpath of its exports, under each condition: what a runtime or a bundler
// takes, each file gzip -9) loads at most 100 KiB, except the payer's entry
// `nvm-x402` (and `nvm-x402/asset`), which also carries a web page's sign-in,
// card setup and orders (#24): 110 KiB. The Worker example's deployable bundle
// (wrangler deploy --dry-run: its .js and .wasm) is at most 90 KiB. The
// figures are printed as diagnostics; bench/README.md has them.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { ROOT } from '../support/servers.mjs'
import { entries, kib, sizeOf, workerBundle } from '../support/entries.mjs'

const ENTRY_BUDGET = 100 * 1024
// The one Payments of the official SDK (paying, registering, and a web page's sign-in) in one
// entry, as the official has it: decided in the #24 stop note (options and figures there).
const PAYER_BUDGET = 110 * 1024
const budgetOf = (specifier) => (specifier === 'nvm-x402' || specifier === 'nvm-x402/asset' ? PAYER_BUDGET : ENTRY_BUDGET)
const WORKER_BUDGET = 90 * 1024

test('every entry of the package loads at most 100 KiB gzipped (nvm-x402: 110 KiB), each with one core', (t) => {
  const rows = entries()
  // The walk must find what it measures: every subpath the package exports, each with its facade and exactly one core.
  assert.deepEqual([...new Set(rows.map((r) => r.specifier))].sort(), ['nvm-x402', 'nvm-x402/a2a', 'nvm-x402/a2a-client', 'nvm-x402/a2a-client/asset', 'nvm-x402/a2a/asset', 'nvm-x402/agent', 'nvm-x402/agent/asset', 'nvm-x402/asset', 'nvm-x402/express', 'nvm-x402/hono', 'nvm-x402/langchain', 'nvm-x402/langsmith', 'nvm-x402/mcp', 'nvm-x402/mcp/asset', 'nvm-x402/mpp', 'nvm-x402/mpp/asset', 'nvm-x402/next'])
  for (const r of rows) {
    t.diagnostic(`${r.specifier} (${r.condition}: ${r.file}): ${kib(r.raw)} raw, ${kib(r.gz)} gzipped`)
    if (r.specifier === 'nvm-x402/hono' || r.specifier === 'nvm-x402/next') {
      const own = { 'nvm-x402/hono': ['hono.js'], 'nvm-x402/next': ['errors.js', 'next.js'] }[r.specifier]
      assert.deepEqual([...r.files].sort(), own, 'the adapter carries no core of its own')
      continue
    }
    if (r.specifier === 'nvm-x402/express') {
      // Node's Express: its own core (the agent's with MPP) and facade, and the adapter.
      assert.ok(r.files.includes('express.js') && r.files.some((f) => f.startsWith('express-core/')) && !r.files.some((f) => f.startsWith('agent/')), r.files.join(', '))
    }
    if (r.specifier === 'nvm-x402/langchain' || r.specifier === 'nvm-x402/langsmith') {
      // LangChain tools: the MCP entry's facade and core (it has the paid function's flow), and the adapter.
      assert.ok(r.files.includes(`${r.specifier.slice(9)}.js`) && r.files.some((f) => f.startsWith('mcp/')), r.files.join(', '))
    }
    if (r.condition === 'require') {
      // One CommonJS file with the universal entry bundled in it, the embedded core included.
      assert.deepEqual(r.files, ['index.cjs'])
      assert.ok(r.gz > sizeOf(['wasm-inline.js']).gz, 'index.cjs carries the embedded core')
    } else {
      const cores = r.files.filter((f) => /(nvm_x402_bg\.wasm|wasm-inline\.js)$/.test(f))
      assert.equal(cores.length, 1, `${r.specifier} (${r.condition}) loads one core: ${r.files.join(', ')}`)
      assert.ok(r.files.some((f) => f.endsWith('core.js')), `${r.specifier} loads its facade`)
    }
    assert.ok(r.gz <= budgetOf(r.specifier), `${r.specifier} (${r.condition}) loads ${kib(r.gz)} gzipped, over the ${kib(budgetOf(r.specifier))} budget`)
  }
})

test('the Worker example bundle (wrangler deploy --dry-run) is at most 90 KiB gzipped', async (t) => {
  const bundle = await workerBundle(join(ROOT, 'examples/cloudflare-worker'))
  for (const f of bundle.files) t.diagnostic(`${f.file}: ${kib(f.raw)} raw, ${kib(f.gz)} gzipped`)
  t.diagnostic(`total ${kib(bundle.raw)} raw, ${kib(bundle.gz)} gzipped; wrangler: ${bundle.wrangler}`)
  assert.deepEqual(bundle.files.map((f) => f.file.split('.').at(-1)).sort(), ['js', 'wasm'], 'one script and one core')
  assert.ok(bundle.gz <= WORKER_BUDGET, `the Worker bundle is ${kib(bundle.gz)} gzipped, over the ${kib(WORKER_BUDGET)} budget`)
})
