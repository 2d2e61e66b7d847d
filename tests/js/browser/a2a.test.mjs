// The paying A2A client in headless Chromium: the page (nvm-x402/a2a-client's browser entry)
// reads the A2A Worker example's card on workerd, is asked for payment in band and
// pays on the same task through nvm-local, across origins (CORS), in one call.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { ROOT, freePort, resultOfPage, startNvmLocal, startWrangler } from '../support/servers.mjs'
import { newSubscriber, stopAll } from '../support/gate.mjs'

test('in a browser, payments.a2a pays an A2A agent in band: 1 credit, the answer and its receipt', async (t) => {
  const port = await freePort()
  const nvm = await startNvmLocal({ args: ['--a2a-url', `http://127.0.0.1:${port}`] })
  t.after(() => stopAll(nvm))
  const { world } = nvm
  const plan = world.plans.free.planId
  const worker = await startWrangler({
    cwd: join(ROOT, 'examples/a2a-worker'),
    port,
    vars: { NVM_API_KEY: world.accounts.builder.apiKey, NVM_AGENT_ID: world.a2aAgent.agentId, NVM_PLAN_ID: plan, NVM_BACKEND_URL: nvm.url },
  })
  t.after(() => stopAll(worker))
  const subscriber = await newSubscriber(nvm, { planId: plan, agentId: world.a2aAgent.agentId })
  const before = await subscriber.balance()
  const page = `<!doctype html><script type="module">
    import { Payments } from '/pkg/a2a-client/index.js'
    try {
      const payments = Payments.getInstance({ nvmApiKey: ${JSON.stringify(subscriber.apiKey)}, backendUrl: ${JSON.stringify(nvm.url)} })
      const agent = await payments.a2a.getClient({ agentBaseUrl: ${JSON.stringify(worker.url)}, planIds: [${JSON.stringify(plan)}], eager: false })
      const answer = await agent.sendA2AMessage({ message: { kind: 'message', messageId: crypto.randomUUID(), role: 'user', parts: [{ kind: 'text', text: 'from a browser' }] } })
      window.result = { state: answer.result.status.state, text: answer.result.status.message.parts[0].text, receipt: answer.paymentResponse }
    } catch (e) { window.result = { failed: String(e && e.stack || e), code: e.code } }
  </script>`
  const result = await resultOfPage(t, page, { timeout: 30_000 })
  assert.equal(result.failed, undefined, `${result.code}: ${result.failed}`)
  assert.equal(result.state, 'completed')
  assert.equal(result.text, 'from a browser')
  assert.equal(result.receipt.creditsRedeemed, '1')
  assert.equal(await subscriber.balance(), before - 1n)
})
