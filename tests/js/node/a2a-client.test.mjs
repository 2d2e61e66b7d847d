// The paying A2A client (nvm-x402/a2a-client) in Node against the A2A paywall
// (nvm-x402/a2a) in-process and a live nvm-local behind a counting proxy: what
// the official client's unit tests assert of getClient (one client per options,
// the legacy card path with a warning, the canonical path's failure as the
// cause), getA2ATask, resubscribeA2ATask and clearToken, checked here on the
// wire (what was sent, to where, what was minted, verified and settled).
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { PaymentsError } from 'nvm-x402'
import { Payments as AgentPayments, buildPaymentAgentCard, InMemoryA2ATaskStore } from 'nvm-x402/a2a'
import { Payments } from 'nvm-x402/a2a-client'
import { NVM_LOCAL_BUILT } from '../support/nvm.mjs'
import { startNvmLocal } from '../support/servers.mjs'
import { SETTLE, VERIFY, newSubscriber, startCountingProxy, stopAll } from '../support/gate.mjs'
import { MINT } from '../support/client.mjs'
import { STATUS, message, officialClient } from '../support/a2a.mjs'

const ORIGIN = 'http://127.0.0.1:9'
const CARD = '/.well-known/agent-card.json'
const LEGACY = '/.well-known/agent.json'

/** A plain A2A 0.3 message for sendA2AMessage. */
const text = (words) => ({ message: { kind: 'message', messageId: crypto.randomUUID(), role: 'user', parts: [{ kind: 'text', text: words }] } })

/** Runs `run` with console.warn recorded; resolves to [its result or error, the warnings]. */
async function warnings(run) {
  const warn = console.warn
  const said = []
  console.warn = (...args) => said.push(args.map(String).join(' '))
  try {
    return [await run().catch((error) => error), said]
  } finally {
    console.warn = warn
  }
}

describe('the A2A client (nvm-x402/a2a-client) against the A2A paywall in-process', { skip: !NVM_LOCAL_BUILT && 'nvm-local is not built' }, () => {
  let nvm, proxy, plan, subscriber, server, sent, cards, answer

  /** A subscriber's client whose agent calls reach the paywall (recorded in `sent`), the rest nvm-local through the proxy. */
  const client = () =>
    Payments.getInstance({
      nvmApiKey: subscriber.apiKey,
      backendUrl: proxy.url,
      fetch: async (input, init) => {
        const request = new Request(input, init)
        const url = new URL(request.url)
        if (url.origin !== ORIGIN) return globalThis.fetch(request)
        if (url.pathname === CARD || url.pathname === LEGACY) cards.push(url.pathname)
        else sent.push({ body: await request.clone().json(), signature: request.headers.get('payment-signature') })
        return (await answer(request, url)) ?? server.fetch(request)
      },
    })

  before(async () => {
    nvm = await startNvmLocal({ args: ['--a2a-url', ORIGIN] })
    const { world } = nvm
    plan = world.plans.free.planId
    proxy = await startCountingProxy(nvm.url)
    const agent = AgentPayments.getInstance({ nvmApiKey: world.accounts.builder.apiKey, backendUrl: proxy.url })
    const card = buildPaymentAgentCard(
      { name: 'echo', description: 'echo', version: '1.0.0', protocolVersion: '0.3.0', url: `${ORIGIN}/a2a`, preferredTransport: 'JSONRPC', capabilities: { streaming: true }, defaultInputModes: ['text/plain'], defaultOutputModes: ['text/plain'], skills: [] },
      { agentId: world.a2aAgent.agentId, planId: plan, credits: 1, paymentType: 'fixed' },
    )
    const executor = {
      async execute({ userMessage, taskId, contextId }, eventBus) {
        const words = userMessage.parts.map((p) => p.text).join('')
        eventBus.publish({ kind: 'status-update', taskId, contextId, status: { state: 'completed', message: { kind: 'message', messageId: crypto.randomUUID(), role: 'agent', parts: [{ kind: 'text', text: words }], taskId, contextId } }, final: true, metadata: { creditsUsed: 1 } })
      },
      async cancelTask() {},
    }
    server = agent.a2a.paywall({ agentCard: card, executor, taskStore: new InMemoryA2ATaskStore() })
    subscriber = await newSubscriber(nvm, { planId: plan, agentId: world.a2aAgent.agentId })
  })
  after(() => stopAll(proxy, nvm))

  const reset = () => {
    sent = []
    cards = []
    answer = () => undefined
    proxy.reset()
  }

  test('getClient: the same options get the same client (one card read), others a new one; at most 16 kept, the oldest forgotten first; a failed one is not kept', async () => {
    reset()
    const payments = client()
    const options = { agentBaseUrl: ORIGIN, agentId: nvm.world.a2aAgent.agentId, planId: plan }
    const first = await payments.a2a.getClient(options)
    assert.equal(await payments.a2a.getClient({ ...options }), first)
    assert.deepEqual(cards, [CARD])
    const other = await payments.a2a.getClient({ ...options, planId: 'another-plan', planIds: [plan] })
    assert.notEqual(other, first)
    assert.notEqual(await client().a2a.getClient(options), first, 'per Payments instance')
    assert.equal(cards.length, 3)
    // 16 more keys: `options` is the oldest, forgotten; the next oldest stays until it is the oldest.
    const kept = []
    for (let i = 0; i < 16; i++) kept.push(await payments.a2a.getClient({ ...options, maxCredits: 100 + i }))
    assert.equal(await payments.a2a.getClient({ ...options, maxCredits: 115 }), kept[15])
    cards = []
    const again = await payments.a2a.getClient(options)
    assert.notEqual(again, first)
    assert.deepEqual(cards, [CARD], 'read again')
    assert.equal(await payments.a2a.getClient({ ...options, maxCredits: 101 }), kept[1])
    assert.notEqual(await payments.a2a.getClient({ ...options, maxCredits: 100 }), kept[0], 'evicted by `again`')
    // A card refused (a plan the call does not allow) is not kept: asked again, read again.
    cards = []
    const refused = { agentBaseUrl: ORIGIN, planIds: ['not-this-plan'] }
    await assert.rejects(payments.a2a.getClient(refused), (e) => e.code === 'plan_not_allowed')
    await assert.rejects(payments.a2a.getClient(refused), (e) => e.code === 'plan_not_allowed')
    assert.deepEqual(cards, [CARD, CARD])
    assert.equal(sent.length, 0, 'no message sent')
  })

  test('getA2ATask and resubscribeA2ATask: unpaid JSON-RPC calls to the card\'s url, no token, a task waiting for its payment shown, never paid', async () => {
    reset()
    const agentClient = await client().a2a.getClient({ agentBaseUrl: ORIGIN, planIds: [plan] })
    const paid = await agentClient.sendA2AMessage(text('hello'))
    assert.equal(paid.result.status.state, 'completed')
    assert.equal(paid.paymentResponse.creditsRedeemed, '1')
    const taskId = paid.result.id
    const before = { sent: sent.length, mints: proxy.callsTo(MINT).length, verifies: proxy.callsTo(VERIFY).length, settles: proxy.callsTo(SETTLE).length }
    const got = await agentClient.getA2ATask({ id: taskId, historyLength: 1 })
    assert.equal(got.result.id, taskId)
    assert.equal(got.result.status.state, 'completed')
    assert.equal(got.result.history.length, 1)
    const events = []
    for await (const event of agentClient.resubscribeA2ATask({ id: taskId })) events.push(event)
    assert.equal(events.at(-1).result.id, taskId)
    assert.equal(events.at(-1).result.status.state, 'completed')
    const calls = sent.slice(before.sent)
    assert.deepEqual(calls.map((c) => [c.body.method, c.body.params.id, c.signature]), [['tasks/get', taskId, null], ['tasks/resubscribe', taskId, null]])
    assert.doesNotMatch(JSON.stringify(calls), /x402\.payment/)
    // A task that waits for its payment (asked by another client) is read as it is: nothing minted, verified or settled.
    const waiting = await (await officialClient(ORIGIN, (input, init) => server.fetch(new Request(input, init)))).sendMessage({ message: message('later') })
    const read = await agentClient.getA2ATask({ id: waiting.id })
    assert.equal(read.result.status.state, 'input-required')
    assert.equal(read.result.status.message.metadata[STATUS], 'payment-required')
    assert.deepEqual([proxy.callsTo(MINT).length, proxy.callsTo(VERIFY).length, proxy.callsTo(SETTLE).length], [before.mints, before.verifies, before.settles])
    // A JSON-RPC error is answered as it came; params.id is required before anything is sent.
    const missing = await agentClient.getA2ATask({ id: 'no-such-task' })
    assert.equal(missing.error.code, -32001)
    await assert.rejects(agentClient.getA2ATask({}), (e) => e instanceof PaymentsError && e.code === 'validation')
    assert.equal(sent.length, before.sent + 4)
  })

  test('clearToken: the next message mints a new token; without it the token is reused', async () => {
    reset()
    const agentClient = await client().a2a.getClient({ agentBaseUrl: ORIGIN, planIds: [plan] })
    await agentClient.sendA2AMessage(text('one'))
    await agentClient.sendA2AMessage(text('two'))
    assert.equal(proxy.callsTo(MINT).length, 1, 'one token for both')
    assert.equal(agentClient.clearToken(), undefined)
    const three = await agentClient.sendA2AMessage(text('three'))
    assert.equal(three.result.status.state, 'completed')
    assert.equal(proxy.callsTo(MINT).length, 2, 'a new token after clearToken')
  })

  test('the card: not at the canonical path, the legacy one with one warning; both failing, the error\'s cause is the canonical path\'s', async () => {
    reset()
    answer = (request, url) => (url.pathname === CARD ? new Response('{}', { status: 404 }) : url.pathname === LEGACY ? server.fetch(new Request(`${ORIGIN}${CARD}`)) : undefined)
    const [found, said] = await warnings(() => client().a2a.getClient({ agentBaseUrl: ORIGIN, planIds: [plan] }))
    assert.equal(typeof found.sendA2AMessage, 'function', String(found))
    assert.deepEqual(cards, [CARD, LEGACY])
    assert.equal(said.length, 1)
    assert.match(said[0], /^\[PaymentsA2A\] agent card not found at '\.well-known\/agent-card\.json', falling back to '\.well-known\/agent\.json':/)
    assert.equal((await found.sendA2AMessage(text('legacy'))).result.status.state, 'completed')

    cards = []
    answer = (request, url) => {
      if (url.pathname === CARD) throw new TypeError('canonical TLS error')
      return new Response('{}', { status: 404 })
    }
    const [error, warned] = await warnings(() => client().a2a.getClient({ agentBaseUrl: ORIGIN, planIds: [plan] }))
    assert.ok(error instanceof PaymentsError, String(error))
    assert.equal(error.code, 'http_404')
    assert.ok(error.cause instanceof PaymentsError)
    assert.equal(error.cause.code, 'network_error')
    assert.match(error.cause.message, /canonical TLS error/)
    assert.deepEqual(cards, [CARD, LEGACY])
    assert.equal(warned.length, 1)
    assert.ok(!warned[0].includes(subscriber.apiKey) && !error.message.includes(subscriber.apiKey))

    // A card the caller pointed at the legacy path: its failure is the error, no warning.
    cards = []
    const [direct, none] = await warnings(() => client().a2a.getClient({ agentBaseUrl: ORIGIN, agentCardPath: '.well-known/agent.json', planIds: [plan] }))
    assert.equal(direct.code, 'http_404')
    assert.equal(direct.cause, undefined)
    assert.deepEqual([cards, none], [[LEGACY], []])
  })
})
