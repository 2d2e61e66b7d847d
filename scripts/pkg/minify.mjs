// Ships each hand-written module of the package without comments and whitespace
// (scripts/build.sh): esbuild's minifyWhitespace + minifySyntax, names not mangled.
// esbuild drops `/* @__PURE__ */` annotations when it removes whitespace, and a
// user's bundler needs them to drop the exports an app never imports, so they
// are put back: each annotated call of the source, `name('literal')`, must be
// found exactly once in the output (`name("literal")`), or the build fails.
//   node scripts/pkg/minify.mjs <staged package dir> <file>...
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { transformSync } from 'esbuild'

const [dir, ...files] = process.argv.slice(2)
const PURE = /\/\*\s*[@#]__PURE__\s*\*\/\s*([\w$]+)\(\s*'([^'\\]*)'/g

for (const file of files) {
  const path = join(dir, file)
  const source = readFileSync(path, 'utf8')
  let { code } = transformSync(source, { minifyWhitespace: true, minifySyntax: true, loader: 'js', logLevel: 'warning' })
  for (const [, name, literal] of source.matchAll(PURE)) {
    const call = `${name}(${JSON.stringify(literal)})`
    const parts = code.split(call)
    if (parts.length !== 2) throw new Error(`minify.mjs: ${file}: the annotated call ${call} is in the output ${parts.length - 1} times, not once`)
    code = parts.join(`/*@__PURE__*/${call}`)
  }
  // Every annotation of the source is one of those calls (another form would be lost unseen).
  const count = (text) => text.split('__PURE__').length - 1
  if (count(code) !== count(source)) throw new Error(`minify.mjs: ${file}: ${count(source)} /* @__PURE__ */ annotations in the source, ${count(code)} in the output`)
  writeFileSync(path, code)
}
