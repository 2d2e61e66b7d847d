// Test support: loopback servers and runtimes the JS tests drive. Every server
// binds 127.0.0.1 on a free port and is stopped by the test that started it.
import http from 'node:http'
import net from 'node:net'
import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { extname, join, resolve, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')

/** A free TCP port on 127.0.0.1 (closed again before returning). */
export async function freePort() {
  const server = net.createServer()
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok))
  const { port } = server.address()
  await new Promise((ok) => server.close(ok))
  return port
}

/**
 * An HTTP server that records every request and answers from a script.
 * `recorder.respond(method, path, answer)` sets the answer for a route (path
 * without query; `*` matches any); an answer is `{status, json}`, `{status, body,
 * headers}`, `{delayMs, ...}`, `{destroy: true}` (drop the connection), `{hang:
 * true}` (never answer; the connection is dropped when the recorder closes), or
 * a function `(request) => answer`. Unscripted routes answer 404 with a
 * backend-style envelope.
 */
export async function startRecorder() {
  const requests = []
  const routes = []
  const server = http.createServer(async (req, res) => {
    const chunks = []
    for await (const chunk of req) chunks.push(chunk)
    const body = Buffer.concat(chunks).toString('utf8')
    let json
    try {
      json = body ? JSON.parse(body) : undefined
    } catch {
      json = undefined
    }
    const path = req.url.split('?')[0]
    const record = { method: req.method, url: req.url, path, headers: req.headers, body, json }
    requests.push(record)
    const route = routes.findLast((r) => (r.method === '*' || r.method === req.method) && (r.path === '*' || r.path === path))
    let answer = route ? route.answer : { status: 404, json: { code: 'BCK.TEST.0404', message: `no scripted answer for ${req.method} ${path}`, httpStatus: 404 } }
    if (typeof answer === 'function') answer = await answer(record)
    if (answer.hang) return
    if (answer.delayMs) await new Promise((ok) => setTimeout(ok, answer.delayMs))
    if (answer.destroy) {
      req.socket.destroy()
      return
    }
    const headers = { ...(answer.headers ?? {}) }
    let out = answer.body ?? ''
    if (answer.json !== undefined) {
      out = JSON.stringify(answer.json)
      headers['content-type'] ??= 'application/json'
    }
    res.writeHead(answer.status ?? 200, headers)
    res.end(out)
  })
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok))
  const url = `http://127.0.0.1:${server.address().port}/`
  return {
    url,
    requests,
    respond(method, path, answer) {
      routes.push({ method, path, answer })
      return this
    },
    last() {
      return requests[requests.length - 1]
    },
    reset() {
      requests.length = 0
      routes.length = 0
    },
    close: () =>
      new Promise((ok) => {
        server.close(ok)
        server.closeAllConnections()
      }),
  }
}

const TYPES = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html; charset=utf-8', '.css': 'text/css', '.json': 'application/json', '.svg': 'image/svg+xml' }

/** A static file server over `root` (paths are confined to it). `extra` maps paths to `{type, body}`; `headers` go on every answer. */
export async function startStatic(root, extra = {}, { headers: always = {} } = {}) {
  const server = http.createServer(async (req, res) => {
    for (const [name, value] of Object.entries(always)) res.setHeader(name, value)
    const path = decodeURIComponent(req.url.split('?')[0])
    if (extra[path]) {
      res.writeHead(200, { 'content-type': extra[path].type })
      res.end(extra[path].body)
      return
    }
    const file = resolve(join(root, path.endsWith('/') ? `${path}index.html` : path))
    if (!file.startsWith(resolve(root))) {
      res.writeHead(403)
      res.end()
      return
    }
    try {
      const bytes = await readFile(file)
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' })
      res.end(bytes)
    } catch {
      res.writeHead(404)
      res.end()
    }
  })
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok))
  return { url: `http://127.0.0.1:${server.address().port}/`, close: () =>
      new Promise((ok) => {
        server.close(ok)
        server.closeAllConnections()
      }) }
}

// Children run in their own process group (so a stop reaches wrangler's workerd too); if this
// test process ends without stopping one (a failed or cancelled test), take the groups down with it.
const running = new Set()
function killRunning() {
  for (const pid of running) {
    try {
      process.kill(-pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
}
process.once('exit', killRunning)
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    killRunning()
    process.exit(128 + (signal === 'SIGINT' ? 2 : 15))
  })
}

/** Spawns a process and resolves once `ready(output)` is true; rejects on exit or timeout. */
export function spawnUntil(command, args, { cwd = ROOT, env = {}, ready, timeoutMs = 60_000 }) {
  const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  running.add(child.pid)
  child.once('exit', () => running.delete(child.pid))
  let output = ''
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((ok) => child.once('exit', ok))
    try {
      process.kill(-child.pid, 'SIGTERM')
    } catch {
      return
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }, 5000)
    await exited
    clearTimeout(timer)
  }
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => {
      stop()
      fail(new Error(`${command} not ready after ${timeoutMs} ms:\n${output}`))
    }, timeoutMs)
    let resolved = false
    const onData = (chunk) => {
      output += chunk
      if (resolved) return
      const found = ready(output)
      if (found) {
        resolved = true
        clearTimeout(timer)
        ok({ child, output: () => output, ready: found, stop })
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.once('exit', (code) => {
      clearTimeout(timer)
      if (!resolved) fail(new Error(`${command} exited (${code}) before it was ready:\n${output}`))
    })
  })
}

/** Starts nvm-local (`target/release/nvm-local`) in memory on a free port; returns its URL and seeded world. */
export async function startNvmLocal({ args = [] } = {}) {
  const proc = await spawnUntil(join(ROOT, 'target/release/nvm-local'), ['--memory', '--port', '0', ...args], {
    ready: (out) => out.match(/nvm-local listening on (http:\/\/127\.0\.0\.1:\d+)/)?.[1],
  })
  const url = `${proc.ready}/`
  const world = await (await fetch(`${url}local/v1/demo`)).json()
  return { url, world, stop: proc.stop }
}

/** The environment that keeps wrangler offline and quiet (see shared/toolchain.md). */
export const WRANGLER_ENV = {
  WRANGLER_SEND_METRICS: 'false',
  WRANGLER_SEND_ERROR_REPORTS: 'false',
  WRANGLER_HIDE_BANNER: 'true',
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
  CI: 'true',
}

/**
 * Runs `wrangler dev --local` in `cwd` on a free port with `--var`s; resolves when workerd is ready.
 * `config`: another wrangler.toml; `env`: more environment (e.g. `WRANGLER_REGISTRY_PATH`, the dev
 * registry through which Workers of several `wrangler dev` processes reach each other's Durable Objects).
 */
export async function startWrangler({ cwd, vars = {}, port, config, env = {} }) {
  port ??= await freePort()
  const persist = await mkdtemp(join(tmpdir(), 'nvm-wrangler-'))
  const args = ['dev', '--local', '--ip', '127.0.0.1', '--port', String(port), '--persist-to', persist, '--show-interactive-dev-session=false']
  if (config) args.push('--config', config)
  for (const [name, value] of Object.entries(vars)) args.push('--var', `${name}:${value}`)
  const url = `http://127.0.0.1:${port}/`
  const proc = await spawnUntil(join(ROOT, 'node_modules/.bin/wrangler'), args, { cwd, env: { ...WRANGLER_ENV, ...env }, ready: (out) => out.includes('Ready on') })
  // "Ready" is printed before the socket accepts on some versions: wait until it answers.
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(url, { method: 'OPTIONS' })
      break
    } catch {
      await new Promise((ok) => setTimeout(ok, 100))
    }
  }
  return {
    url,
    output: proc.output,
    stop: async () => {
      await proc.stop()
      await rm(persist, { recursive: true, force: true })
    },
  }
}

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

/**
 * Serves `page` (HTML) at `/` beside the repository (so it can import `/pkg/...`), opens it in
 * headless Chromium and resolves to what it sets `window.result` to; everything is closed after `t`.
 */
export async function resultOfPage(t, page, { timeout = 15_000 } = {}) {
  const site = await startStatic(ROOT, { '/': { type: 'text/html', body: page } })
  t.after(() => site.close())
  const chromium = await launchChromium()
  t.after(() => chromium.close())
  const tab = await chromium.context.newPage()
  await tab.goto(site.url)
  await tab.waitForFunction(() => window.result !== undefined, null, { timeout })
  return tab.evaluate(() => window.result)
}

/** Debian's headless Chromium driven by playwright-core, with a fresh profile. */
export async function launchChromium() {
  const { chromium } = await import('playwright-core')
  const profile = await mkdtemp(join(tmpdir(), 'nvm-chromium-'))
  const context = await chromium.launchPersistentContext(profile, { executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, headless: true })
  return {
    context,
    close: async () => {
      await context.close()
      await rm(profile, { recursive: true, force: true })
    },
  }
}
