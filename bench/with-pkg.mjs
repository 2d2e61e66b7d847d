// Runs a benchmark against another build of the package, for before/after
// comparisons in one session (old and new builds interleaved):
//   NVM_X402_PKG=/tmp/pkg-old node --import ./bench/with-pkg.mjs bench/instant.mjs
// Every `nvm-x402` import (and its subpaths) resolves to that directory, as if
// it were installed there, package.json exports and all.
import { mkdtempSync, mkdirSync, symlinkSync } from 'node:fs'
import { register } from 'node:module'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

const pkg = process.env.NVM_X402_PKG
if (pkg) {
  const root = mkdtempSync(join(tmpdir(), 'nvm-x402-pkg-'))
  mkdirSync(join(root, 'node_modules'))
  symlinkSync(resolve(pkg), join(root, 'node_modules', 'nvm-x402'))
  const parentURL = pathToFileURL(join(root, 'importer.mjs')).href
  const hooks = `export async function resolve(specifier, context, next) {
    if (specifier === 'nvm-x402' || specifier.startsWith('nvm-x402/')) return next(specifier, { ...context, parentURL: ${JSON.stringify(parentURL)} })
    return next(specifier, context)
  }`
  register(`data:text/javascript,${encodeURIComponent(hooks)}`)
}
