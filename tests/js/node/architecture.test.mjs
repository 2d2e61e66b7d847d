// The crate graph keeps serde out of the .wasm, and the module graph of each
// crate has no cycles (issue #12). Modules: every
// `crate::a::b` (and `super::x`) a module names outside comments and its unit
// tests is an edge to the longest module path that exists; a module and its
// own children count as one. A cycle makes a change in one module a change in
// all of them.
import test from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { ROOT } from '../support/servers.mjs'

function modules(srcDir) {
  const out = new Map()
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) walk(path)
      else if (entry.name.endsWith('.rs')) {
        let name = relative(srcDir, path).slice(0, -3).replace(/\/mod$/, '').replaceAll('/', '::')
        if (['lib', 'main'].includes(name) || /(^|::)(tests|[a-z_]+_tests)$/.test(name)) continue
        const text = readFileSync(path, 'utf8')
          .replace(/#\[cfg\(test\)\]\s*mod tests\s*\{[\s\S]*/, '')
          .replace(/\/\/[^\n]*/g, '')
        const refs = new Set()
        for (const m of text.matchAll(/crate::([a-z_]+(?:::[a-z_]+)*)/g)) refs.add(m[1])
        const parent = name.split('::').slice(0, -1).join('::')
        for (const m of text.matchAll(/\bsuper::([a-z_]+)/g)) refs.add(parent ? `${parent}::${m[1]}` : m[1])
        out.set(name, refs)
      }
    }
  }
  walk(srcDir)
  return out
}

function cycles(srcDir) {
  const mods = modules(srcDir)
  const graph = new Map()
  for (const [name, refs] of mods) {
    const edges = new Set()
    for (const ref of refs) {
      const parts = ref.split('::')
      for (let k = parts.length; k > 0; k--) {
        const target = parts.slice(0, k).join('::')
        if (!mods.has(target)) continue
        const related = target === name || name.startsWith(`${target}::`) || target.startsWith(`${name}::`)
        if (!related) edges.add(target)
        break
      }
    }
    graph.set(name, edges)
  }
  // Tarjan's strongly connected components.
  let index = 0
  const indices = new Map()
  const low = new Map()
  const stack = []
  const onStack = new Set()
  const found = []
  const visit = (v) => {
    indices.set(v, index)
    low.set(v, index++)
    stack.push(v)
    onStack.add(v)
    for (const w of graph.get(v)) {
      if (!indices.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v), low.get(w)))
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), indices.get(w)))
    }
    if (low.get(v) === indices.get(v)) {
      const component = []
      let w
      do {
        w = stack.pop()
        onStack.delete(w)
        component.push(w)
      } while (w !== v)
      if (component.length > 1) found.push(component.sort())
    }
  }
  for (const v of graph.keys()) if (!indices.has(v)) visit(v)
  return { found, size: graph.size, edges: [...graph.values()].reduce((n, e) => n + e.size, 0) }
}

for (const [crate, dir] of [['nvm-x402', 'src'], ['nvm-x402-types', 'types/src'], ['nvm-local', 'local-backend/src']]) {
  test(`${crate} has no module cycles`, () => {
    const { found, size, edges } = cycles(join(ROOT, dir))
    assert.ok(crate === 'nvm-x402-types' ? size >= 5 : size > 15 && edges > 20, `read ${size} modules and ${edges} edges`)
    assert.deepEqual(found, [])
  })
}

/** The crates the .wasm is built from: `cargo tree` of nvm-x402 for wasm32, features as scripts/build.sh has them. */
function wasmCrates() {
  const run = spawnSync('cargo', ['tree', '-p', 'nvm-x402', '--target', 'wasm32-unknown-unknown', '-e', 'normal', '--prefix', 'none'], { cwd: ROOT, encoding: 'utf8' })
  assert.equal(run.status, 0, run.stderr)
  return new Set(run.stdout.split('\n').filter(Boolean).map((line) => line.split(' ')[0]))
}

test('the .wasm is built without serde, serde_json or the types crate (Cargo, not dead-code removal, keeps them out)', () => {
  const crates = wasmCrates()
  assert.ok(crates.has('nvm-x402') && crates.has('wasm-bindgen') && crates.has('talc'), [...crates].join(', '))
  for (const name of ['serde', 'serde_json', 'serde_derive', 'nvm-x402-types', 'proptest']) assert.ok(!crates.has(name), `${name} is in the wasm graph`)
})
