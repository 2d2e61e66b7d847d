// The A2A Worker example (examples/a2a-worker), exactly as shipped, on real
// workerd (wrangler dev --local, its task store a Durable Object) against a live
// nvm-local (the seeded A2A agent and free plan). Client: the official A2A JS
// client 1.x (@a2a-js/sdk ClientFactory with its v0.3 compatibility layer, as
// the card is A2A 0.3), paying in band with a token minted by this package;
// and this package's A2A client (nvm-x402/a2a-client), which does both steps in one call.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { JsonRpcTransportFactory } from '@a2a-js/sdk/client'
import { decodeAccessToken } from 'nvm-x402'
import { Payments } from 'nvm-x402/a2a-client'
import { ROOT, freePort, startNvmLocal, startWrangler } from '../support/servers.mjs'
import { SETTLE, VERIFY, assertNoTokenLogged, newSubscriber, startCountingProxy, stopAll } from '../support/gate.mjs'
import { STATUS, message, meta, officialClient } from '../support/a2a.mjs'

const EXAMPLE = join(ROOT, 'examples/a2a-worker')
const textOf = (task) => JSON.stringify(task)

describe('the A2A Worker example on workerd, paid in band through nvm-local', () => {
  let nvm, proxy, worker, world, plan, subscriber, client
  const subscribers = []
  const text = (message) => ({ message: { kind: 'message', messageId: crypto.randomUUID(), role: 'user', parts: [{ kind: 'text', text: message }] } })

  before(async () => {
    const port = await freePort()
    nvm = await startNvmLocal({ args: ['--a2a-url', `http://127.0.0.1:${port}`] })
    world = nvm.world
    plan = world.plans.free.planId
    // The Worker's backend calls go through a counting proxy (which can also refuse a settle).
    proxy = await startCountingProxy(nvm.url)
    worker = await startWrangler({
      cwd: EXAMPLE,
      port,
      vars: { NVM_API_KEY: world.accounts.builder.apiKey, NVM_AGENT_ID: world.a2aAgent.agentId, NVM_PLAN_ID: plan, NVM_BACKEND_URL: proxy.url },
    })
    assert.equal(world.a2aAgent.url, `${worker.url}a2a`, 'the seeded A2A agent is this Worker')
    subscriber = await newSubscriber(nvm, { planId: plan, agentId: world.a2aAgent.agentId })
    subscribers.push(subscriber)
    client = await officialClient(worker.url)
  })
  after(() => stopAll(worker, proxy, nvm))

  test('the card (at both paths) carries the payment extension and the a2a-x402 one', async () => {
    for (const path of ['.well-known/agent-card.json', '.well-known/agent.json']) {
      const card = await (await fetch(`${worker.url}${path}`)).json()
      const [nvmExt, x402Ext] = card.capabilities.extensions
      assert.equal(nvmExt.uri, 'urn:nevermined:payment')
      assert.deepEqual(nvmExt.params, { agentId: world.a2aAgent.agentId, planId: plan, credits: 1, paymentType: 'fixed', costDescription: '1 credit per message' })
      assert.equal(x402Ext.uri, 'https://github.com/google-agentic-commerce/a2a-x402/blob/main/spec/v0.2')
      assert.equal(card.url, `${worker.url}a2a`)
    }
  })

  test('unpaid message/send is input-required with payment-required and charges nothing; the paid follow-up completes with the text and a receipt, exactly 1 credit', async () => {
    const before = await subscriber.balance()
    const asked = await client.sendMessage({ message: message('hello a2a') })
    assert.equal(asked.status.state, 6, 'TASK_STATE_INPUT_REQUIRED')
    assert.equal(meta(asked)[STATUS], 'payment-required')
    const required = meta(asked)['x402.payment.required']
    assert.equal(required.accepts[0].planId, plan)
    assert.equal(required.accepts[0].extra.agentId, world.a2aAgent.agentId)
    assert.equal(required.resource.url, `${worker.url}a2a`)
    assert.equal(await subscriber.balance(), before, 'nothing charged')
    const payload = decodeAccessToken(await subscriber.token())
    const paid = await client.sendMessage({ message: message('hello a2a', { taskId: asked.id, payload }) })
    assert.equal(paid.id, asked.id)
    assert.equal(paid.status.state, 3, 'TASK_STATE_COMPLETED')
    assert.equal(paid.status.message.parts[0].content.value, 'hello a2a')
    assert.equal(meta(paid)[STATUS], 'payment-completed')
    const [receipt] = meta(paid)['x402.payment.receipts']
    assert.equal(receipt.success, true)
    assert.equal(receipt.creditsRedeemed, '1')
    assert.equal(await subscriber.balance(), before - 1n)
    assert.ok(!textOf(paid).includes(payload.payload.signature ?? '\u0000'), 'the payload is not echoed back')
    // The same task is not paid twice.
    await assert.rejects(client.sendMessage({ message: message('again', { taskId: asked.id, payload }) }))
    assert.equal(await subscriber.balance(), before - 1n)
  })

  test('a payload over 64 KiB or for another plan is refused: the task still waits, nothing charged', async () => {
    const before = await subscriber.balance()
    const asked = await client.sendMessage({ message: message('refuse me') })
    const good = decodeAccessToken(await subscriber.token())
    const otherPlan = { ...good, accepted: { ...good.accepted, planId: world.plans.fiat.planId } }
    const huge = { ...good, padding: 'x'.repeat(65 * 1024) }
    for (const payload of [otherPlan, huge]) {
      const refused = await client.sendMessage({ message: message('refuse me', { taskId: asked.id, payload }) })
      assert.equal(refused.status.state, 6)
      assert.equal(meta(refused)[STATUS], 'payment-required')
      assert.equal(meta(refused)['x402.payment.error'], 'PAYMENT_REFUSED')
    }
    assert.equal(await subscriber.balance(), before)
    // It can still be paid.
    const paid = await client.sendMessage({ message: message('refuse me', { taskId: asked.id, payload: good }) })
    assert.equal(meta(paid)[STATUS], 'payment-completed')
  })

  test('20 concurrent paid tasks on 10 credits: exactly 10 complete; the others fail with payment-failed and no text', async () => {
    const poor = await newSubscriber(nvm, { planId: plan, agentId: world.a2aAgent.agentId })
    subscribers.push(poor)
    assert.equal(await poor.balance(), 10n)
    const tasks = await Promise.all(Array.from({ length: 20 }, (_, i) => client.sendMessage({ message: message(`race ${i}`) })))
    const payloads = await Promise.all(tasks.map(async () => decodeAccessToken(await poor.token())))
    const done = await Promise.all(tasks.map((t, i) => client.sendMessage({ message: message(`race ${i}`, { taskId: t.id, payload: payloads[i] }) }).catch((e) => ({ error: e }))))
    const completed = done.filter((t) => t.status?.state === 3)
    assert.equal(completed.length, 10)
    for (const t of completed) assert.equal(meta(t)[STATUS], 'payment-completed')
    for (const t of done.filter((t) => t.status?.state !== 3)) {
      if (t.error) continue // refused before running: nothing ran
      if (t.status.state === 6) {
        // Refused at verify (the settles of others had spent the balance): the task still waits for payment, nothing ran.
        assert.equal(meta(t)[STATUS], 'payment-required')
        assert.ok(meta(t)['x402.payment.error'], 'the refusal says why')
        assert.ok(!JSON.stringify(t.status.message.parts).includes('race'), 'no paid text')
        assert.deepEqual(t.artifacts ?? [], [])
        continue
      }
      assert.equal(t.status.state, 4, 'TASK_STATE_FAILED')
      assert.equal(meta(t)[STATUS], 'payment-failed')
      assert.deepEqual(t.artifacts, [])
      assert.ok(!t.status.message.parts[0].content.value.startsWith('race'), 'no paid text')
    }
    assert.equal(await poor.balance(), 0n)
  })

  test("our client (payments.a2a) reads the card, is asked for payment and pays on the same task, in one call: exactly 1 credit", async () => {
    const before = await subscriber.balance()
    const card = await (await fetch(`${worker.url}.well-known/agent-card.json`)).json()
    const sent = []
    // The subscriber's key in nvm-x402/a2a-client's Payments, its agent requests watched (the backend's go through the same fetch).
    const watched = Payments.getInstance({
      nvmApiKey: subscriber.apiKey,
      backendUrl: nvm.url,
      fetch: async (input, init) => {
        const request = new Request(input, init)
        if (request.url === card.url) sent.push(await request.clone().json())
        return fetch(request)
      },
    })
    const agent = await watched.a2a.getClient({ agentBaseUrl: worker.url, planIds: [plan], eager: false })
    const answer = await agent.sendA2AMessage({ message: { kind: 'message', messageId: crypto.randomUUID(), role: 'user', parts: [{ kind: 'text', text: 'paid by nvm-x402' }] } })
    assert.equal(answer.result.status.state, 'completed')
    assert.equal(answer.result.status.message.parts[0].text, 'paid by nvm-x402')
    assert.equal(answer.result.status.message.metadata[STATUS], 'payment-completed')
    assert.equal(answer.paymentResponse.success, true)
    assert.equal(answer.paymentResponse.creditsRedeemed, '1')
    assert.equal(await subscriber.balance(), before - 1n, 'exactly 1 credit')
    // Two messages: the unpaid one (payment-required), then payment-submitted on its task.
    assert.equal(sent.length, 2)
    assert.equal(sent[0].params.message.metadata, undefined)
    assert.equal(sent[1].params.message.taskId, answer.result.id)
    assert.equal(sent[1].params.message.metadata[STATUS], 'payment-submitted')
    assert.equal(sent[1].params.message.metadata['x402.payment.payload'].accepted.planId, plan)
    // The task the official client reads back is the same, paid once.
    const task = await client.getTask({ id: answer.result.id })
    assert.equal(task.status.state, 3)
    // With one allowed plan it pays up front: one message.
    sent.length = 0
    const again = await (await watched.a2a.getClient({ agentBaseUrl: worker.url, planId: plan, maxCredits: 1 })).sendA2AMessage({ message: { kind: 'message', messageId: crypto.randomUUID(), role: 'user', parts: [{ kind: 'text', text: 'again' }] } })
    assert.equal(again.paymentResponse.creditsRedeemed, '1')
    assert.equal(sent.length, 1)
    assert.equal(await subscriber.balance(), before - 2n)
  })

  test('our client refuses a card whose plan the caller did not allow, or that costs more than maxCredits, before sending anything', async () => {
    const before = await subscriber.balance()
    const cases = [
      [{ planIds: [world.plans.fiat.planId] }, 'plan_not_allowed'],
      [{ planIds: [plan], agentId: world.agent.agentId }, 'plan_not_allowed'],
      [{ anyPlan: true, maxCredits: 0 }, 'max_credits_exceeded'],
    ]
    for (const [options, code] of cases) {
      const posted = []
      const watched = Payments.getInstance({
        nvmApiKey: subscriber.apiKey,
        backendUrl: nvm.url,
        fetch: (input, init) => {
          const request = new Request(input, init)
          posted.push(`${request.method} ${request.url}`)
          return fetch(request)
        },
      })
      // getClient reads the card (as the official client's): refused there.
      await assert.rejects(watched.a2a.getClient({ agentBaseUrl: worker.url, ...options }), (e) => e.code === code && e.details?.planId === plan)
      assert.deepEqual(posted, [`GET ${worker.url}.well-known/agent-card.json`], 'only the card was fetched: no message, no mint')
    }
    assert.equal(await subscriber.balance(), before)
  })

  test('message/stream with the official client: unpaid, one payment-required event; paid on the same task, the task, its artifact and the final status with the receipt, after one settle: 1 credit', async () => {
    const before = await subscriber.balance()
    const asked = []
    for await (const event of client.sendMessageStream({ message: message('stream me') })) asked.push(event.payload)
    assert.deepEqual(asked.map((e) => e.$case), ['task'])
    assert.equal(asked[0].value.status.state, 6, 'TASK_STATE_INPUT_REQUIRED')
    assert.equal(meta(asked[0].value)[STATUS], 'payment-required')
    assert.equal(await subscriber.balance(), before, 'nothing charged')
    proxy.reset()
    const payload = decodeAccessToken(await subscriber.token())
    const paid = []
    for await (const event of client.sendMessageStream({ message: message('stream me', { taskId: asked[0].value.id, payload }) })) paid.push(event.payload)
    assert.deepEqual(paid.map((e) => e.$case), ['task', 'artifactUpdate', 'statusUpdate'])
    assert.equal(paid[0].value.id, asked[0].value.id)
    assert.equal(paid[0].value.status.state, 2, 'TASK_STATE_WORKING')
    assert.equal(paid[1].value.artifact.parts[0].content.value, 'stream me')
    const last = paid[2].value
    assert.equal(last.status.state, 3, 'TASK_STATE_COMPLETED')
    assert.equal(last.status.message.parts[0].content.value, 'stream me')
    assert.equal(meta(last)[STATUS], 'payment-completed')
    assert.equal(meta(last)['x402.payment.receipts'][0].creditsRedeemed, '1')
    assert.equal(proxy.callsTo(SETTLE).length, 1, 'settled once')
    assert.equal(await subscriber.balance(), before - 1n)
  })

  test('our client streams in one call (sendA2AMessageStream): asked, paid on the same task, every event, the receipt on the last: 1 credit', async () => {
    const before = await subscriber.balance()
    proxy.reset()
    const agent = await Payments.getInstance({ nvmApiKey: subscriber.apiKey, backendUrl: nvm.url }).a2a.getClient({ agentBaseUrl: worker.url, planIds: [plan], eager: false })
    const events = []
    for await (const event of agent.sendA2AMessageStream(text('streamed by nvm-x402'))) events.push(event)
    assert.deepEqual(events.map((e) => e.result.kind), ['task', 'artifact-update', 'status-update'])
    const last = events.at(-1)
    assert.equal(last.result.status.state, 'completed')
    assert.equal(last.result.status.message.parts[0].text, 'streamed by nvm-x402')
    assert.equal(last.paymentResponse.creditsRedeemed, '1')
    assert.equal(proxy.callsTo(SETTLE).length, 1)
    assert.equal(await subscriber.balance(), before - 1n)
  })

  test('a settle that fails: payment-failed and no text, on message/send and message/stream, for the official client and ours; nothing burned', async () => {
    const before = await subscriber.balance()
    proxy.reset()
    proxy.intercept('POST', SETTLE, { status: 200, json: { success: false, errorReason: 'refused by the test' } })
    try {
      const asked = await client.sendMessage({ message: message('withheld text') })
      const payload = decodeAccessToken(await subscriber.token())
      const failed = await client.sendMessage({ message: message('withheld text', { taskId: asked.id, payload }) })
      assert.equal(failed.status.state, 4, 'TASK_STATE_FAILED')
      assert.equal(meta(failed)[STATUS], 'payment-failed')
      assert.equal(meta(failed)['x402.payment.error'], 'SETTLEMENT_FAILED')
      assert.ok(!textOf(failed.status.message).includes('withheld text'), 'no paid text in the answer')
      assert.deepEqual(failed.artifacts, [])
      // Read back later (tasks/get, tasks/resubscribe): still no paid text.
      const got = await client.getTask({ id: asked.id })
      assert.equal(meta(got)[STATUS], 'payment-failed')
      const again = []
      for await (const event of client.resubscribeTask({ id: asked.id })) again.push(event.payload.value)
      for (const task of [got, ...again]) {
        assert.ok(!textOf(task.status).includes('withheld text'), 'no paid text')
        assert.deepEqual(task.artifacts, [])
        assert.ok(task.history.every((m) => m.role === 1), 'only the client’s messages')
      }
      const streamAsked = []
      for await (const event of client.sendMessageStream({ message: message('withheld stream') })) streamAsked.push(event.payload.value)
      const streamed = []
      for await (const event of client.sendMessageStream({ message: message('withheld stream', { taskId: streamAsked[0].id, payload }) })) streamed.push(event.payload)
      assert.deepEqual(streamed.map((e) => e.$case), ['task'], 'one event: the failed task, nothing streamed before it')
      assert.equal(meta(streamed[0].value)[STATUS], 'payment-failed')
      assert.deepEqual(streamed[0].value.artifacts, [])
      assert.ok(!textOf(streamed[0].value.status.message).includes('withheld stream'), 'no paid text')
      const agent = await Payments.getInstance({ nvmApiKey: subscriber.apiKey, backendUrl: nvm.url }).a2a.getClient({ agentBaseUrl: worker.url, planIds: [plan], eager: false })
      const ours = await agent.sendA2AMessage(text('withheld again'))
      assert.equal(ours.result.status.state, 'failed')
      assert.equal(ours.paymentResponse, null)
      assert.equal(JSON.stringify(ours.result.status.message).includes('withheld again'), false)
      assert.equal(proxy.callsTo(SETTLE).length, 3)
      assert.equal(await subscriber.balance(), before, 'nothing burned')
    } finally {
      proxy.reset()
    }
  })

  test('tasks/cancel with the official client: the waiting task (in the Durable Object) is canceled, a payment for it refused, nothing charged; a paid one is not cancelable', async () => {
    const before = await subscriber.balance()
    const asked = await client.sendMessage({ message: message('cancel me') })
    const canceled = await client.cancelTask({ id: asked.id })
    assert.equal(canceled.status.state, 5, 'TASK_STATE_CANCELED')
    assert.equal(meta(canceled)[STATUS], 'payment-rejected')
    proxy.reset()
    const payload = decodeAccessToken(await subscriber.token())
    await assert.rejects(client.sendMessage({ message: message('cancel me', { taskId: asked.id, payload }) }), /The task was canceled/)
    assert.equal(proxy.callsTo(VERIFY).length, 0, 'not even verified')
    assert.equal((await client.getTask({ id: asked.id })).status.state, 5)
    assert.equal(await subscriber.balance(), before)
    const done = await client.sendMessage({ message: message('paid') })
    await client.sendMessage({ message: message('paid', { taskId: done.id, payload: decodeAccessToken(await subscriber.token()) }) })
    await assert.rejects(client.cancelTask({ id: done.id }), /not cancelable/i)
    assert.equal(await subscriber.balance(), before - 1n)
  })

  test('the official client speaking A2A 1.0 (SendMessage, with a payment): "Method not found", nothing verified or charged', async () => {
    const before = await subscriber.balance()
    const card = await (await fetch(`${worker.url}.well-known/agent-card.json`)).json()
    // Without legacyCompat the factory makes the A2A 1.0 JSON-RPC transport.
    const v1 = await new JsonRpcTransportFactory().create(card.url, card)
    const paying = { message: message('free?', { payload: decodeAccessToken(await subscriber.token()) }) }
    proxy.reset()
    await assert.rejects(v1.sendMessage(paying), /Method not found/)
    await assert.rejects(async () => {
      for await (const _ of v1.sendMessageStream(paying));
    }, /Method not found/)
    assert.deepEqual([proxy.callsTo(VERIFY).length, proxy.callsTo(SETTLE).length], [0, 0])
    assert.equal(await subscriber.balance(), before)
  })

  test('nothing logs a whole token', () => {
    assertNoTokenLogged(worker.output(), subscribers)
  })
})
