// A task asking for payment expires on workerd: the A2A Worker example's code
// with a short wait (NVM_A2A_PENDING_TTL_SECONDS=1), its task in the
// A2ATaskStore Durable Object, against a live nvm-local behind a counting
// proxy, asked with the official A2A JS client. A thin wrapper Worker runs the
// example unchanged and adds one route, GET /peek?id=, that reads the task
// straight from its Durable Object (no paywall in between), so the test sees
// the object's alarm fail the task on its own. Then a payment for it is refused
// before anything is verified, nothing is charged, and tasks/get says why.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeAccessToken } from 'nvm-x402'
import { ROOT, freePort, startNvmLocal, startWrangler } from '../support/servers.mjs'
import { SETTLE, VERIFY, newSubscriber, startCountingProxy, stopAll } from '../support/gate.mjs'
import { STATUS, message, meta, officialClient } from '../support/a2a.mjs'

const EXAMPLE = join(ROOT, 'examples/a2a-worker')

describe('a waiting A2A task expires on workerd (the Durable Object store and its alarm)', () => {
  let nvm, proxy, worker, plan, subscriber, client

  before(async () => {
    const port = await freePort()
    nvm = await startNvmLocal({ args: ['--a2a-url', `http://127.0.0.1:${port}`] })
    const { world } = nvm
    plan = world.plans.free.planId
    proxy = await startCountingProxy(nvm.url)
    const dir = await mkdtemp(join(tmpdir(), 'nvm-a2a-expiry-'))
    await writeFile(
      join(dir, 'peek.js'),
      [
        `import example, { A2ATaskStore } from ${JSON.stringify(join(EXAMPLE, 'src/index.js'))}`,
        'export { A2ATaskStore }',
        'export default {',
        '  fetch(request, env, ctx) {',
        '    const url = new URL(request.url)',
        "    if (url.pathname !== '/peek') return example.fetch(request, env, ctx)",
        "    const id = env.A2A_TASKS.idFromName(url.searchParams.get('id'))",
        "    return env.A2A_TASKS.get(id).fetch('https://a2a-task-store/', { method: 'POST', body: JSON.stringify({ op: 'load' }) })",
        '  },',
        '}',
        '',
      ].join('\n'),
    )
    const config = join(dir, 'wrangler.toml')
    await writeFile(
      config,
      [
        'name = "nvm-x402-a2a-expiry"',
        `main = ${JSON.stringify(join(dir, 'peek.js'))}`,
        'compatibility_date = "2025-01-01"',
        '[[durable_objects.bindings]]',
        'name = "A2A_TASKS"',
        'class_name = "A2ATaskStore"',
        '[[migrations]]',
        'tag = "v1"',
        'new_sqlite_classes = ["A2ATaskStore"]',
        '',
      ].join('\n'),
    )
    worker = await startWrangler({
      cwd: EXAMPLE,
      config,
      port,
      vars: { NVM_API_KEY: world.accounts.builder.apiKey, NVM_AGENT_ID: world.a2aAgent.agentId, NVM_PLAN_ID: plan, NVM_BACKEND_URL: proxy.url, NVM_A2A_PENDING_TTL_SECONDS: '1' },
    })
    subscriber = await newSubscriber(nvm, { planId: plan, agentId: world.a2aAgent.agentId })
    client = await officialClient(worker.url)
  })
  after(() => stopAll(worker, proxy, nvm))

  test("past its wait the object's alarm fails the task; a payment for it is then refused before verify, nothing charged, and tasks/get says EXPIRED_PAYMENT", async () => {
    const asked = await client.sendMessage({ message: message('too late') })
    assert.equal(asked.status.state, 6, 'TASK_STATE_INPUT_REQUIRED')
    const peek = async () => (await fetch(`${worker.url}peek?id=${asked.id}`)).json()
    assert.equal((await peek()).status.state, 'input-required')
    const payload = decodeAccessToken(await subscriber.token())
    const before = await subscriber.balance()
    // Wait past the 1 s wait until the alarm has run (nothing else touches the task meanwhile).
    let kept = await peek()
    for (let i = 0; i < 300 && kept.status.state === 'input-required'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      kept = await peek()
    }
    assert.equal(kept.status.state, 'failed')
    assert.equal(kept.status.message.metadata[STATUS], 'payment-failed')
    assert.equal(kept.status.message.metadata['x402.payment.error'], 'EXPIRED_PAYMENT')
    assert.ok(kept.history.every((m) => m.role === 'user'), 'only the client’s message')
    proxy.reset()
    await assert.rejects(client.sendMessage({ message: message('too late', { taskId: asked.id, payload }) }), /The task expired.*nothing was charged/)
    assert.deepEqual([proxy.callsTo(VERIFY).length, proxy.callsTo(SETTLE).length], [0, 0])
    const got = await client.getTask({ id: asked.id })
    assert.equal(got.status.state, 4, 'TASK_STATE_FAILED')
    assert.equal(meta(got)['x402.payment.error'], 'EXPIRED_PAYMENT')
    assert.equal(await subscriber.balance(), before)
  })
})
