// A task asking for payment expires on workerd: the A2A Worker example, exactly
// as shipped, with a short wait (NVM_A2A_PENDING_TTL_SECONDS=1), its task in the
// A2ATaskStore Durable Object (which gets an alarm for the expiry), against a
// live nvm-local behind a counting proxy, asked with the official A2A JS client.
// Past the wait, the payment is refused before anything is verified, nothing is
// charged, and tasks/get shows the task failed with EXPIRED_PAYMENT.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { decodeAccessToken } from 'nvm-x402'
import { ROOT, freePort, startNvmLocal, startWrangler } from '../support/servers.mjs'
import { SETTLE, VERIFY, newSubscriber, startCountingProxy, stopAll } from '../support/gate.mjs'
import { STATUS, message, officialClient } from '../support/a2a.mjs'


const EXAMPLE = join(ROOT, 'examples/a2a-worker')
describe('a waiting A2A task expires on workerd (Durable Object store)', () => {
  let nvm, proxy, worker, plan, subscriber, client

  before(async () => {
    const port = await freePort()
    nvm = await startNvmLocal({ args: ['--a2a-url', `http://127.0.0.1:${port}`] })
    const { world } = nvm
    plan = world.plans.free.planId
    proxy = await startCountingProxy(nvm.url)
    worker = await startWrangler({
      cwd: EXAMPLE,
      port,
      vars: { NVM_API_KEY: world.accounts.builder.apiKey, NVM_AGENT_ID: world.a2aAgent.agentId, NVM_PLAN_ID: plan, NVM_BACKEND_URL: proxy.url, NVM_A2A_PENDING_TTL_SECONDS: '1' },
    })
    subscriber = await newSubscriber(nvm, { planId: plan, agentId: world.a2aAgent.agentId })
    client = await officialClient(worker.url)
  })
  after(() => stopAll(worker, proxy, nvm))

  test('past its wait, a payment for the task is refused before verify (nothing charged) and the task reads failed, EXPIRED_PAYMENT', async () => {
    const asked = await client.sendMessage({ message: message('too late') })
    assert.equal(asked.status.state, 6, 'TASK_STATE_INPUT_REQUIRED')
    const payload = decodeAccessToken(await subscriber.token())
    const before = await subscriber.balance()
    await new Promise((resolve) => setTimeout(resolve, 1500)) // past the 1 s wait
    proxy.reset()
    await assert.rejects(client.sendMessage({ message: message('too late', { taskId: asked.id, payload }) }), /The task expired.*nothing was charged/)
    assert.deepEqual([proxy.callsTo(VERIFY).length, proxy.callsTo(SETTLE).length], [0, 0])
    const got = await client.getTask({ id: asked.id })
    assert.equal(got.status.state, 4, 'TASK_STATE_FAILED')
    assert.equal(got.status.message.metadata[STATUS], 'payment-failed')
    assert.equal(got.status.message.metadata['x402.payment.error'], 'EXPIRED_PAYMENT')
    assert.equal(await subscriber.balance(), before)
  })
})
