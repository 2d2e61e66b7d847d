// A2A 0.3 push notification configs (tasks/pushNotificationConfig/*), both
// halves, over real HTTP on 127.0.0.1: the client's setA2ATaskPushNotificationConfig
// and getA2ATaskPushNotificationConfig (nvm-x402/a2a-client) against a recording
// agent that keeps configs (what is sent, to where, with which token: none) and
// one that redirects elsewhere (the config, its token, not carried there); the
// paywall (nvm-x402/a2a), which keeps no config and sends no notification, answers
// PushNotificationNotSupportedError (-32003) to all four methods whatever its card
// says, nothing run, stored or asked of the backend, to our client and to the
// official A2A client.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { PaymentsError } from 'nvm-x402'
import { Payments as AgentPayments, buildPaymentAgentCard } from 'nvm-x402/a2a'
import { Payments } from 'nvm-x402/a2a-client'
import { startRecorder } from '../support/servers.mjs'
import { offlineKey, stopAll } from '../support/gate.mjs'
import { officialClient } from '../support/a2a.mjs'

const CARD = '/.well-known/agent-card.json'
const PLAN = '1234'
const AGENT = 'did:nv:a2a-push-agent'

/** The agent card at `url` (its JSON-RPC endpoint) with the payment extension. */
const cardFor = (url, capabilities = {}) =>
  buildPaymentAgentCard(
    { name: 'echo', description: 'echo', version: '1.0.0', protocolVersion: '0.3.0', url, preferredTransport: 'JSONRPC', capabilities, defaultInputModes: ['text/plain'], defaultOutputModes: ['text/plain'], skills: [] },
    { agentId: AGENT, planId: PLAN, credits: 1, paymentType: 'fixed' },
  )

/** A fetch handler served on 127.0.0.1 (a free port), closed by `close()`. */
async function serveFetch(handler) {
  const server = http.createServer(async (req, res) => {
    const chunks = []
    for await (const chunk of req) chunks.push(chunk)
    const body = chunks.length ? Buffer.concat(chunks) : undefined
    const response = await handler(new Request(`http://${req.headers.host}${req.url}`, { method: req.method, headers: req.headers, body }))
    res.writeHead(response.status, Object.fromEntries(response.headers))
    res.end(Buffer.from(await response.arrayBuffer()))
  })
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok))
  return {
    url: `http://127.0.0.1:${server.address().port}/`,
    close: () => new Promise((ok) => (server.close(ok), server.closeAllConnections())),
  }
}

describe('A2A push notification configs', () => {
  let backend, agent, elsewhere, payments
  const posts = () => agent.requests.filter((r) => r.method === 'POST')

  before(async () => {
    ;[backend, agent, elsewhere] = await Promise.all([startRecorder(), startRecorder(), startRecorder()])
    payments = Payments.getInstance({ nvmApiKey: offlineKey(), backendUrl: backend.url })
  })
  after(() => stopAll(backend, agent, elsewhere))

  /** An agent that keeps each task's config (a minimal A2A 0.3 JSON-RPC agent with push notifications). */
  function keepingAgent() {
    agent.reset()
    const configs = new Map()
    agent.respond('GET', CARD, { status: 200, json: cardFor(`${agent.url}a2a`, { pushNotifications: true }) })
    agent.respond('POST', '/a2a', ({ json: { id, method, params } }) => {
      if (method === 'tasks/pushNotificationConfig/set') configs.set(params.taskId, params)
      const result = method === 'tasks/pushNotificationConfig/set' ? params : configs.get(params.id)
      return { status: 200, json: result ? { jsonrpc: '2.0', id, result } : { jsonrpc: '2.0', id, error: { code: -32001, message: 'Task not found' } } }
    })
  }

  test('set and get go to the card\'s url as tasks/pushNotificationConfig/set|get, no token, nothing minted; the answers as the agent sent them', async () => {
    keepingAgent()
    backend.reset()
    const client = await payments.a2a.getClient({ agentBaseUrl: agent.url, planIds: [PLAN] })
    const config = { taskId: 'task-1', pushNotificationConfig: { url: 'https://hooks.example/n', token: 'hook-secret', authentication: { schemes: ['bearer'], credentials: 'webhook-credentials' } } }
    const set = await client.setA2ATaskPushNotificationConfig(config)
    assert.deepEqual(set.result, config)
    assert.equal(set.jsonrpc, '2.0')
    const got = await client.getA2ATaskPushNotificationConfig({ id: 'task-1' })
    assert.deepEqual(got.result, config)
    const missing = await client.getA2ATaskPushNotificationConfig({ id: 'no-such-task' })
    assert.deepEqual(missing.error, { code: -32001, message: 'Task not found' })
    const sent = posts()
    assert.deepEqual(
      sent.map((r) => [r.path, r.json.method, r.json.params]),
      [
        ['/a2a', 'tasks/pushNotificationConfig/set', config],
        ['/a2a', 'tasks/pushNotificationConfig/get', { id: 'task-1' }],
        ['/a2a', 'tasks/pushNotificationConfig/get', { id: 'no-such-task' }],
      ],
    )
    // Each its own JSON-RPC request, answered on its id; no token in a header or the body.
    assert.deepEqual(sent.map((r) => r.json.id), [set.id, got.id, missing.id])
    for (const r of sent) {
      assert.equal(r.headers['payment-signature'], undefined)
      assert.equal(r.headers.authorization, undefined)
      assert.doesNotMatch(r.body, /x402\.payment/)
    }
    assert.deepEqual(backend.requests, [], 'the backend was not asked (nothing minted)')
    // The keys A2A requires are checked before anything is sent.
    await assert.rejects(client.setA2ATaskPushNotificationConfig({ pushNotificationConfig: config.pushNotificationConfig }), (e) => e instanceof PaymentsError && e.code === 'validation' && /taskId/.test(e.message))
    await assert.rejects(client.getA2ATaskPushNotificationConfig({ taskId: 'task-1' }), (e) => e instanceof PaymentsError && e.code === 'validation' && /params\.id/.test(e.message))
    assert.equal(posts().length, 3)
  })

  test('an agent that redirects the config to another origin: not followed, nothing reaches it', async () => {
    keepingAgent()
    elsewhere.reset()
    elsewhere.respond('*', '*', { status: 200, json: { jsonrpc: '2.0', id: 1, result: {} } })
    const client = await payments.a2a.getClient({ agentBaseUrl: agent.url, planIds: [PLAN], maxCredits: 5 })
    for (const status of [307, 308]) {
      agent.respond('POST', '/a2a', { status, headers: { location: `${elsewhere.url}a2a` } })
      const config = { taskId: 'task-1', pushNotificationConfig: { url: 'https://hooks.example/n', token: 'hook-secret' } }
      await assert.rejects(client.setA2ATaskPushNotificationConfig(config), (e) => e instanceof PaymentsError && e.code === 'redirect_not_followed')
      await assert.rejects(client.getA2ATaskPushNotificationConfig({ id: 'task-1' }), (e) => e instanceof PaymentsError && e.code === 'redirect_not_followed')
    }
    assert.equal(posts().length, 4)
    assert.deepEqual(elsewhere.requests, [])
  })

  test('the paywall answers -32003 to the four methods, whatever its card says: nothing run, stored or asked of the backend', async () => {
    backend.reset()
    for (const capabilities of [{}, { streaming: true, pushNotifications: true }]) {
      let runs = 0
      const saved = []
      const executor = {
        async execute({ taskId, contextId }, eventBus) {
          runs++
          eventBus.publish({ kind: 'status-update', taskId, contextId, status: { state: 'completed' }, final: true })
        },
      }
      const taskStore = { load: async () => undefined, save: async (task) => void saved.push(task), claim: async () => false }
      let paywall
      const methods = []
      const served = await serveFetch(async (request) => {
        if (request.method === 'POST') methods.push((await request.clone().json()).method)
        return paywall.fetch(request)
      })
      try {
        const card = cardFor(`${served.url}a2a`, capabilities)
        paywall = AgentPayments.getInstance({ nvmApiKey: offlineKey(), backendUrl: backend.url }).a2a.paywall({ agentCard: card, executor, taskStore })
        const client = await payments.a2a.getClient({ agentBaseUrl: served.url, planIds: [PLAN] })
        const notSupported = { code: -32003, message: 'Push Notification is not supported' }
        const set = await client.setA2ATaskPushNotificationConfig({ taskId: 'task-1', pushNotificationConfig: { url: `${backend.url}hook` } })
        assert.deepEqual([set.error, set.result], [notSupported, undefined])
        const got = await client.getA2ATaskPushNotificationConfig({ id: 'task-1' })
        assert.deepEqual([got.error, got.result], [notSupported, undefined])
        // list and delete (not in the official client) as any A2A 0.3 client sends them.
        for (const [method, params] of [['tasks/pushNotificationConfig/list', { id: 'task-1' }], ['tasks/pushNotificationConfig/delete', { id: 'task-1', pushNotificationConfigId: 'c' }]]) {
          const response = await fetch(`${served.url}a2a`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 9, method, params }) })
          assert.deepEqual(await response.json(), { jsonrpc: '2.0', id: 9, error: notSupported })
        }
        // The official A2A client: refused locally when the card says no, else the paywall's -32003.
        const official = await officialClient(served.url)
        methods.length = 0
        await assert.rejects(async () => official.createTaskPushNotificationConfig({ taskId: 'task-1', pushNotificationConfig: { id: 'c', url: `${backend.url}hook` } }), (e) => e.name === 'PushNotificationNotSupportedError')
        assert.deepEqual(methods, capabilities.pushNotifications ? ['tasks/pushNotificationConfig/set'] : [])
      } finally {
        await served.close()
      }
      assert.equal(runs, 0)
      assert.deepEqual(saved, [])
    }
    assert.deepEqual(backend.requests, [], 'no verify, settle or notification')
  })
})
