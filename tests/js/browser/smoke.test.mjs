// The package loads in headless Chromium from its browser entry (top-level
// await, wasm fetched beside the module) and calls a backend across origins.
import test from 'node:test'
import assert from 'node:assert/strict'
import { ROOT, launchChromium, resultOfPage, startRecorder, startStatic } from '../support/servers.mjs'

const KEY = 'local:eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIweGFiYyJ9.c2ln'

test('nvm-x402 runs in headless Chromium', async (t) => {
  const backend = await startRecorder()
  t.after(() => backend.close())
  const cors = { 'access-control-allow-origin': '*', 'access-control-allow-headers': '*', 'access-control-allow-methods': '*' }
  backend.respond('OPTIONS', '*', { status: 204, headers: cors })
  backend.respond('GET', '/api/v1/protocol/plans/7/balance/0xabc', { json: { planId: '7', balance: 5, isSubscriber: true }, headers: cors })
  const page = `<!doctype html><script type="module">
    import { decodeAccessToken, encodeAccessToken, Payments, PaymentsError } from '/pkg/index.js'
    try {
      const payments = Payments.getInstance({ nvmApiKey: ${JSON.stringify(KEY)}, backendUrl: ${JSON.stringify(backend.url)} })
      const balance = await payments.plans.getPlanBalance('7')
      let error
      try { Payments.getInstance({ nvmApiKey: 'local:nope' }) } catch (e) { error = { isPaymentsError: e instanceof PaymentsError, isError: e instanceof Error, code: e.code, message: e.message } }
      window.result = { decoded: decodeAccessToken(encodeAccessToken({ a: 1 })), balance, error }
    } catch (e) { window.result = { failed: String(e && e.stack || e) } }
  </script>`
  const result = await resultOfPage(t, page)
  assert.equal(result.failed, undefined, result.failed)
  assert.deepEqual(result.decoded, { a: 1 })
  assert.deepEqual(result.balance, { planId: '7', balance: '5', isSubscriber: true })
  assert.deepEqual(result.error, { isPaymentsError: true, isError: true, code: 'validation', message: 'Invalid NVM API Key' })
  assert.equal(backend.requests.filter((r) => r.method === 'GET').length, 1)
})

test('in a browser, a paid request the agent redirects is not followed: the token stays with the checked origin', async (t) => {
  const [backend, agent, elsewhere] = await Promise.all([startRecorder(), startRecorder(), startRecorder()])
  t.after(() => Promise.all([backend, agent, elsewhere].map((s) => s.close())))
  const cors = { 'access-control-allow-origin': '*', 'access-control-allow-headers': '*', 'access-control-allow-methods': '*', 'access-control-expose-headers': '*' }
  for (const server of [backend, agent, elsewhere]) server.respond('OPTIONS', '*', { status: 204, headers: cors })
  const token = Buffer.from(JSON.stringify({ x402Version: 2, accepted: { planId: '10' } })).toString('base64url')
  backend.respond('POST', '/api/v1/x402/permissions', { status: 201, json: { accessToken: token }, headers: cors })
  backend.respond('GET', '/api/v1/delegation', { json: { delegations: [{ delegationId: 'd1', provider: 'erc4337', status: 'Active' }] }, headers: cors })
  backend.respond('GET', '/api/v1/protocol/plans/10', { json: { id: '10', registry: { price: { isCrypto: true } } }, headers: cors })
  const required = Buffer.from(JSON.stringify({ x402Version: 2, resource: { url: agent.url }, accepts: [{ scheme: 'nvm:erc4337', network: 'eip155:84532', planId: '10', extra: { version: '1' } }] })).toString('base64')
  agent.respond('POST', '/tasks', (call) =>
    call.headers['payment-signature'] ? { status: 307, headers: { ...cors, location: `${elsewhere.url}loot` } } : { status: 402, headers: { ...cors, 'payment-required': required }, json: {} },
  )
  elsewhere.respond('*', '*', { json: { stolen: true }, headers: cors })
  const page = `<!doctype html><script type="module">
    import { Payments } from '/pkg/index.js'
    const payments = Payments.getInstance({ nvmApiKey: ${JSON.stringify(KEY)}, backendUrl: ${JSON.stringify(backend.url)} })
    try {
      const { response } = await payments.fetch(${JSON.stringify(`${agent.url}tasks`)}, { method: 'POST', body: '{}' }, { planIds: ['10'] })
      window.result = { status: response.status }
    } catch (e) { window.result = { code: e.code, message: e.message } }
  </script>`
  const result = await resultOfPage(t, page)
  assert.equal(result.code, 'redirect_not_followed', JSON.stringify(result))
  assert.equal(agent.requests.filter((r) => r.headers['payment-signature'] === token).length, 1, 'the token went to the agent once')
  assert.deepEqual(elsewhere.requests.filter((r) => r.method !== 'OPTIONS'), [], 'and never to the other origin')
})

test('the nvm-x402/asset entry fetches the .wasm in a browser: not_ready before ready(), then the same answers', async (t) => {
  const page = `<!doctype html><script type="module">
    const m = await import('/pkg/asset.js')
    let early
    try { m.decodeAccessToken('e30') } catch (e) { early = e.code }
    await m.ready()
    window.result = { early, decoded: m.decodeAccessToken(m.encodeAccessToken({ a: 1 })) }
  </script>`
  const site = await startStatic(ROOT, { '/': { type: 'text/html', body: page } })
  t.after(() => site.close())
  const chromium = await launchChromium()
  t.after(() => chromium.close())
  const tab = await chromium.context.newPage()
  const wasm = []
  tab.on('request', (r) => r.url().endsWith('.wasm') && wasm.push(r.url()))
  await tab.goto(site.url)
  await tab.waitForFunction(() => window.result !== undefined, null, { timeout: 15_000 })
  assert.deepEqual(await tab.evaluate(() => window.result), { early: 'not_ready', decoded: { a: 1 } })
  assert.deepEqual(wasm, [`${site.url}pkg/nvm_x402_bg.wasm`], 'it fetched the .wasm beside it')
})
