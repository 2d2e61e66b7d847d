// Issue #20, item 1, in headless Chromium: every loading ordering of
// tests/js/support/orderings.js in a fresh page (a fresh realm) per entry,
// the universal entries (the core embedded, compiled on first use or by
// ready()) and the asset entries (the .wasm fetched and compiled streaming by
// ready(); a call before it settles is `not_ready`). Each page keeps one core,
// and each object its own key, plan and routes.
import test from 'node:test'
import assert from 'node:assert/strict'
import { ROOT, startStatic, launchChromium } from '../support/servers.mjs'
import { ORDERINGS } from '../support/orderings.js'
import { assertKeptApart } from '../support/orderings-check.mjs'

const ENTRIES = [
  ['client', 'index.js'],
  ['client', 'asset.js'],
  ['agent', 'agent/index.js'],
  ['agent', 'agent/asset.js'],
  ['mcp', 'mcp/index.js'],
  ['mcp', 'mcp/asset.js'],
]

test('Chromium: every loading ordering in every entry (universal and asset) keeps one core, and each object its own key, plan and routes', async (t) => {
  const pages = {}
  for (const [kind, file] of ENTRIES) {
    for (const ordering of Object.keys(ORDERINGS)) {
      pages[`/${kind}-${file.replace(/\W/g, '-')}-${ordering}.html`] = {
        type: 'text/html',
        body: `<!doctype html><script type="module">
          import * as entry from '/pkg/${file}'
          import { runOrdering } from '/tests/js/support/orderings.js'
          runOrdering(entry, ${JSON.stringify(kind)}, ${JSON.stringify(ordering)}).then((report) => { window.result = report }, (e) => { window.result = { failed: String(e?.stack ?? e), code: e?.code } })
        </script>`,
        asset: file.endsWith('asset.js'),
      }
    }
  }
  const site = await startStatic(ROOT, pages)
  t.after(() => site.close())
  const chromium = await launchChromium()
  t.after(() => chromium.close())
  let ran = 0
  for (const [path, page] of Object.entries(pages)) {
    const tab = await chromium.context.newPage()
    try {
      await tab.goto(new URL(path, site.url).href)
      await tab.waitForFunction(() => window.result !== undefined, null, { timeout: 20_000 })
      const report = await tab.evaluate(() => window.result)
      assert.equal(report.failed, undefined, `${path}: ${report.failed}`)
      assertKeptApart(report, { asset: page.asset })
      ran++
    } finally {
      await tab.close()
    }
  }
  assert.equal(ran, ENTRIES.length * Object.keys(ORDERINGS).length)
})
