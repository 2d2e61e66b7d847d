// A task asking for payment expires on workerd: the A2A Worker example's code
// with a short wait (NVM_A2A_PENDING_TTL_SECONDS=1), its task in the
// A2ATaskStore Durable Object, against a live nvm-local behind a counting
// proxy, asked with the official A2A JS client. A thin wrapper Worker runs the
// example unchanged and adds routes, GET /peek?id= reading the task straight
// from its Durable Object (no paywall in between), so the test sees
// the object's alarm fail the task on its own. Then a payment for it is refused
// before anything is verified, nothing is charged, and tasks/get says why.
// A finished task is removed the same way (NVM_A2A_FINISHED_TTL_SECONDS=1): the
// wrapper's Durable Object (the package's, subclassed) also answers /raw, its
// storage's keys and alarm, and /ring, its alarm set to now; /store?id= writes
// to the object as the paywall does.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { TaskNotFoundError } from '@a2a-js/sdk/errors'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeAccessToken } from 'nvm-x402'
import { ROOT, freePort, startNvmLocal, startWrangler } from '../support/servers.mjs'
import { SETTLE, VERIFY, newSubscriber, startCountingProxy, stopAll } from '../support/gate.mjs'
import { STATUS, message, meta, officialClient } from '../support/a2a.mjs'

const EXAMPLE = join(ROOT, 'examples/a2a-worker')

/**
 * nvm-local, its counting proxy, and the example Worker wrapped (GET /peek?id=, /raw?id=,
 * /ring?id=, POST /store?id=) with `vars` added to its own, and a subscriber of its plan.
 */
async function startExample(vars) {
  const port = await freePort()
  const nvm = await startNvmLocal({ args: ['--a2a-url', `http://127.0.0.1:${port}`] })
  const { world } = nvm
  const plan = world.plans.free.planId
  const proxy = await startCountingProxy(nvm.url)
  const dir = await mkdtemp(join(tmpdir(), 'nvm-a2a-expiry-'))
  await writeFile(
    join(dir, 'peek.js'),
    [
      `import example, { A2ATaskStore as Store } from ${JSON.stringify(join(EXAMPLE, 'src/index.js'))}`,
      'export class A2ATaskStore extends Store {',
      '  async fetch(request) {',
      '    const { pathname } = new URL(request.url)',
      "    if (pathname === '/raw') return Response.json({ keys: [...(await this.storage.list()).keys()], alarm: await this.storage.getAlarm() })",
      "    if (pathname === '/ring') return Response.json((await this.storage.setAlarm(Date.now())) ?? true)",
      '    return super.fetch(request)',
      '  }',
      '}',
      'export default {',
      '  fetch(request, env, ctx) {',
      '    const url = new URL(request.url)',
      "    const object = () => env.A2A_TASKS.get(env.A2A_TASKS.idFromName(url.searchParams.get('id')))",
      "    if (url.pathname === '/peek') return object().fetch('https://a2a-task-store/', { method: 'POST', body: JSON.stringify({ op: 'load' }) })",
      "    if (url.pathname === '/raw' || url.pathname === '/ring') return object().fetch(`https://a2a-task-store${url.pathname}`)",
      "    if (url.pathname === '/store') return object().fetch('https://a2a-task-store/', { method: 'POST', body: request.body })",
      '    return example.fetch(request, env, ctx)',
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
  const worker = await startWrangler({
    cwd: EXAMPLE,
    config,
    port,
    vars: { NVM_API_KEY: world.accounts.builder.apiKey, NVM_AGENT_ID: world.a2aAgent.agentId, NVM_PLAN_ID: plan, NVM_BACKEND_URL: proxy.url, ...vars },
  })
  const subscriber = await newSubscriber(nvm, { planId: plan, agentId: world.a2aAgent.agentId })
  const client = await officialClient(worker.url)
  const get = async (route, id) => (await fetch(`${worker.url}${route}?id=${encodeURIComponent(id)}`)).json()
  return { nvm, proxy, worker, subscriber, client, get }
}

/** Polls `read` every 100 ms (at most 30 s) until `done(value)`; the last value. */
async function until(read, done) {
  let value = await read()
  for (let i = 0; i < 300 && !done(value); i++) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    value = await read()
  }
  return value
}

describe('a waiting A2A task expires on workerd (the Durable Object store and its alarm)', () => {
  let nvm, proxy, worker, subscriber, client

  before(async () => {
    ;({ nvm, proxy, worker, subscriber, client } = await startExample({ NVM_A2A_PENDING_TTL_SECONDS: '1' }))
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

describe('a finished A2A task is removed on workerd (its Durable Object deletes its storage at the alarm)', () => {
  let nvm, proxy, worker, subscriber, client, get

  before(async () => {
    ;({ nvm, proxy, worker, subscriber, client, get } = await startExample({ NVM_A2A_FINISHED_TTL_SECONDS: '1' }))
  })
  after(() => stopAll(worker, proxy, nvm))

  test("a second after it ended the object's alarm deletes its storage; tasks/get is then TaskNotFoundError, a payment for it refused before verify", async () => {
    const asked = await client.sendMessage({ message: message('kept a second') })
    const waiting = await get('raw', asked.id)
    assert.equal(waiting.alarm, asked.metadata.paymentExpiresAt, 'the waiting task’s expiry')
    const paid = await client.sendMessage({ message: message('kept a second', { taskId: asked.id, payload: decodeAccessToken(await subscriber.token()) }) })
    assert.equal(meta(paid)[STATUS], 'payment-completed')
    // Nothing else touches the task: wait until the alarm has run.
    const gone = await until(() => get('raw', asked.id), (raw) => raw.keys.length === 0)
    assert.deepEqual(gone, { keys: [], alarm: null }, 'deleteAll: no task, no alarm left')
    assert.equal(await get('peek', asked.id), null)
    await assert.rejects(client.getTask({ id: asked.id }), TaskNotFoundError)
    const before = await subscriber.balance()
    proxy.reset()
    await assert.rejects(client.sendMessage({ message: message('kept a second', { taskId: asked.id, payload: decodeAccessToken(await subscriber.token()) }) }), TaskNotFoundError)
    assert.deepEqual([proxy.callsTo(VERIFY).length, proxy.callsTo(SETTLE).length], [0, 0])
    assert.equal(await subscriber.balance(), before)
  })

  test('written again before its removal, the task lives on: an alarm ringing early deletes nothing and re-arms for the later removal', async () => {
    const id = `written-again-${crypto.randomUUID()}`
    const write = async (body) => (await fetch(`${worker.url}store?id=${id}`, { method: 'POST', body: JSON.stringify(body) })).json()
    const first = { kind: 'task', id, contextId: 'c', status: { state: 'working' } }
    const later = { ...first, status: { state: 'completed' } }
    const removeAt = Date.now() + 3_600_000
    assert.equal(await write({ op: 'save', task: first, removeAt: Date.now() + 500 }), true)
    assert.equal(await write({ op: 'save', task: later, removeAt }), true)
    assert.equal((await get('raw', id)).alarm, removeAt, 'the later write’s removal')
    await get('ring', id) // the alarm rings now, before what is stored falls due
    const raw = await until(() => get('raw', id), (r) => r.alarm === removeAt)
    assert.equal(raw.alarm, removeAt, 're-armed for the later removal')
    assert.deepEqual(await get('peek', id), later)
  })
})
