// The package loads in workerd (wrangler dev, no nodejs_compat) the way an npm
// user imports it, and its fetch transport reaches a backend from inside a Worker.
import test from 'node:test'
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import { dirname } from 'node:path'
import { startRecorder, startWrangler } from '../support/servers.mjs'

const KEY = 'local:eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIweGFiYyJ9.c2ln'

test('nvm-x402 runs inside workerd', async (t) => {
  const backend = await startRecorder()
  t.after(() => backend.close())
  backend.respond('GET', '/api/v1/protocol/plans/7', { json: { id: '7', metadata: { main: { name: 'Seven' } } } })
  const worker = await startWrangler({ cwd: dirname(fileURLToPath(import.meta.url)), vars: { NVM_API_KEY: KEY, NVM_BACKEND_URL: backend.url } })
  t.after(() => worker.stop())

  const response = await fetch(`${worker.url}tasks?q=1`, { method: 'POST' })
  assert.equal(response.status, 200)
  const out = await response.json()
  assert.deepEqual(out.decoded, { x402Version: 2, accepted: { planId: '7' } })
  assert.equal(out.paymentRequired.resource.url, `${worker.url}tasks?q=1`)
  assert.equal(out.paymentRequired.accepts[0].extra.httpVerb, 'POST')
  assert.equal(out.environment, 'local')
  assert.equal(out.error, undefined, JSON.stringify(out.error))
  assert.deepEqual(out.plan, { id: '7', metadata: { main: { name: 'Seven' } } })
  const seen = backend.requests.find((r) => r.path === '/api/v1/protocol/plans/7')
  assert.ok(seen, 'the Worker called the backend')
  assert.equal(seen.headers['nevermined-version'], '1.1')
})
