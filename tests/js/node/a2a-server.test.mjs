// The A2A paywall (nvm-x402/a2a) in-process in Node, its task store in memory,
// against a live nvm-local behind a counting proxy; the official A2A JS client
// 1.x talks to it through its fetchImpl. What a waiting task becomes when its
// time runs out, tasks/cancel (of a waiting task, and of a run its executor
// stops), the official A2A server's hooks (one that throws changes nothing),
// and A2A 1.0's method names (answered "Method not found", nothing run); a
// finished task removed finishedTaskTtlSeconds after it ended (TaskNotFoundError
// then). The stores' expiries and removals are checked here on their own
// (InMemoryA2ATaskStore on a mocked clock, the Durable Object's alarm on a
// storage in memory) and end to end on workerd (tests/js/workerd/a2a-expiry.test.mjs).
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { JsonRpcTransportFactory } from '@a2a-js/sdk/client'
import { TaskNotFoundError } from '@a2a-js/sdk/errors'
import { decodeAccessToken } from 'nvm-x402'
import { Payments, buildPaymentAgentCard, InMemoryA2ATaskStore, A2ATaskStore } from 'nvm-x402/a2a'
import { NVM_LOCAL_BUILT } from '../support/nvm.mjs'
import { startNvmLocal } from '../support/servers.mjs'
import { SETTLE, VERIFY, newSubscriber, startCountingProxy, stopAll } from '../support/gate.mjs'
import { STATUS, message, meta, officialClient } from '../support/a2a.mjs'

const ORIGIN = 'http://a2a.test'

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * The echo executor; a message "wait for cancel" runs until its cancelTask is called (it then
 * publishes the canceled status and reports no credits). `runs` counts every execute.
 */
function echoExecutor() {
  const waiting = new Map()
  const executor = {
    runs: 0,
    started: undefined,
    async execute({ userMessage, taskId, contextId }, eventBus) {
      executor.runs++
      const text = userMessage.parts.filter((p) => p.kind === 'text').map((p) => p.text).join('')
      if (text === 'wait for cancel') {
        const canceled = new Promise((resolve) => waiting.set(taskId, resolve))
        executor.started?.(taskId)
        await canceled
        eventBus.publish({ kind: 'status-update', taskId, contextId, status: { state: 'canceled' }, final: true })
        return
      }
      eventBus.publish({ kind: 'artifact-update', taskId, contextId, artifact: { artifactId: 'echo', parts: [{ kind: 'text', text }] } })
      const reply = { kind: 'message', messageId: crypto.randomUUID(), role: 'agent', parts: [{ kind: 'text', text }], taskId, contextId }
      eventBus.publish({ kind: 'status-update', taskId, contextId, status: { state: 'completed', message: reply }, final: true, metadata: { creditsUsed: 1 } })
    },
    async cancelTask(taskId) {
      waiting.get(taskId)?.()
    },
  }
  return executor
}

describe('the A2A paywall in Node, its tasks in memory', { skip: !NVM_LOCAL_BUILT && 'nvm-local is not built' }, () => {
  let nvm, proxy, world, plan, subscriber, payments, card

  /** A paywall over this card and `options`, and the official client reaching it in-process. */
  async function serve(options = {}) {
    const executor = options.executor ?? echoExecutor()
    const store = options.taskStore ?? new InMemoryA2ATaskStore()
    const server = payments.a2a.paywall({ agentCard: card, executor, taskStore: store, ...options })
    const fetchImpl = (input, init) => server.fetch(new Request(input, init))
    return { server, executor, store, fetchImpl, client: await officialClient(ORIGIN, fetchImpl) }
  }

  before(async () => {
    nvm = await startNvmLocal({ args: ['--a2a-url', ORIGIN] })
    world = nvm.world
    plan = world.plans.free.planId
    proxy = await startCountingProxy(nvm.url)
    payments = Payments.getInstance({ nvmApiKey: world.accounts.builder.apiKey, backendUrl: proxy.url })
    card = buildPaymentAgentCard(
      { name: 'echo', description: 'echo', version: '1.0.0', protocolVersion: '0.3.0', url: `${ORIGIN}/a2a`, preferredTransport: 'JSONRPC', capabilities: { streaming: true }, defaultInputModes: ['text/plain'], defaultOutputModes: ['text/plain'], skills: [] },
      { agentId: world.a2aAgent.agentId, planId: plan, credits: 1, paymentType: 'fixed' },
    )
    subscriber = await newSubscriber(nvm, { planId: plan, agentId: world.a2aAgent.agentId })
  })
  after(() => stopAll(proxy, nvm))

  test('a task left waiting past pendingTaskTtlSeconds expires: the store holds it failed, a payment for it is refused before verify, nothing charged', async () => {
    const { client, store, executor } = await serve({ pendingTaskTtlSeconds: 1 })
    const asked = await client.sendMessage({ message: message('too late') })
    assert.equal(meta(asked)[STATUS], 'payment-required')
    const payload = decodeAccessToken(await subscriber.token())
    const before = await subscriber.balance()
    await sleep(1500) // past the TTL
    // The store's own sweep (no paywall in between) made it expired.
    const kept = await store.load(asked.id)
    assert.equal(kept.status.state, 'failed')
    assert.equal(kept.status.message.metadata[STATUS], 'payment-failed')
    assert.equal(kept.status.message.metadata['x402.payment.error'], 'EXPIRED_PAYMENT')
    proxy.reset()
    await assert.rejects(client.sendMessage({ message: message('too late', { taskId: asked.id, payload }) }), /The task expired.*nothing was charged/)
    assert.deepEqual([proxy.callsTo(VERIFY).length, proxy.callsTo(SETTLE).length], [0, 0])
    assert.equal(executor.runs, 0)
    const got = await client.getTask({ id: asked.id })
    assert.equal(got.status.state, 4, 'TASK_STATE_FAILED')
    assert.equal(await subscriber.balance(), before)
  })

  test('a task paid in time does not expire, and the default wait is 15 minutes', async () => {
    const { client, store } = await serve({ pendingTaskTtlSeconds: 60 })
    const asked = await client.sendMessage({ message: message('in time') })
    const paid = await client.sendMessage({ message: message('in time', { taskId: asked.id, payload: decodeAccessToken(await subscriber.token()) }) })
    assert.equal(paid.status.state, 3, 'TASK_STATE_COMPLETED')
    assert.equal((await store.load(asked.id)).status.state, 'completed')
    const plain = await serve()
    const sent = Date.now()
    const waiting = await plain.client.sendMessage({ message: message('default') })
    const answered = Date.now()
    const expiresAt = (await plain.store.load(waiting.id)).metadata.paymentExpiresAt
    assert.ok(expiresAt >= sent + 900_000 && expiresAt <= answered + 900_000, `${expiresAt - sent} ms after the message`)
    assert.throws(() => payments.a2a.paywall({ agentCard: card, executor: echoExecutor(), pendingTaskTtlSeconds: 0 }), (e) => e.code === 'validation' && /pendingTaskTtlSeconds/.test(e.message))
  })

  test('a finished task is removed finishedTaskTtlSeconds after it ended: the store drops it, tasks/get is TaskNotFoundError (-32001), a payment for it is refused before verify', async () => {
    const { client, store, executor } = await serve({ finishedTaskTtlSeconds: 1 })
    const asked = await client.sendMessage({ message: message('kept a while') })
    const sent = Date.now()
    const paid = await client.sendMessage({ message: message('kept a while', { taskId: asked.id, payload: decodeAccessToken(await subscriber.token()) }) })
    const answered = Date.now()
    assert.equal(meta(paid)[STATUS], 'payment-completed')
    const kept = await store.load(asked.id)
    assert.equal(kept.status.state, 'completed')
    const { removeAt } = kept.metadata
    assert.ok(removeAt >= sent + 1000 && removeAt <= answered + 1000, `${removeAt - sent} ms after the payment`)
    assert.equal((await client.getTask({ id: asked.id })).status.state, 3, 'TASK_STATE_COMPLETED')
    await sleep(Math.max(0, removeAt - Date.now()) + 100) // past its removal
    // The store's own sweep (no paywall in between) dropped it.
    assert.equal(await store.load(asked.id), undefined)
    await assert.rejects(client.getTask({ id: asked.id }), TaskNotFoundError)
    const before = await subscriber.balance()
    proxy.reset()
    await assert.rejects(client.sendMessage({ message: message('kept a while', { taskId: asked.id, payload: decodeAccessToken(await subscriber.token()) }) }), TaskNotFoundError)
    assert.deepEqual([proxy.callsTo(VERIFY).length, proxy.callsTo(SETTLE).length], [0, 0])
    assert.equal(executor.runs, 1)
    assert.equal(await subscriber.balance(), before)
    // By default a finished task is kept 7 days.
    const plain = await serve()
    const again = await plain.client.sendMessage({ message: message('default') })
    const start = Date.now()
    await plain.client.sendMessage({ message: message('default', { taskId: again.id, payload: decodeAccessToken(await subscriber.token()) }) })
    const end = Date.now()
    const at = (await plain.store.load(again.id)).metadata.removeAt
    const week = 7 * 24 * 3600 * 1000
    assert.ok(at >= start + week && at <= end + week, `${at - start} ms after the payment`)
    assert.throws(() => payments.a2a.paywall({ agentCard: card, executor: echoExecutor(), finishedTaskTtlSeconds: 0 }), (e) => e.code === 'validation' && /finishedTaskTtlSeconds/.test(e.message))
  })

  test('tasks/cancel of a waiting task: canceled, a payment for it refused, nothing charged; an ended task is not cancelable', async () => {
    const { client, executor } = await serve()
    const asked = await client.sendMessage({ message: message('cancel me') })
    const canceled = await client.cancelTask({ id: asked.id })
    assert.equal(canceled.status.state, 5, 'TASK_STATE_CANCELED')
    assert.equal(canceled.status.message.metadata[STATUS], 'payment-rejected')
    const before = await subscriber.balance()
    proxy.reset()
    await assert.rejects(client.sendMessage({ message: message('cancel me', { taskId: asked.id, payload: decodeAccessToken(await subscriber.token()) }) }), /The task was canceled/)
    assert.equal(proxy.callsTo(VERIFY).length, 0)
    assert.equal(executor.runs, 0)
    assert.equal(await subscriber.balance(), before)
    assert.equal((await client.getTask({ id: asked.id })).status.state, 5)
    // Canceled again: as it is. Paid and completed: not cancelable (-32002).
    assert.equal((await client.cancelTask({ id: asked.id })).status.state, 5)
    const done = await client.sendMessage({ message: message('done') })
    await client.sendMessage({ message: message('done', { taskId: done.id, payload: decodeAccessToken(await subscriber.token()) }) })
    await assert.rejects(client.cancelTask({ id: done.id }), (e) => /not cancelable/i.test(e.message))
    await assert.rejects(client.cancelTask({ id: 'no-such-task' }), /not found/i)
  })

  test('tasks/cancel of a paid run here: the executor stops (cancelTask), the run settles what it reports (nothing), the task ends canceled', async () => {
    const { client, executor } = await serve()
    const asked = await client.sendMessage({ message: message('wait for cancel') })
    const running = new Promise((resolve) => (executor.started = resolve))
    const before = await subscriber.balance()
    proxy.reset()
    const paying = client.sendMessage({ message: message('wait for cancel', { taskId: asked.id, payload: decodeAccessToken(await subscriber.token()) }) })
    await running
    const canceled = await client.cancelTask({ id: asked.id })
    assert.equal(canceled.status.state, 5)
    const answer = await paying
    assert.equal(answer.status.state, 5)
    assert.equal(proxy.callsTo(VERIFY).length, 1)
    assert.equal(proxy.callsTo(SETTLE).length, 0, 'no credits reported: nothing settled')
    assert.equal(await subscriber.balance(), before)
  })

  test('tasks/resubscribe: the task as stored, one event; a task whose settle failed shows no paid text through tasks/get or tasks/resubscribe', async () => {
    const { client } = await serve()
    const asked = await client.sendMessage({ message: message('secret text') })
    const again = []
    for await (const event of client.resubscribeTask({ id: asked.id })) again.push(event.payload)
    assert.deepEqual(again.map((e) => e.$case), ['task'])
    assert.equal(again[0].value.status.state, 6)
    proxy.intercept('POST', SETTLE, { status: 200, json: { success: false, errorReason: 'refused by the test' } })
    try {
      const failed = await client.sendMessage({ message: message('secret text', { taskId: asked.id, payload: decodeAccessToken(await subscriber.token()) }) })
      assert.equal(meta(failed)[STATUS], 'payment-failed')
    } finally {
      proxy.reset()
    }
    const got = await client.getTask({ id: asked.id })
    assert.equal(got.status.state, 4)
    assert.deepEqual(got.artifacts, [])
    const seen = []
    for await (const event of client.resubscribeTask({ id: asked.id })) seen.push(event.payload.value)
    for (const task of [got, ...seen]) {
      assert.ok(!JSON.stringify(task.status).includes('secret text'), 'no paid text in the status')
      assert.ok(!(task.artifacts ?? []).length, 'no artifacts')
      assert.ok(task.history.every((m) => m.role === 1), 'only the client’s messages')
    }
  })

  test('the official hooks (beforeRequest, afterRequest, onError) are told each call; ones that throw change nothing: still asked for payment, paid once', async () => {
    const calls = []
    const hooks = {
      beforeRequest: async (method, params, request) => {
        calls.push(['before', method, params, request instanceof Request])
        throw new Error('beforeRequest broke')
      },
      afterRequest: async (method, response) => {
        calls.push(['after', method, response])
        throw new Error('afterRequest broke')
      },
      onError: (method, error) => {
        calls.push(['error', method, error.code, error.message])
        throw new Error('onError broke')
      },
    }
    const { client } = await serve({ hooks })
    const before = await subscriber.balance()
    const errors = console.error
    console.error = () => {}
    try {
      const asked = await client.sendMessage({ message: message('hooked') })
      assert.equal(meta(asked)[STATUS], 'payment-required', 'a throwing hook does not open the gate')
      const payload = decodeAccessToken(await subscriber.token())
      const paid = await client.sendMessage({ message: message('hooked', { taskId: asked.id, payload }) })
      assert.equal(meta(paid)[STATUS], 'payment-completed')
      await assert.rejects(client.sendMessage({ message: message('hooked', { taskId: asked.id, payload }) }))
    } finally {
      console.error = errors
    }
    assert.equal(await subscriber.balance(), before - 1n, 'paid once')
    assert.deepEqual(
      calls.map(([kind, method]) => `${kind} ${method}`),
      ['before message/send', 'after message/send', 'before message/send', 'after message/send', 'before message/send', 'after message/send', 'error message/send'],
    )
    assert.equal(calls[2][3], true, 'told the Request')
    assert.equal(calls[2][2].message.metadata[STATUS], 'payment-submitted')
    assert.equal(calls[2][2].message.metadata['x402.payment.payload'], undefined, 'the payload (a token) is not handed to hooks')
    assert.equal(calls[3][2].result.status.state, 'completed')
    assert.equal(calls[6][2], -32600)
    assert.throws(() => payments.a2a.paywall({ agentCard: card, executor: echoExecutor(), hooks: { onError: 'no' } }), /hooks\.onError must be a function/)
  })

  test('A2A 1.0 method names (the official client speaking 1.0) are "Method not found": nothing runs, nothing is verified or charged', async () => {
    const { fetchImpl, executor } = await serve()
    // Without legacyCompat the factory makes the A2A 1.0 JSON-RPC transport (SendMessage, ...).
    const v1 = await new JsonRpcTransportFactory({ fetchImpl }).create(`${ORIGIN}/a2a`, card)
    const payload = decodeAccessToken(await subscriber.token())
    const paying = { message: { ...message('free?', { payload }), role: 1 } }
    const before = await subscriber.balance()
    proxy.reset()
    await assert.rejects(v1.sendMessage(paying), /Method not found/)
    await assert.rejects(async () => {
      for await (const _ of v1.sendMessageStream(paying));
    }, /Method not found/)
    for (const method of ['SendMessage', 'SendStreamingMessage', 'message/Send', 'MESSAGE/SEND', 'message/send ']) {
      const response = await fetchImpl(`${ORIGIN}/a2a`, { method: 'POST', headers: { 'content-type': 'application/json', 'payment-signature': await subscriber.token() }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: { message: { kind: 'message', messageId: 'm', role: 'user', parts: [{ kind: 'text', text: 'free?' }] } } }) })
      assert.equal((await response.json()).error.code, -32601, method)
    }
    assert.equal(executor.runs, 0)
    assert.deepEqual([proxy.callsTo(VERIFY).length, proxy.callsTo(SETTLE).length], [0, 0])
    assert.equal(await subscriber.balance(), before)
  })
})

describe('InMemoryA2ATaskStore applies expiries and removals, whatever order they fall due in', () => {
  const task = (state, n = 0) => ({ id: 't', status: { state }, n })
  const gone = { id: 't', status: { state: 'failed' } }

  test('a task saved or claimed with removeAt is removed once it passes, unless written again before', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: 1_000_000 })
    const store = new InMemoryA2ATaskStore()
    await store.save(task('completed'), undefined, 1_005_000)
    t.mock.timers.setTime(1_004_999)
    assert.deepEqual(await store.load('t'), task('completed'))
    t.mock.timers.setTime(1_005_000)
    assert.equal(await store.load('t'), undefined)
    // Written again before its removal (saved, or claimed): the later write's removal counts.
    await store.save(task('working'), undefined, 1_006_000)
    await store.save(task('completed', 1), undefined, 1_100_000)
    assert.equal(await store.claim('t', 'completed', task('canceled', 2), 1_200_000), true)
    t.mock.timers.setTime(1_150_000)
    assert.deepEqual(await store.load('t'), task('canceled', 2))
    t.mock.timers.setTime(1_200_000)
    assert.equal(await store.load('t'), undefined)
    assert.equal(await store.claim('t', 'canceled', task('working')), false, 'nothing left to claim')
    // Without removeAt (a paywall before it), a task is kept as before.
    await store.save(task('completed'))
    t.mock.timers.setTime(9_000_000_000)
    assert.deepEqual(await store.load('t'), task('completed'))
  })

  test('a waiting task becomes its expired task at the expiry, then is removed at its removeAt; a claim before keeps it', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: 0 })
    const store = new InMemoryA2ATaskStore()
    // A finished task removed late, saved first; then a waiting one expiring sooner (not in the order given).
    await store.save({ ...task('completed'), id: 'old' }, undefined, 7_000_000)
    await store.save(task('input-required'), { at: 900, task: gone, removeAt: 5_000 })
    t.mock.timers.setTime(1_000)
    assert.deepEqual(await store.load('t'), gone)
    assert.equal(await store.claim('t', 'input-required', task('working')), false)
    t.mock.timers.setTime(5_000)
    assert.equal(await store.load('t'), undefined)
    assert.equal((await store.load('old')).status.state, 'completed')
    // Paid in time: the claim replaces the expiry with its own removal.
    await store.save(task('input-required'), { at: 6_000, task: gone, removeAt: 9_000 })
    assert.equal(await store.claim('t', 'input-required', task('working'), 60_000), true)
    t.mock.timers.setTime(10_000)
    assert.deepEqual(await store.load('t'), task('working'))
    t.mock.timers.setTime(60_000)
    assert.equal(await store.load('t'), undefined)
  })

  test('the sweep removes what is due among every task, not only the one accessed', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: 0 })
    const store = new InMemoryA2ATaskStore()
    // The oldest task, then 9,999 removed at 10 s: the store is full (10,000).
    await store.save({ id: 'kept', status: { state: 'completed' } })
    for (let i = 0; i < 9_999; i++) await store.save({ id: `r${i}`, status: { state: 'completed' } }, undefined, 10_000)
    t.mock.timers.setTime(20_000)
    await store.load('other') // the sweep: the 9,999 are removed, though none is accessed
    for (let i = 0; i < 9_999; i++) await store.save({ id: `n${i}`, status: { state: 'completed' } })
    assert.equal((await store.load('kept')).status.state, 'completed', 'the oldest is not dropped for room: the removed ones made it')
  })
})

describe('the A2ATaskStore Durable Object keeps an expiry and a removal as an alarm', () => {
  /** A Durable Object's storage in memory, its alarm noted. */
  function storage() {
    const data = new Map()
    return {
      data,
      alarm: undefined,
      async get(key) {
        return structuredClone(data.get(key))
      },
      async put(entries) {
        for (const [key, value] of Object.entries(entries)) data.set(key, structuredClone(value))
      },
      async setAlarm(at) {
        this.alarm = at
      },
      async deleteAll() {
        data.clear()
      },
    }
  }
  const ask = async (object, body) => (await object.fetch(new Request('https://a2a-task-store/', { method: 'POST', body: JSON.stringify(body) }))).json()
  const waiting = { id: 't', status: { state: 'input-required' } }
  const gone = { id: 't', status: { state: 'failed' } }

  test('saved with an expiry, the alarm is set for it and, when it rings, the task becomes the expired one', async () => {
    const state = { storage: storage() }
    const object = new A2ATaskStore(state)
    assert.equal(await ask(object, { op: 'save', task: waiting, expiry: { at: 1234, task: gone } }), true)
    assert.equal(state.storage.alarm, 1234)
    assert.deepEqual(await ask(object, { op: 'load' }), waiting)
    await object.alarm()
    assert.deepEqual(await ask(object, { op: 'load' }), gone)
    // A claim then finds it no longer waiting.
    assert.equal(await ask(object, { op: 'claim', expect: 'input-required', task: { id: 't', status: { state: 'working' } } }), false)
  })

  test('written again before the alarm (claimed by a payment, canceled), the alarm changes nothing', async () => {
    const state = { storage: storage() }
    const object = new A2ATaskStore(state)
    await ask(object, { op: 'save', task: waiting, expiry: { at: 1234, task: gone } })
    const working = { id: 't', status: { state: 'working' } }
    assert.equal(await ask(object, { op: 'claim', expect: 'input-required', task: working }), true)
    await object.alarm()
    assert.deepEqual(await ask(object, { op: 'load' }), working)
  })

  test('saved with removeAt: the alarm is set for it and, when it rings, the object deletes its storage', async () => {
    const state = { storage: storage() }
    const object = new A2ATaskStore(state)
    const done = { id: 't', status: { state: 'completed' } }
    const at = Date.now() - 1
    assert.equal(await ask(object, { op: 'save', task: done, removeAt: at }), true)
    assert.equal(state.storage.alarm, at)
    await object.alarm()
    assert.equal(state.storage.data.size, 0, 'deleteAll')
    assert.equal(await ask(object, { op: 'load' }), null)
    // A claim with removeAt sets the alarm too.
    await ask(object, { op: 'save', task: waiting })
    assert.equal(await ask(object, { op: 'claim', expect: 'input-required', task: done, removeAt: at }), true)
    await object.alarm()
    assert.equal(state.storage.data.size, 0)
  })

  test('written again before the removal, an alarm ringing for the earlier write deletes nothing and waits for the later one', async () => {
    const state = { storage: storage() }
    const object = new A2ATaskStore(state)
    const working = { id: 't', status: { state: 'working' } }
    const done = { id: 't', status: { state: 'completed' } }
    await ask(object, { op: 'save', task: working, removeAt: Date.now() - 1 })
    const later = Date.now() + 3_600_000
    await ask(object, { op: 'save', task: done, removeAt: later })
    state.storage.alarm = undefined
    await object.alarm() // the earlier write's alarm, already on its way
    assert.deepEqual(await ask(object, { op: 'load' }), done)
    assert.equal(state.storage.alarm, later, 're-armed for the removal stored now')
    // Written again without a removal: the alarm does nothing.
    await ask(object, { op: 'save', task: done })
    await object.alarm()
    assert.deepEqual(await ask(object, { op: 'load' }), done)
  })

  test('a waiting task expires at its alarm, then the next alarm (its removeAt) deletes it', async () => {
    const state = { storage: storage() }
    const object = new A2ATaskStore(state)
    const at = Date.now() - 10
    await ask(object, { op: 'save', task: waiting, expiry: { at, task: gone, removeAt: at + 5 } })
    assert.equal(state.storage.alarm, at)
    await object.alarm()
    assert.deepEqual(await ask(object, { op: 'load' }), gone)
    assert.equal(state.storage.alarm, at + 5)
    await object.alarm()
    assert.equal(state.storage.data.size, 0)
  })

  test("an object written by an earlier version (the expired task itself kept for its alarm) still expires at that alarm", async () => {
    const state = { storage: storage() }
    state.storage.data.set('task', waiting)
    state.storage.data.set('expired', gone)
    const object = new A2ATaskStore(state)
    await object.alarm()
    assert.deepEqual(await ask(object, { op: 'load' }), gone)
    assert.equal(state.storage.data.get('expired'), null)
  })
})
