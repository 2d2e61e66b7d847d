// Type-checks generated TypeScript files against the built package's
// declarations (strict), in a temporary directory inside the repository, so
// that 'nvm-x402', 'nvm-x402/agent', ... resolve as for npm users: through
// node_modules/nvm-x402 (pkg/) and the "types" of its package.json exports.
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT } from './servers.mjs'

/**
 * Compiles `files` ({name: text}) and returns `{status, output, errors}`:
 * tsc's exit status (0: everything type-checked), its diagnostics, and each
 * error as `{file, line, code}` (`code` such as `TS2339`). `compilerOptions`
 * override the defaults (bundler resolution, ES modules).
 */
export function typecheck(files, compilerOptions = {}) {
  mkdirSync(join(ROOT, 'target'), { recursive: true })
  const dir = mkdtempSync(join(ROOT, 'target', 'tsc-'))
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
        skipLibCheck: false,
        types: [],
        ...compilerOptions,
      },
      files: Object.keys(files),
    }
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(config))
    const run = spawnSync(join(ROOT, 'node_modules/.bin/tsc'), ['-p', dir, '--pretty', 'false'], { encoding: 'utf8' })
    if (run.error) throw run.error
    const output = `${run.stdout}${run.stderr}`
    const errors = [...output.matchAll(/^(.+?)\((\d+),\d+\): error (TS\d+)/gm)].map(([, file, line, code]) => ({ file: file.split(/[\\/]/).pop(), line: Number(line), code }))
    return { status: run.status, output, errors }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
