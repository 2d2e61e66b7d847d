// The A2A client's streams (nvm-x402/a2a-client) yield each event as the agent
// sends it: an agent on 127.0.0.1 writes one Server-Sent Event, then waits for
// the test to have it before it writes the next (a client that waited for the
// whole stream would never get the first: the suite's timeout fails it). A
// message/stream is paid up front (a token minted by a live nvm-local) and its
// last event, which says how the payment went, is yielded once the stream ended,
// with paymentResponse; resubscribeA2ATask (unpaid, no token) yields every event
// at once. A line that is not the call's: the events before it, then the error.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { PaymentsError } from 'nvm-x402'
import { buildPaymentAgentCard } from 'nvm-x402/a2a'
import { Payments } from 'nvm-x402/a2a-client'
import { NVM_LOCAL_BUILT } from '../support/nvm.mjs'
import { startNvmLocal } from '../support/servers.mjs'
import { newSubscriber, stopAll } from '../support/gate.mjs'

/**
 * An A2A agent on 127.0.0.1 whose POSTs answer Server-Sent Events: `script(rpc)` gives the
 * results to write, one `data:` line each (a string: written as it is); after the first, each
 * waits for `next()` unless given as `{now: item}`.
 * `written` counts the events written so far; `calls` records each request; `gone` resolves
 * to `written` when the client's connection closed.
 */
async function startStreamingAgent() {
  const agent = { calls: [], written: 0, card: null, script: null, next: null }
  const server = http.createServer(async (req, res) => {
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify(agent.card))
      return
    }
    const chunks = []
    for await (const chunk of req) chunks.push(chunk)
    const rpc = JSON.parse(Buffer.concat(chunks).toString('utf8'))
    agent.calls.push({ rpc, headers: req.headers })
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' })
    agent.gone = new Promise((resolve) => res.on('close', () => resolve(agent.written)))
    agent.written = 0
    for (const [i, item] of agent.script(rpc).entries()) {
      const line = item?.now ?? item
      if (i > 0 && item?.now === undefined) await new Promise((resolve) => (agent.next = resolve))
      res.write(typeof line === 'string' ? line : `data: ${JSON.stringify({ jsonrpc: '2.0', id: rpc.id, result: line })}\n\n`)
      agent.written++
    }
    res.end()
  })
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok))
  agent.url = `http://127.0.0.1:${server.address().port}/`
  agent.close = () => new Promise((ok) => (server.close(ok), server.closeAllConnections()))
  return agent
}

const status = (state, metadata) => ({ kind: 'status-update', taskId: 'task-1', contextId: 'ctx', status: { state, ...(metadata ? { message: { kind: 'message', role: 'agent', messageId: 'r', parts: [], metadata } } : {}) }, final: state === 'completed' })

describe('A2A streams yield each event as it comes', { skip: !NVM_LOCAL_BUILT && 'nvm-local is not built', timeout: 60_000 }, () => {
  let nvm, agent, subscriber, plan

  before(async () => {
    agent = await startStreamingAgent()
    nvm = await startNvmLocal({ args: ['--a2a-url', agent.url] })
    plan = nvm.world.plans.free.planId
    const agentId = nvm.world.a2aAgent.agentId
    agent.card = buildPaymentAgentCard(
      { name: 'streamer', description: 'streams', version: '1.0.0', protocolVersion: '0.3.0', url: `${agent.url}a2a`, preferredTransport: 'JSONRPC', capabilities: { streaming: true }, defaultInputModes: ['text/plain'], defaultOutputModes: ['text/plain'], skills: [] },
      { agentId, planId: plan, credits: 1, paymentType: 'fixed' },
    )
    subscriber = await newSubscriber(nvm, { planId: plan, agentId })
  })
  after(() => stopAll(agent, nvm))

  const client = () => Payments.getInstance({ nvmApiKey: subscriber.apiKey, backendUrl: nvm.url }).a2a.getClient({ agentBaseUrl: agent.url, planIds: [plan] })

  /** Iterates `stream`, letting the agent write its next event after each one; each event's kind (or state) and how many the agent had written then. */
  async function drain(stream) {
    const seen = []
    for await (const event of stream) {
      seen.push([event.result.status?.state ?? event.result.kind, agent.written, event])
      agent.next?.()
    }
    return seen
  }

  test('sendA2AMessageStream: paid up front; each event yielded while the agent still holds the rest; the last, with paymentResponse, once the stream ended', async () => {
    const receipt = { success: true, creditsRedeemed: '1', transaction: '0xtx', network: 'eip155:84532', payer: subscriber.address }
    agent.script = () => [
      { kind: 'task', id: 'task-1', contextId: 'ctx', status: { state: 'working' } },
      { now: { kind: 'artifact-update', taskId: 'task-1', contextId: 'ctx', artifact: { artifactId: 'a', parts: [{ kind: 'text', text: 'part one' }] } } },
      status('completed', { 'x402.payment.status': 'payment-completed', 'x402.payment.receipts': [receipt] }),
    ]
    const seen = await drain((await client()).sendA2AMessageStream({ message: { kind: 'message', messageId: crypto.randomUUID(), role: 'user', parts: [{ kind: 'text', text: 'go' }] } }))
    // Each event one late (the next one's arrival shows it is not the last, which decides the payment).
    assert.deepEqual(seen.map(([what, written]) => [what, written]), [['working', 2], ['artifact-update', 3], ['completed', 3]])
    assert.equal(seen[0][2].paymentResponse, undefined)
    assert.deepEqual(seen[2][2].paymentResponse, receipt)
    const [call] = agent.calls.splice(0)
    assert.equal(call.rpc.method, 'message/stream')
    assert.equal(call.rpc.params.message.metadata['x402.payment.status'], 'payment-submitted', 'paid in band up front')
    assert.equal(call.headers['payment-signature'], undefined)
  })

  test('resubscribeA2ATask: each event yielded as soon as it is written; no token', async () => {
    agent.script = () => [': keep-alive\n\n', { now: status('working') }, status('input-required'), status('completed')]
    const seen = await drain((await client()).resubscribeA2ATask({ id: 'task-1' }))
    assert.deepEqual(seen.map(([what, written]) => [what, written]), [['working', 2], ['input-required', 3], ['completed', 4]])
    const [call] = agent.calls.splice(0)
    assert.deepEqual([call.rpc.method, call.rpc.params], ['tasks/resubscribe', { id: 'task-1' }])
    assert.equal(call.headers['payment-signature'], undefined)
    assert.doesNotMatch(JSON.stringify(call.rpc), /x402/)
  })

  test('a caller that stops iterating: the body is cancelled, the connection closed before the agent wrote the rest', async () => {
    agent.script = () => [status('working'), status('input-required'), status('completed')]
    const stream = (await client()).resubscribeA2ATask({ id: 'task-1' })
    for await (const event of stream) {
      assert.equal(event.result.status.state, 'working')
      break
    }
    // The agent waits for next(), which nobody calls: only the client's cancel ends the connection.
    assert.equal(await agent.gone, 1)
    agent.calls.length = 0
  })

  test('a line that is not the call\'s: the events before it, then an invalid_response error; nothing after it', async () => {
    agent.script = (rpc) => [status('working'), `data: ${JSON.stringify({ jsonrpc: '2.0', id: rpc.id + 1, result: status('completed') })}\n\n`, { now: status('completed') }]
    const seen = []
    await assert.rejects(
      (async () => {
        for await (const event of (await client()).resubscribeA2ATask({ id: 'task-1' })) {
          seen.push(event.result.status.state)
          agent.next?.()
        }
      })(),
      (e) => e instanceof PaymentsError && e.code === 'invalid_response',
    )
    assert.deepEqual(seen, ['working'])
    agent.calls.length = 0
  })
})
