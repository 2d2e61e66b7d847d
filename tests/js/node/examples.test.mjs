// The Express example (examples/express), started as its README says against a
// live nvm-local whose demo agent is registered at the server's URL: a 402
// without a token, and a paid request through fetchWithPayment whose credit is
// burned. The server is stopped by the test.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { Payments, decodePaymentHeader } from 'nvm-x402'
import { NVM_LOCAL_BUILT } from '../support/nvm.mjs'
import { ROOT, freePort, spawnUntil, startNvmLocal } from '../support/servers.mjs'

test('examples/express: 402 without a token, paid through nvm-local with one', { skip: !NVM_LOCAL_BUILT && 'nvm-local is not built (scripts/build.sh --all)' }, async (t) => {
  const port = await freePort()
  const live = await startNvmLocal({ args: ['--agent-url', `http://127.0.0.1:${port}`] })
  t.after(() => live.stop())
  const { world } = live
  const planId = world.plans.free.planId
  const server = await spawnUntil(process.execPath, [join(ROOT, 'examples/express/server.mjs')], {
    env: { ...process.env, NVM_API_KEY: world.accounts.builder.apiKey, NVM_AGENT_ID: world.agent.agentId, NVM_PLAN_ID: planId, NVM_BACKEND_URL: live.url, PORT: String(port) },
    ready: (out) => out.match(/paid agent on (http:\/\/127\.0\.0\.1:\d+)/)?.[1],
  })
  t.after(() => server.stop())
  const url = `${server.ready}/tasks`
  assert.equal(url, world.agent.url, 'the demo agent is registered at the server\'s POST /tasks')
  const refused = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"prompt":"hi"}' })
  assert.equal(refused.status, 402)
  assert.equal(decodePaymentHeader(refused.headers.get('payment-required')).accepts[0].planId, planId)
  const payments = Payments.getInstance({ nvmApiKey: world.accounts.subscriber.apiKey, backendUrl: live.url })
  await payments.plans.orderPlan(planId)
  const before = BigInt((await payments.plans.getPlanBalance(planId)).balance)
  const { response, paymentResponse } = await payments.fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"prompt":"hi"}' }, { planIds: [planId] })
  assert.equal(response.status, 200)
  const body = await response.json()
  assert.equal(body.answer, 'You asked: hi')
  assert.ok(body.agentRequestId, 'req.paymentContext reached the handler')
  assert.equal(paymentResponse.creditsRedeemed, '1')
  assert.equal(before - BigInt((await payments.plans.getPlanBalance(planId)).balance), 1n)
  assert.deepEqual(await (await fetch(`${server.ready}/health`)).json(), { ok: true })
})
