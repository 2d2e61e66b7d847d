// Prints the raw and gzipped size of each file the npm package ships, and the totals.
// Run after scripts/build.sh:  node bench/size.mjs
import { readFile } from 'node:fs/promises'
import { gzipSync } from 'node:zlib'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..', 'pkg')
const manifest = JSON.parse(await readFile(join(pkg, 'package.json'), 'utf8'))
const { readdir } = await import('node:fs/promises')
const all = await readdir(pkg)
const shipped = all.filter((f) => f === 'package.json' || manifest.files.some((p) => (p.includes('*') ? new RegExp(`^${p.replace('.', '\\.').replace('*', '.*')}$`).test(f) : p === f)))

const rows = []
for (const file of shipped.sort()) {
  const bytes = await readFile(join(pkg, file))
  rows.push({ file, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length })
}
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`
const pad = (s, n) => String(s).padStart(n)
console.log(`${'file'.padEnd(22)}${pad('raw', 12)}${pad('gzip -9', 12)}`)
for (const r of rows) console.log(`${r.file.padEnd(22)}${pad(kib(r.raw), 12)}${pad(kib(r.gzip), 12)}`)
const sum = (pick) => rows.reduce((a, r) => a + r[pick], 0)
const runtime = rows.filter((r) => r.file.endsWith('.js') || r.file.endsWith('.wasm'))
console.log(`${'package (all files)'.padEnd(22)}${pad(kib(sum('raw')), 12)}${pad(kib(sum('gzip')), 12)}`)
console.log(`${'runtime (.js + .wasm)'.padEnd(22)}${pad(kib(runtime.reduce((a, r) => a + r.raw, 0)), 12)}${pad(kib(runtime.reduce((a, r) => a + r.gzip, 0)), 12)}`)
console.log(`target: whole package <= 64 KiB gzipped`)
