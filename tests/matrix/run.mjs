// The bundler and runtime matrix (issue #11): packs the built package, installs
// the tarball into one small project per toolchain (pinned versions; each
// project's node_modules is kept in .cache/matrix/ between runs, so only the
// tarball is replaced), builds it with default configuration, runs it (pages in
// headless Chromium; one under a Content-Security-Policy), and compares what
// each one computed with the same checks run here against pkg/.
//
//   node tests/matrix/run.mjs              # every project (what the test command runs)
//   node tests/matrix/run.mjs vite-6 deno  # some projects
//
// Prints one line per project (install, build and run times, the bundle's
// size) and exits non-zero when any project fails.
import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { cp, mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { join, resolve, dirname } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { gzipSync } from 'node:zlib'
import { freePort, launchChromium, startStatic } from '../js/support/servers.mjs'

const exec = promisify(execFile)
const HERE = dirname(fileURLToPath(import.meta.url))
const ROOT = resolve(HERE, '../..')
const CACHE = join(ROOT, '.cache/matrix')
const TOOLS = { ESBUILD: join(ROOT, 'node_modules/.bin/esbuild'), TSC: join(ROOT, 'node_modules/.bin/tsc') }
const CSP = "script-src 'self' 'wasm-unsafe-eval'"

/** Runs a shell command in `cwd`; resolves to stdout, rejects with stdout+stderr. */
function sh(command, cwd, extraEnv = {}) {
  return new Promise((ok, fail) => {
    const child = spawn('sh', ['-c', command], { cwd, env: { ...process.env, ...TOOLS, ...extraEnv, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' } })
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (err += d))
    child.on('close', (code) => (code === 0 ? ok(out) : fail(new Error(`${command} (in ${cwd}) exited ${code}:\n${out}\n${err}`))))
  })
}

const timed = async (fn) => {
  const start = performance.now()
  const value = await fn()
  return [value, Math.round(performance.now() - start)]
}

/** The projects, in order: `{name, dir, ...matrix.json}`. */
export async function projects() {
  const names = (await readdir(join(HERE, 'projects'))).sort()
  return Promise.all(names.map(async (name) => ({ name, dir: join(HERE, 'projects', name), ...JSON.parse(await readFile(join(HERE, 'projects', name, 'matrix.json'), 'utf8')) })))
}

/** `npm pack` of pkg/ into the cache: the tarball's path and its file list. */
async function pack() {
  await mkdir(CACHE, { recursive: true })
  const out = await sh(`npm pack --json --pack-destination ${JSON.stringify(CACHE)}`, join(ROOT, 'pkg'))
  const [info] = JSON.parse(out)
  return { tarball: join(CACHE, info.filename), files: info.files.map((f) => f.path), size: info.size }
}

/** The CommonJS form of the shared sources (for the require() project). */
const toCjs = {
  checks: (text) => text.replace('export async function checks', 'async function checks') + '\nmodule.exports = { checks }\n',
  main: (text) =>
    text
      .replace("import * as nvm from 'nvm-x402'", "const nvm = require('nvm-x402')")
      .replace("import * as agent from 'nvm-x402/agent'", "const agent = require('nvm-x402/agent') // Node 20.19+: require(esm)")
      .replace("import * as mcp from 'nvm-x402/mcp'", "const mcp = require('nvm-x402/mcp')")
      .replace("import * as a2a from 'nvm-x402/a2a'", "const a2a = require('nvm-x402/a2a')")
      .replace("import * as a2aClient from 'nvm-x402/a2a-client'", "const a2aClient = require('nvm-x402/a2a-client')")
      .replace("import * as mpp from 'nvm-x402/mpp'", "const mpp = require('nvm-x402/mpp')")
      .replace("import { checks } from './checks.js'", "const { checks } = require('./checks.cjs')"),
}

/** Copies the project into its work dir, installs its pinned toolchain (when its lockfile changed) and the tarball. */
async function prepare(project, tarball) {
  const work = join(CACHE, 'work', project.name)
  await mkdir(join(work, 'src'), { recursive: true })
  await rm(join(work, 'dist'), { recursive: true, force: true })
  // A bundler's cache would keep the previous tarball's module graph.
  await rm(join(work, '.parcel-cache'), { recursive: true, force: true })
  await cp(project.dir, work, { recursive: true })
  const main = await readFile(join(HERE, 'main.js'), 'utf8')
  const checks = await readFile(join(HERE, 'checks.js'), 'utf8')
  if (project.cjs) {
    await writeFile(join(work, 'src/main.cjs'), toCjs.main(main))
    await writeFile(join(work, 'src/checks.cjs'), toCjs.checks(checks))
  } else {
    await writeFile(join(work, project.entry ?? 'src/main.js'), main)
    await writeFile(join(work, 'src/checks.js'), checks)
  }
  const lock = join(work, 'package-lock.json')
  if (existsSync(lock)) {
    const hash = createHash('sha256').update(await readFile(lock)).digest('hex')
    const stamp = join(work, 'node_modules/.matrix-lock')
    if (!existsSync(stamp) || (await readFile(stamp, 'utf8')) !== hash) {
      await sh('npm ci --no-audit --no-fund --loglevel=error', work)
      await writeFile(stamp, hash)
    }
  }
  // Installing the tarball is unpacking it into node_modules/nvm-x402 (it has no dependencies).
  const target = join(work, 'node_modules/nvm-x402')
  await rm(target, { recursive: true, force: true })
  await mkdir(target, { recursive: true })
  await sh(`tar -xzf ${JSON.stringify(tarball)} -C ${JSON.stringify(target)} --strip-components=1`, work)
  return work
}

/** Sum of the raw and gzip -9 sizes of the .js and .wasm files in a build's output. */
async function bundleSize(dir) {
  let raw = 0
  let gz = 0
  const walk = async (d) => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const path = join(d, entry.name)
      if (entry.isDirectory()) await walk(path)
      else if (/\.(m?js|cjs|wasm)$/.test(entry.name)) {
        const bytes = await readFile(path)
        raw += bytes.length
        gz += gzipSync(bytes, { level: 9 }).length
      }
    }
  }
  if (existsSync(dir)) await walk(dir)
  return { raw, gz }
}

/** Opens `url` in Chromium and returns the page's window.result. */
async function pageResult(chromium, url) {
  const tab = await chromium.context.newPage()
  const problems = []
  tab.on('pageerror', (e) => problems.push(e.message))
  try {
    await tab.goto(url)
    await tab.waitForFunction(() => window.result !== undefined, null, { timeout: 20_000 }).catch(() => {
      throw new Error(`no result in the page at ${url}: ${problems.join('; ') || 'no error shown'}`)
    })
    return await tab.evaluate(() => window.result)
  } finally {
    await tab.close()
  }
}

/** Starts a dev server command (with $PORT) and waits until it answers. */
async function startDev(command, cwd) {
  const port = await freePort()
  const child = spawn('sh', ['-c', command], { cwd, env: { ...process.env, PORT: String(port) }, detached: true, stdio: 'ignore' })
  const url = `http://127.0.0.1:${port}/`
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(url)).ok) return { url, stop: () => process.kill(-child.pid, 'SIGTERM') }
    } catch {
      // not up yet
    }
    await new Promise((ok) => setTimeout(ok, 200))
  }
  process.kill(-child.pid, 'SIGTERM')
  throw new Error(`${command} did not start`)
}

/** Builds and runs one project; its results (one per way it ran) and timings. */
async function runProject(project, tarball, chromium) {
  const [work, install] = await timed(() => prepare(project, tarball))
  const [, build] = await timed(() => (project.build ? sh(project.build, work) : null))
  const results = {}
  const [, run] = await timed(async () => {
    if (project.kind === 'node') {
      const out = await sh(project.run, work)
      results.run = JSON.parse(out.trim().split('\n').at(-1))
    } else if (project.kind === 'browser') {
      const dist = join(work, 'dist')
      if (existsSync(join(work, 'public'))) await cp(join(work, 'public'), dist, { recursive: true })
      for (const [label, headers] of [['page', {}], ...(project.csp ? [['csp', { 'content-security-policy': CSP }], ['csp-without-wasm', { 'content-security-policy': "script-src 'self'" }]] : [])]) {
        const site = await startStatic(dist, {}, { headers })
        try {
          results[label] = await pageResult(chromium, site.url)
        } finally {
          await site.close()
        }
      }
      if (project.dev) {
        const dev = await startDev(project.dev, work)
        try {
          results.dev = await pageResult(chromium, dev.url)
        } finally {
          dev.stop()
        }
      }
    } else {
      results.typecheck = { ok: true }
    }
  })
  const size = project.kind === 'browser' || project.build?.includes('dist/') ? await bundleSize(join(work, 'dist')) : null
  return { results, times: { install, build, run }, size }
}

/** Runs the matrix; resolves to a report `{name: {ok, error?, ways, times, size}}` (a failing project is reported, not thrown). */
export async function runMatrix({ only = [], log = console.log } = {}) {
  const selected = (await projects()).filter((p) => !only.length || only.includes(p.name))
  const { tarball, files } = await pack()
  assert.ok(files.includes('LICENSE'), 'the tarball ships LICENSE')
  const { checks } = await import(pathToFileURL(join(HERE, 'checks.js')).href)
  const entries = ['nvm-x402', 'nvm-x402/agent', 'nvm-x402/mcp', 'nvm-x402/a2a', 'nvm-x402/a2a-client', 'nvm-x402/mpp']
  const expected = await checks(...(await Promise.all(entries.map((entry) => import(entry)))))
  const chromium = selected.some((p) => p.kind === 'browser') ? await launchChromium() : null
  const report = {}
  try {
    // Installs are network-bound and builds CPU-bound; two at a time suits these 2-core machines.
    const queue = [...selected]
    const worker = async () => {
      for (let project = queue.shift(); project; project = queue.shift()) {
        try {
          const { results, times, size } = await runProject(project, tarball, chromium)
          for (const [how, result] of Object.entries(results)) {
            if (how === 'typecheck') continue
            if (how === 'csp-without-wasm') {
              assert.equal(result.code, 'wasm_load_failed', `${project.name}: without 'wasm-unsafe-eval' the first call fails as wasm_load_failed: ${JSON.stringify(result)}`)
              continue
            }
            assert.deepEqual(result, expected, `${project.name} (${how}) computed something else`)
          }
          report[project.name] = { ok: true, ways: Object.keys(results), times, size }
          log(`ok   ${project.name.padEnd(13)} install ${times.install} ms, build ${times.build} ms, run ${times.run} ms${size ? `, bundle ${(size.raw / 1024).toFixed(1)} KiB (${(size.gz / 1024).toFixed(1)} KiB gzipped)` : ''} [${Object.keys(results).join(', ')}]`)
        } catch (error) {
          report[project.name] = { ok: false, error: error.message }
          log(`FAIL ${project.name}: ${error.message.slice(0, 2000)}`)
        }
      }
    }
    await Promise.all([worker(), worker()])
  } finally {
    await chromium?.close()
  }
  return report
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2)
  const report = await runMatrix({ only: args })
  const failed = Object.entries(report).filter(([, r]) => !r.ok)
  console.log(`${Object.keys(report).length - failed.length} passed, ${failed.length} failed`)
  process.exit(failed.length ? 1 : 0)
}
