// The package's declarations (each entry's file over common.d.ts and the
// generated wire-types.d.ts): they compile strictly (skipLibCheck off)
// together with a usage file whose @ts-expect-error lines prove wrong usages
// are rejected; they have no `any`; each entry declares exactly the values it
// exports at runtime, less those that only answer `not_in_entry` there.
import test from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import * as client from 'nvm-x402'
import * as agent from 'nvm-x402/agent'
import * as mcp from 'nvm-x402/mcp'
import { KEY } from '../support/nvm.mjs'
import { ROOT } from '../support/servers.mjs'
import { typecheck } from '../support/tsc.mjs'

const TSC = join(ROOT, 'node_modules/.bin/tsc')
/** The declarations without comments. */
const code = (file) => readFileSync(join(ROOT, 'pkg', file), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '')
const SHARED = code('common.d.ts')
// [entry, its runtime module, its declarations file, the exports that only answer not_in_entry there]
const ENTRIES = [
  ['nvm-x402', client, 'index.d.ts', []],
  ['nvm-x402/agent', agent, 'agent.d.ts', ['fetchWithPayment', 'getPayAsYouGoPriceConfig']],
  ['nvm-x402/mcp', mcp, 'mcp.d.ts', ['fetchWithPayment', 'getPayAsYouGoPriceConfig']],
]

for (const config of ['tests/js/types', 'tests/js/types/tsconfig.node16.json', 'tests/js/types/mcp-v2', 'tests/js/types/langchain']) {
  test(`tsc -p ${config}: the declarations and the usage file type-check (bad usages are errors)`, () => {
    const run = spawnSync(TSC, ['-p', config], { cwd: ROOT, encoding: 'utf8' })
    assert.equal(run.error, undefined, String(run.error))
    assert.equal(run.status, 0, `tsc failed:\n${run.stdout}${run.stderr}`)
  })
}

test('the declarations have no `any` outside comments', () => {
  for (const file of ['common.d.ts', 'wire-types.d.ts', 'index.d.ts', 'agent.d.ts', 'mcp.d.ts', 'hono.d.ts', 'langsmith.d.ts']) {
    assert.deepEqual(code(file).split('\n').filter((line) => /\bany\b/.test(line)), [], file)
  }
})

test('each entry declares exactly the values it exports at runtime, less those it lacks', async () => {
  const files = {}
  for (const [entry, runtime, , lacks] of ENTRIES) {
    // What an entry lacks is exported only to say where it is.
    const payments = runtime.Payments.getInstance({ nvmApiKey: KEY, backendUrl: 'http://127.0.0.1:9' })
    for (const name of lacks) {
      // (async: a synchronous function's not_in_entry is thrown, an async one's rejected)
      await assert.rejects(async () => runtime[name]('http://127.0.0.1:9/', {}, { payments, planIds: ['1'] }), (e) => e.code === 'not_in_entry', `${entry} ${name}`)
    }
    const names = Object.keys(runtime).filter((name) => !lacks.includes(name))
    // keyof typeof the module: its declared values; the object literal must name each, and nothing else.
    files[`${entry.replace('/', '-')}.ts`] = `import * as E from '${entry}'\nexport const values: Record<keyof typeof E, true> = { ${names.map((n) => `${n}: true`).join(', ')} }\n`
  }
  const { status, output } = typecheck(files)
  assert.equal(status, 0, `an entry's declared values differ from its runtime exports:\n${output}`)
})

test('runtime values match their declared kinds (classes, functions, constants)', () => {
  for (const [entry, runtime, file] of ENTRIES) {
    const declarations = `${SHARED}\n${code(file)}`
    for (const [, kind, name] of declarations.matchAll(/^export\s+(?:declare\s+)?(const|function|class)\s+([A-Za-z_$][\w$]*)/gm)) {
      if (kind === 'function' || kind === 'class') assert.equal(typeof runtime[name], 'function', `${entry} ${name}`)
    }
    for (const [, name] of declarations.matchAll(/^export\s+const\s+(\w+):\s*PaymentsClass</gm)) {
      assert.equal(typeof runtime[name], 'function', `${entry} ${name} is a class`)
      assert.equal(typeof runtime[name].getInstance, 'function', `${entry} ${name}.getInstance`)
    }
    for (const [, name, type] of declarations.matchAll(/^export\s+const\s+(\w+):\s*(bigint|string|'[^']*')\s*$/gm)) {
      const expected = type === 'bigint' ? 'bigint' : 'string'
      assert.equal(typeof runtime[name], expected, `${entry} ${name}`)
      if (type.startsWith("'")) assert.equal(runtime[name], type.slice(1, -1), `${entry} ${name}`)
    }
  }
})
