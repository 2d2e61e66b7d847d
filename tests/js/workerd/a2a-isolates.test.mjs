// The A2A paywall's task store across isolates: two `wrangler dev` processes
// (two workerd instances, so surely two isolates) run the A2A Worker example's
// code. Worker A defines the A2ATaskStore Durable Object; worker B binds the
// same one by `script_name`, through wrangler's dev registry (a temporary one,
// shared by the two only). An unpaid message/send answered by one and its paid
// follow-up answered by the other complete once: 1 credit, whichever gets the
// follow-up, even when both get it at the same time. nvm-local knows the agent
// at both URLs (the paywall verifies for the URL it was called at).
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Payments, decodeAccessToken } from 'nvm-x402'
import { ROOT, freePort, startNvmLocal, startWrangler } from '../support/servers.mjs'
import { newSubscriber, stopAll } from '../support/gate.mjs'

const EXAMPLE = join(ROOT, 'examples/a2a-worker')
const STATUS = 'x402.payment.status'

describe('an A2A task asked for payment on one isolate and paid on another', () => {
  let nvm, a, b, registry, dirB, plan, subscriber

  /** message/send to `worker` (A2A 0.3 JSON-RPC): the JSON-RPC response. */
  async function send(worker, text, { taskId, payload } = {}) {
    const message = { kind: 'message', messageId: crypto.randomUUID(), role: 'user', parts: [{ kind: 'text', text }], ...(taskId ? { taskId } : {}) }
    if (payload) message.metadata = { [STATUS]: 'payment-submitted', 'x402.payment.payload': payload }
    const response = await fetch(`${worker.url}a2a`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'message/send', params: { message } }) })
    assert.equal(response.status, 200)
    return response.json()
  }

  before(async () => {
    const [portA, portB] = [await freePort(), await freePort()]
    nvm = await startNvmLocal({ args: ['--a2a-url', `http://127.0.0.1:${portA}`] })
    const { world } = nvm
    plan = world.plans.free.planId
    // One agent, reached at either Worker's URL.
    const builder = Payments.getInstance({ nvmApiKey: world.accounts.builder.apiKey, backendUrl: nvm.url })
    const endpoints = [{ POST: `http://127.0.0.1:${portA}/a2a` }, { POST: `http://127.0.0.1:${portB}/a2a` }]
    const { agentId } = await builder.agents.registerAgent({ name: 'A2A agent on two isolates' }, { endpoints }, [plan])
    const vars = { NVM_API_KEY: world.accounts.builder.apiKey, NVM_AGENT_ID: agentId, NVM_PLAN_ID: plan, NVM_BACKEND_URL: nvm.url }
    registry = await mkdtemp(join(tmpdir(), 'nvm-wrangler-registry-'))
    const env = { WRANGLER_REGISTRY_PATH: registry }
    a = await startWrangler({ cwd: EXAMPLE, port: portA, vars, env })
    // B: the same code; its A2A_TASKS is A's Durable Object namespace.
    dirB = await mkdtemp(join(tmpdir(), 'nvm-a2a-b-'))
    const config = join(dirB, 'wrangler.toml')
    await writeFile(
      config,
      [
        'name = "nvm-x402-a2a-example-b"',
        `main = ${JSON.stringify(join(EXAMPLE, 'src/index.js'))}`,
        'compatibility_date = "2025-01-01"',
        '[[durable_objects.bindings]]',
        'name = "A2A_TASKS"',
        'class_name = "A2ATaskStore"',
        'script_name = "nvm-x402-a2a-example"',
        '',
      ].join('\n'),
    )
    b = await startWrangler({ cwd: EXAMPLE, port: portB, vars, env, config })
    subscriber = await newSubscriber(nvm, { planId: plan, agentId })
  })
  after(async () => {
    await stopAll(b, a, nvm)
    for (const dir of [registry, dirB]) if (dir) await rm(dir, { recursive: true, force: true })
  })

  for (const [asks, pays] of [['A', 'B'], ['B', 'A']]) {
    test(`asked on ${asks}, paid on ${pays}: completed once, 1 credit; the task is then paid on both`, async () => {
      const workers = { A: a, B: b }
      const before = await subscriber.balance()
      const asked = (await send(workers[asks], `hello from ${asks}`)).result
      assert.equal(asked.status.state, 'input-required')
      assert.equal(asked.status.message.metadata[STATUS], 'payment-required')
      const payload = decodeAccessToken(await subscriber.token())
      const paid = await send(workers[pays], `hello from ${asks}`, { taskId: asked.id, payload })
      assert.equal(paid.result?.id, asked.id, JSON.stringify(paid))
      assert.equal(paid.result.status.state, 'completed')
      assert.equal(paid.result.status.message.parts[0].text, `hello from ${asks}`)
      assert.equal(paid.result.status.message.metadata[STATUS], 'payment-completed')
      assert.equal(await subscriber.balance(), before - 1n)
      // Both see the same task, paid: another follow-up, on either, is refused and charges nothing.
      for (const worker of [a, b]) {
        const again = await send(worker, 'again', { taskId: asked.id, payload })
        assert.equal(again.error?.code, -32600, JSON.stringify(again))
        const got = await (await fetch(`${worker.url}a2a`, { method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tasks/get', params: { id: asked.id } }) })).json()
        assert.equal(got.result.status.state, 'completed')
      }
      assert.equal(await subscriber.balance(), before - 1n)
    })
  }

  test('the same paid follow-up on both isolates at once: one completes, the other is refused; 1 credit', async () => {
    const before = await subscriber.balance()
    const asked = (await send(a, 'race')).result
    const payload = decodeAccessToken(await subscriber.token())
    const answers = await Promise.all([a, b].map((worker) => send(worker, 'race', { taskId: asked.id, payload })))
    const completed = answers.filter((r) => r.result?.status?.state === 'completed')
    assert.equal(completed.length, 1, JSON.stringify(answers))
    assert.equal(answers.filter((r) => r.error?.code === -32600).length, 1, 'the other: already being paid')
    assert.equal(await subscriber.balance(), before - 1n)
  })
})
