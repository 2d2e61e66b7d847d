// The package's hand-written index.d.ts: it compiles strictly (skipLibCheck
// off) together with a usage file whose @ts-expect-error lines prove wrong
// usages are rejected; it has no `any`; it declares exactly the runtime exports.
import test from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import * as runtime from 'nvm-x402'
import { ROOT } from '../support/servers.mjs'

const TSC = join(ROOT, 'node_modules/.bin/tsc')
const DTS = readFileSync(join(ROOT, 'pkg/index.d.ts'), 'utf8')
/** The declarations without comments. */
const CODE = DTS.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '')

for (const config of ['tests/js/types', 'tests/js/types/tsconfig.node16.json']) {
  test(`tsc -p ${config}: index.d.ts and the usage file type-check (bad usages are errors)`, () => {
    const run = spawnSync(TSC, ['-p', config], { cwd: ROOT, encoding: 'utf8' })
    assert.equal(run.error, undefined, String(run.error))
    assert.equal(run.status, 0, `tsc failed:\n${run.stdout}${run.stderr}`)
  })
}

test('index.d.ts has no `any` outside comments', () => {
  const lines = CODE.split('\n').filter((line) => /\bany\b/.test(line))
  assert.deepEqual(lines, [])
})

test('index.d.ts declares exactly the values the package exports at runtime', () => {
  const declared = new Set([...CODE.matchAll(/^export\s+(?:declare\s+)?(?:const|let|var|function|class|enum)\s+([A-Za-z_$][\w$]*)/gm)].map((m) => m[1]))
  assert.deepEqual([...declared].sort(), Object.keys(runtime).sort())
})

test('runtime values match their declared kinds (classes, functions, bigint constants)', () => {
  for (const [, kind, name] of CODE.matchAll(/^export\s+(?:declare\s+)?(const|function|class)\s+([A-Za-z_$][\w$]*)/gm)) {
    const value = runtime[name]
    if (kind === 'function' || kind === 'class') assert.equal(typeof value, 'function', name)
  }
  for (const [, name, type] of CODE.matchAll(/^export\s+const\s+(\w+):\s*(bigint|string|'[^']*')\s*$/gm)) {
    const expected = type === 'bigint' ? 'bigint' : 'string'
    assert.equal(typeof runtime[name], expected, name)
    if (type.startsWith("'")) assert.equal(runtime[name], type.slice(1, -1), name)
  }
})
