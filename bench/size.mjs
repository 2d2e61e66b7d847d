// The npm package's size: each file it ships (npm pack's list), raw and gzip -9;
// the tarball; and what each entry loads (the budgets checked by
// tests/js/node/budgets.test.mjs: every entry <= 100 KiB gzipped, nvm-x402 <= 110).
// Run after scripts/build.sh:  node bench/size.mjs
import { execFileSync } from 'node:child_process'
import { PKG, entries, kib, sizeOf } from '../tests/js/support/entries.mjs'

const [pack] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--loglevel=error'], { cwd: PKG, encoding: 'utf8' }))
const files = pack.files.map((f) => f.path).sort()
const pad = (s, n) => String(s).padStart(n)
console.log(`${'file'.padEnd(26)}${pad('raw', 12)}${pad('gzip -9', 12)}`)
for (const f of files) {
  const { raw, gz } = sizeOf([f])
  console.log(`${f.padEnd(26)}${pad(kib(raw), 12)}${pad(kib(gz), 12)}`)
}
const all = sizeOf(files)
console.log(`${'all files'.padEnd(26)}${pad(kib(all.raw), 12)}${pad(kib(all.gz), 12)}`)
console.log(`tarball (npm pack): ${kib(pack.size)} (${pack.entryCount} files; unpacked ${kib(pack.unpackedSize)})`)
console.log('\nwhat each entry loads (its files, gzip -9 each):')
for (const r of entries()) console.log(`  ${`${r.specifier} (${r.condition})`.padEnd(34)}${pad(kib(r.raw), 12)}${pad(kib(r.gz), 12)}   ${r.files.length} files`)
console.log('budget: every entry <= 100 KiB gzipped, nvm-x402 and nvm-x402/asset <= 110 KiB (tests/js/node/budgets.test.mjs)')
