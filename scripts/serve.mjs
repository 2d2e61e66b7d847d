#!/usr/bin/env node
// The demo page's static server (Node, no dependencies): `www/` at `/`, the
// built package `pkg/` at `/pkg/`, and `/config.json` telling the page where
// the backend and the agent are. Loopback only; GET and HEAD only.
//
//   node scripts/serve.mjs [--port 8080] [--host 127.0.0.1]
//                          [--backend http://127.0.0.1:3001/] [--agent http://127.0.0.1:8787/tasks]
//                          [--mcp http://127.0.0.1:8788/mcp]
//
// Prints `demo page: http://127.0.0.1:<port>/` once listening (port 0 picks a
// free one). scripts/demo.sh runs it; the browser test imports startDemoServer.
import http from 'node:http'
import { readFile, stat } from 'node:fs/promises'
import { extname, join, resolve, sep, dirname } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.d.ts': 'text/plain; charset=utf-8',
}

// The page talks to the backend and the agent on other origins (any backend the
// environment picker selects), compiles the package's wasm, and runs nothing inline.
const CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self'",
  "img-src 'self' data:",
  'connect-src http: https:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ')

/** Maps a URL path to a file under `www/` or `pkg/`, or null when it is outside them. */
function fileFor(root, path) {
  const [base, rest] = path === '/pkg' || path.startsWith('/pkg/') ? [join(root, 'pkg'), path.slice(4)] : [join(root, 'www'), path]
  const file = resolve(base, `.${rest.endsWith('/') || rest === '' ? `${rest}/index.html` : rest}`)
  return file === base || file.startsWith(base + sep) ? file : null
}

/**
 * Starts the server. `backendUrl`, `agentUrl` and `mcpUrl` go to `/config.json`
 * (defaults: nvm-local and the two Worker examples on their usual ports).
 * Resolves to `{url, close()}`.
 */
export async function startDemoServer({ host = '127.0.0.1', port = 0, backendUrl = 'http://127.0.0.1:3001/', agentUrl = 'http://127.0.0.1:8787/tasks', mcpUrl = 'http://127.0.0.1:8788/mcp', root = ROOT } = {}) {
  const config = JSON.stringify({ backendUrl: new URL(backendUrl).href, agentUrl: new URL(agentUrl).href, mcpUrl: new URL(mcpUrl).href })
  const server = http.createServer(async (req, res) => {
    const send = (status, type, body) => {
      res.writeHead(status, {
        'content-type': type,
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
        'content-security-policy': CSP,
      })
      res.end(req.method === 'HEAD' ? undefined : body)
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD')
      return send(405, 'text/plain; charset=utf-8', 'Method not allowed\n')
    }
    let path
    try {
      path = decodeURIComponent(new URL(req.url, 'http://x').pathname)
    } catch {
      return send(400, 'text/plain; charset=utf-8', 'Bad path\n')
    }
    if (path === '/config.json') return send(200, 'application/json', config)
    const file = path.includes('\0') ? null : fileFor(root, path)
    try {
      if (!file || !(await stat(file)).isFile()) throw new Error('not a file')
      const type = TYPES[file.endsWith('.d.ts') ? '.d.ts' : extname(file)] ?? 'application/octet-stream'
      return send(200, type, await readFile(file))
    } catch {
      return send(404, 'text/plain; charset=utf-8', 'Not found\n')
    }
  })
  await new Promise((ok, fail) => {
    server.once('error', fail)
    server.listen(port, host, ok)
  })
  const where = server.address()
  const shown = where.family === 'IPv6' ? `[${where.address}]` : where.address
  return {
    url: `http://${shown}:${where.port}/`,
    close: () =>
      new Promise((ok) => {
        server.close(ok)
        server.closeAllConnections()
      }),
  }
}

function parseArgs(argv) {
  const options = {}
  const names = { '--port': 'port', '--host': 'host', '--backend': 'backendUrl', '--agent': 'agentUrl', '--mcp': 'mcpUrl' }
  for (let i = 0; i < argv.length; i += 2) {
    const name = names[argv[i]]
    if (!name || argv[i + 1] === undefined) throw new Error(`usage: serve.mjs [--port N] [--host IP] [--backend URL] [--agent URL] [--mcp URL] (got ${argv[i]})`)
    options[name] = name === 'port' ? Number(argv[i + 1]) : argv[i + 1]
  }
  return options
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    const server = await startDemoServer(parseArgs(process.argv.slice(2)))
    console.log(`demo page: ${server.url}`)
    const stop = () => server.close().then(() => process.exit(0))
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  } catch (error) {
    console.error(`serve.mjs: ${error.message}`)
    process.exit(1)
  }
}
