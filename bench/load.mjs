// What each entry of the package costs to load: the bytes of the files it
// loads (raw and gzip -9) and the time from import to the first answer, in
// Node (fresh process per sample) and in headless Chromium (fresh page per
// sample). Medians of `--rounds N` samples (default 7).
//
//   scripts/build.sh && node bench/load.mjs [--rounds N]
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { ROOT, launchChromium, startStatic } from '../tests/js/support/servers.mjs'
import { entries } from '../tests/js/support/entries.mjs'

const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1]) || 7
const PKG = join(ROOT, 'pkg')
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

/** ms from the start of the import to the first decodeAccessToken answer (sync path) and to ready() (async path), in a fresh Node process. */
async function nodeSample(specifier, kind) {
  const dir = await mkdtemp(join(ROOT, 'target', 'load-'))
  const file = join(dir, kind === 'cjs' ? 'x.cjs' : 'x.mjs')
  const source =
    kind === 'cjs'
      ? `const t0 = performance.now(); const m = require(${JSON.stringify(specifier)}); const t1 = performance.now(); m.decodeAccessToken('e30'); const t2 = performance.now(); console.log(JSON.stringify({ importMs: t1 - t0, firstCallMs: t2 - t0 }))`
      : kind === 'ready'
        ? `const t0 = performance.now(); const m = await import(${JSON.stringify(specifier)}); const t1 = performance.now(); await m.ready(); m.decodeAccessToken('e30'); const t2 = performance.now(); console.log(JSON.stringify({ importMs: t1 - t0, firstCallMs: t2 - t0 }))`
        : `const t0 = performance.now(); const m = await import(${JSON.stringify(specifier)}); const t1 = performance.now(); m.decodeAccessToken('e30'); const t2 = performance.now(); console.log(JSON.stringify({ importMs: t1 - t0, firstCallMs: t2 - t0 }))`
  await writeFile(file, source)
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [file], { cwd: ROOT })
    return JSON.parse(stdout)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

async function nodeRow(label, specifier, kind) {
  const samples = []
  for (let i = 0; i < rounds; i++) samples.push(await nodeSample(specifier, kind))
  return { label, importMs: median(samples.map((s) => s.importMs)), firstCallMs: median(samples.map((s) => s.firstCallMs)) }
}

async function browserRows() {
  const page = (entry, useReady) => `<!doctype html><script type="module">
    const t0 = performance.now()
    const m = await import('/pkg/${entry}')
    const t1 = performance.now()
    ${useReady ? 'await m.ready()' : ''}
    m.decodeAccessToken('e30')
    window.result = { importMs: t1 - t0, firstCallMs: performance.now() - t0 }
  </script>`
  const site = await startStatic(ROOT, { '/index': { type: 'text/html', body: page('index.js', false) }, '/index-ready': { type: 'text/html', body: page('index.js', true) }, '/asset': { type: 'text/html', body: page('asset.js', true) } })
  const chromium = await launchChromium()
  const rows = []
  try {
    for (const [label, path] of [['Chromium, index.js, first call', '/index'], ['Chromium, index.js, await ready()', '/index-ready'], ['Chromium, asset.js, await ready()', '/asset']]) {
      const samples = []
      for (let i = 0; i < rounds; i++) {
        const tab = await chromium.context.newPage()
        const cdp = await chromium.context.newCDPSession(tab)
        await cdp.send('Network.setCacheDisabled', { cacheDisabled: true }) // every sample loads every file
        await tab.goto(site.url + path.slice(1))
        await tab.waitForFunction(() => window.result !== undefined)
        samples.push(await tab.evaluate(() => window.result))
        await tab.close()
      }
      rows.push({ label, importMs: median(samples.map((s) => s.importMs)), firstCallMs: median(samples.map((s) => s.firstCallMs)) })
    }
  } finally {
    await chromium.close()
    await site.close()
  }
  return rows
}

console.log('bytes each entry loads (its files, gzip -9 each; tests/js/support/entries.mjs):')
for (const r of entries()) {
  const label = `${r.specifier} (${r.condition}: ${r.file})`
  console.log(`  ${label.padEnd(58)} ${(r.raw / 1024).toFixed(1).padStart(7)} KiB raw ${(r.gz / 1024).toFixed(1).padStart(7)} KiB gzipped`)
}
console.log(`\ntime from import to the first answer (median of ${rounds}; loopback, no network):`)
const rows = [
  await nodeRow('Node, index.js, first call (sync load)', 'nvm-x402', 'sync'),
  await nodeRow('Node, index.js, await ready()', 'nvm-x402', 'ready'),
  await nodeRow('Node, index.cjs, first call', 'nvm-x402', 'cjs'),
  ...(await browserRows()),
]
for (const r of rows) console.log(`  ${r.label.padEnd(40)} import ${r.importMs.toFixed(1).padStart(6)} ms   first answer ${r.firstCallMs.toFixed(1).padStart(6)} ms`)
