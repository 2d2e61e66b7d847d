// The bundler and runtime matrix (tests/matrix/run.mjs, issue #11): the packed
// package, installed from its tarball, builds with default configuration and
// gives the same answers in Vite 5, 6 and 8 (build, and Vite 6's dev server),
// webpack 5, esbuild (esm, iife, node), Rollup, bun build, Parcel, Deno and Bun
// with no flags, Node ESM and CommonJS, TypeScript (bundler, node16, nodenext,
// a .cts) and, under a strict Content-Security-Policy, a browser page.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { projects, runMatrix } from '../../matrix/run.mjs'

test('every toolchain builds and runs the package with default configuration', { timeout: 900_000 }, async () => {
  const lines = []
  const report = await runMatrix({ log: (line) => lines.push(line) })
  const expected = (await projects()).map((p) => p.name)
  assert.deepEqual(Object.keys(report).sort(), expected.sort(), 'every project ran')
  const failed = Object.entries(report).filter(([, r]) => !r.ok)
  assert.deepEqual(failed.map(([name, r]) => `${name}: ${r.error}`), [], lines.join('\n'))
  assert.ok(expected.length >= 15, `only ${expected.length} projects`)
  assert.deepEqual(report['vite-6'].ways, ['page', 'csp', 'csp-without-wasm', 'dev'], 'the CSP pages and the dev server ran')
})
