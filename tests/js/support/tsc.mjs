// Type-checks generated TypeScript files against the built package's
// index.d.ts (strict, imported as 'nvm-x402'), in a temporary directory.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT } from './servers.mjs'

/**
 * Compiles `files` ({name: text}) and returns `{status, output}` (tsc's
 * diagnostics); status 0 means everything type-checked.
 */
export function typecheck(files) {
  const dir = mkdtempSync(join(tmpdir(), 'nvm-tsc-'))
  try {
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
    const config = {
      compilerOptions: {
        target: 'ES2022',
        lib: ['ES2022', 'DOM'],
        module: 'ESNext',
        moduleResolution: 'bundler',
        strict: true,
        noEmit: true,
        types: [],
        paths: { 'nvm-x402': [join(ROOT, 'pkg/index.d.ts')] },
      },
      files: Object.keys(files),
    }
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(config))
    const run = spawnSync(join(ROOT, 'node_modules/.bin/tsc'), ['-p', dir], { encoding: 'utf8' })
    if (run.error) throw run.error
    return { status: run.status, output: `${run.stdout}${run.stderr}` }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
