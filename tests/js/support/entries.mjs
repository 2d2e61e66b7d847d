// What each entry of the built package loads: its files (the static import
// graph from the entry file, plus the .wasm it imports or fetches) and their
// size, raw and gzip -9 each, the way a runtime or a bundler takes them.
// Shared by the byte budgets (tests/js/node/budgets.test.mjs) and the size and
// load benchmarks (bench/size.mjs, bench/load.mjs).
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, normalize, relative } from 'node:path'
import { promisify } from 'node:util'
import { gzipSync } from 'node:zlib'
import { ROOT, WRANGLER_ENV } from './servers.mjs'

export const PKG = join(ROOT, 'pkg')

// Our modules use plain relative specifiers: `import ... from './x.js'`,
// `export * from '../x.js'`, and `new URL('./x.wasm', import.meta.url)`.
const SPECIFIERS = /(?:\bfrom\s*|\bimport\s*\(?\s*|new URL\(\s*)(['"])(\.{1,2}\/[^'"]+)\1/g

/** The package's files that `entry` (a path inside pkg/) loads, sorted. */
export function entryFiles(entry, pkg = PKG) {
  const seen = new Set()
  const visit = (file) => {
    if (seen.has(file)) return
    seen.add(file)
    if (!/\.(m?js|cjs)$/.test(file)) return
    const text = readFileSync(join(pkg, file), 'utf8')
    for (const [, , specifier] of text.matchAll(SPECIFIERS)) visit(normalize(join(dirname(file), specifier)))
  }
  visit(normalize(entry))
  return [...seen].sort()
}

/** Raw and gzip -9 bytes of `files` (paths inside pkg/), each compressed on its own. */
export function sizeOf(files, pkg = PKG) {
  let raw = 0
  let gz = 0
  for (const f of files) {
    const bytes = readFileSync(join(pkg, f))
    raw += bytes.length
    gz += gzipSync(bytes, { level: 9 }).length
  }
  return { raw, gz }
}

/**
 * Every way the package can be loaded: one row per subpath of its `exports`
 * and condition (`workerd`, `require`, `default`), with the entry file, the
 * files it loads and their size.
 */
export function entries(pkg = PKG) {
  const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8'))
  const rows = []
  for (const [subpath, target] of Object.entries(manifest.exports)) {
    if (subpath === './package.json') continue
    const conditions = typeof target === 'string' ? { default: target } : target
    for (const [condition, value] of Object.entries(conditions)) {
      if (condition === 'types') continue
      const file = typeof value === 'string' ? value : value.default
      const files = entryFiles(relative('.', file), pkg)
      rows.push({ specifier: join('nvm-x402', subpath), condition, file: relative('.', file), files, ...sizeOf(files, pkg) })
    }
  }
  return rows
}

/**
 * A Worker's deployable bundle, as wrangler would upload it (`wrangler deploy
 * --dry-run` in `dir`, offline): its .js and .wasm files with their raw and
 * gzip -9 sizes, the totals, and wrangler's own "Total Upload" line.
 */
export async function workerBundle(dir) {
  const out = await mkdtemp(join(tmpdir(), 'nvm-bundle-'))
  try {
    const { stdout } = await promisify(execFile)(join(ROOT, 'node_modules/.bin/wrangler'), ['deploy', '--dry-run', '--outdir', out], { cwd: dir, env: { ...process.env, ...WRANGLER_ENV } })
    const names = (await readdir(out)).filter((f) => f.endsWith('.js') || f.endsWith('.wasm')).sort()
    const files = names.map((f) => ({ file: f.replace(/^[0-9a-f]{40}-/, ''), ...sizeOf([f], out) }))
    return { files, raw: files.reduce((a, f) => a + f.raw, 0), gz: files.reduce((a, f) => a + f.gz, 0), wrangler: stdout.match(/Total Upload: .*/)?.[0] }
  } finally {
    await rm(out, { recursive: true, force: true })
  }
}

export const kib = (n) => `${(n / 1024).toFixed(1)} KiB`
