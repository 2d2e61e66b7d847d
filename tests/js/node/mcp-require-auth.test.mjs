// nvm-x402/mcp's createRequireAuthMiddleware, written from what the official
// SDK's tests/unit/mcp/oauth_router_require_auth_middleware.test.ts asserts:
// a Bearer token goes on (its validity is the paywall's), anything else is a
// 401 whose WWW-Authenticate points at the protected-resource metadata only
// when that URL can be built and quoted safely; then through a real Express app.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import express from 'express'
import { createRequireAuthMiddleware } from 'nvm-x402/mcp'
import * as client from 'nvm-x402'

const PRM = '/.well-known/oauth-protected-resource'

/** Runs the middleware on an Express-like request: whether next() ran, the status, the headers and the body. */
function run(middleware, headers = {}, { host = 'mcp.example.com', protocol = 'https' } = {}) {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]))
  const req = { headers: lower, protocol, get: (name) => (name.toLowerCase() === 'host' ? host : lower[name.toLowerCase()]) }
  const out = { next: 0, status: undefined, headers: {}, body: undefined }
  const res = {
    setHeader(name, value) { out.headers[name] = value; return res },
    status(code) { out.status = code; return res },
    json(body) { out.body = body; return res },
  }
  middleware(req, res, () => { out.next += 1 })
  return out
}

test('a Bearer token goes on untouched (presence only); no challenge is sent', () => {
  const mw = createRequireAuthMiddleware()
  for (const authorization of ['Bearer token-ABC', `Bearer ${'a'.repeat(1000)}`, 'Bearer   token-with-spaces', 'Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U']) {
    const out = run(mw, { Authorization: authorization })
    assert.deepEqual([out.next, out.status, out.headers], [1, undefined, {}], authorization)
  }
})

test('anything else is a 401 with the official descriptions; a malformed credential says invalid_request', () => {
  const mw = createRequireAuthMiddleware()
  for (const [authorization, description, malformed] of [
    [undefined, 'Authorization header required', false],
    ['bearer token-xyz', 'Bearer token required', true],
    ['Basic x', 'Bearer token required', true],
    ['Bearer ', 'Bearer token cannot be empty', true],
    ['Bearer    ', 'Bearer token cannot be empty', true],
  ]) {
    const out = run(mw, authorization === undefined ? {} : { authorization })
    assert.equal(out.next, 0)
    assert.equal(out.status, 401)
    assert.deepEqual(out.body, { error: 'unauthorized', error_description: description })
    const challenge = out.headers['WWW-Authenticate']
    assert.ok(challenge.startsWith(`Bearer resource_metadata="https://mcp.example.com${PRM}"`), challenge)
    assert.equal(challenge.includes('error="invalid_request"'), malformed, challenge)
  }
})

test('the challenge: the host, then the forwarded host and protocol, then a pinned baseUrl; the scoped path', () => {
  const challenge = (mw, headers, opts) => run(mw, headers, opts).headers['WWW-Authenticate']
  const mw = createRequireAuthMiddleware()
  assert.equal(challenge(mw, {}, { host: 'mcp.example.com', protocol: 'https' }), `Bearer resource_metadata="https://mcp.example.com${PRM}"`)
  assert.equal(challenge(mw, { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'mcp.public.example' }, { host: 'internal:8080', protocol: 'http' }), `Bearer resource_metadata="https://mcp.public.example${PRM}"`)
  const pinned = createRequireAuthMiddleware({ baseUrl: 'https://mcp.pinned.example/' })
  assert.equal(challenge(pinned, {}, { host: 'evil.example', protocol: 'http' }), `Bearer resource_metadata="https://mcp.pinned.example${PRM}"`)
  const scoped = createRequireAuthMiddleware({ resourceMetadataPath: `${PRM}/mcp` })
  assert.equal(challenge(scoped, {}), `Bearer resource_metadata="https://mcp.example.com${PRM}/mcp"`)
})

test('SECURITY: a host that would break the quoted string, or none, gives a 401 without a challenge', () => {
  const mw = createRequireAuthMiddleware()
  for (const host of ['evil.example"; foo="bar', '', 'a b.example', 'a.example:99999999']) {
    const out = run(mw, {}, { host })
    assert.equal(out.status, 401, host)
    assert.equal(out.headers['WWW-Authenticate'], undefined, host)
  }
  // A forwarded host is held to the same rule.
  const out = run(mw, { 'x-forwarded-host': 'evil.example", x="y' })
  assert.equal(out.headers['WWW-Authenticate'], undefined)
})

test('in an Express app: the MCP route is reached only with a Bearer token', async (t) => {
  const app = express()
  app.post('/mcp', createRequireAuthMiddleware(), (req, res) => res.json({ reached: true }))
  const server = await new Promise((ok) => { const s = app.listen(0, '127.0.0.1', () => ok(s)) })
  t.after(() => new Promise((ok) => server.close(ok)))
  const url = `http://127.0.0.1:${server.address().port}/mcp`
  const refused = await fetch(url, { method: 'POST' })
  assert.equal(refused.status, 401)
  assert.equal(refused.headers.get('www-authenticate'), `Bearer resource_metadata="http://127.0.0.1:${server.address().port}${PRM}"`)
  assert.deepEqual(await refused.json(), { error: 'unauthorized', error_description: 'Authorization header required' })
  const reached = await fetch(url, { method: 'POST', headers: { authorization: 'Bearer t' } })
  assert.deepEqual([reached.status, await reached.json()], [200, { reached: true }])
})

test('only nvm-x402/mcp exports it', () => {
  assert.equal(typeof createRequireAuthMiddleware, 'function')
  assert.equal(client.createRequireAuthMiddleware, undefined)
})
