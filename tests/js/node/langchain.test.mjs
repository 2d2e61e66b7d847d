// nvm-x402/langchain and nvm-x402/langsmith: the official SDK's requiresPayment,
// lastSettlement, PaymentRequiredError and createPaidReactAgent, with real LangChain
// tools (@langchain/core), a real LangGraph agent and real LangSmith run trees, paid
// through a live nvm-local by subscribers' access tokens. Each test checks what the
// caller got and what the backend charged (the plan's balance); where the official
// decorator fails open (a settle that fails still returns the result), ours withholds it.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { Payments, PaymentsError, getFreePriceConfig, getDynamicCreditsConfig } from 'nvm-x402'
import { Payments as McpPayments } from 'nvm-x402/mcp'
import { requiresPayment, lastSettlement, PaymentRequiredError, createPaidReactAgent } from 'nvm-x402/langchain'
import { abbreviateToken, buildSettleMetadata, buildVerifyMetadata, NVM_VERIFY_SPAN, NVM_SETTLEMENT_SPAN } from 'nvm-x402/langsmith'
import { tool } from '@langchain/core/tools'
import { BaseChatModel } from '@langchain/core/language_models/chat_models'
import { AIMessage, HumanMessage } from '@langchain/core/messages'
import { traceable } from 'langsmith/traceable'
import { z } from 'zod'
import { NVM_LOCAL_BUILT } from '../support/nvm.mjs'
import { startNvmLocal } from '../support/servers.mjs'
import { editToken, newSubscriber, stopAll } from '../support/gate.mjs'

const quiet = async (run) => {
  const [error, warn] = [console.error, console.warn]
  console.error = console.warn = () => {}
  try {
    return await run()
  } finally {
    ;[console.error, console.warn] = [error, warn]
  }
}

describe('nvm-x402/langchain against nvm-local', { skip: !NVM_LOCAL_BUILT && 'nvm-local is not built (scripts/build.sh --all)' }, () => {
  let live, planId, agentId, builderKey, alice, bob, agent, mode, calls

  before(async () => {
    live = await startNvmLocal()
    builderKey = live.world.accounts.builder.apiKey
    const builder = Payments.getInstance({ nvmApiKey: builderKey, backendUrl: live.url })
    ;({ planId } = await builder.plans.registerCreditsPlan({ name: 'langchain tools' }, getFreePriceConfig(), getDynamicCreditsConfig(1000n, 1n, 5n)))
    // No endpoints: the agent takes any resource URL (the function's name, as the official SDK sends).
    ;({ agentId } = await builder.agents.registerAgent({ name: 'langchain agent' }, { endpoints: [] }, [planId]))
    alice = await newSubscriber(live, { planId, agentId })
    bob = await newSubscriber(live, { planId, agentId })
    // The agent's client (of the default entry, as an official SDK user has); its backend calls
    // go through this fetch, so a test can make settle or verify fail.
    mode = 'ok'
    calls = []
    const agentFetch = async (url, init) => {
      const path = new URL(url).pathname
      calls.push(path)
      if (path.endsWith('/x402/settle') && mode === 'settle-refused') return new Response(JSON.stringify({ success: false, errorReason: 'Insufficient credits', transaction: '', network: 'eip155:84532' }), { status: 200 })
      if (path.endsWith('/x402/settle') && mode === 'settle-down') throw new TypeError('fetch failed')
      if (path.endsWith('/x402/verify') && mode === 'verify-down') throw new TypeError('fetch failed')
      if (path.endsWith('/x402/verify') && mode === 'verify-refused') return new Response(JSON.stringify({ isValid: false, invalidReason: 'Insufficient credits', payer: '0x00000000000000000000000000000000000000e1' }), { status: 200 })
      // A hostile (or buggy) backend that quotes the token in its reason.
      if (path.endsWith('/x402/verify') && mode === 'verify-echo') return new Response(JSON.stringify({ isValid: false, invalidReason: `bad token ${JSON.parse(init.body).x402AccessToken}` }), { status: 200 })
      return fetch(url, init)
    }
    agent = Payments.getInstance({ nvmApiKey: builderKey, backendUrl: live.url, fetch: agentFetch, timeoutMs: 2000 })
  })
  after(() => stopAll(live))

  /** A LangChain tool over a paid function that records what it was told. */
  function searchTool(options = {}, seen = []) {
    const search = async ({ query }, config) => {
      seen.push({ query, context: config?.configurable?.payment_context, token: config?.configurable?.payment_token })
      return `results for ${query}`
    }
    const paid = requiresPayment(search, { payments: agent, planId, agentId, credits: 2, ...options })
    return tool(paid, { name: 'search', description: 'Searches', schema: z.object({ query: z.string() }) })
  }

  test('a paid tool verifies, runs and settles its credits: the subscriber pays exactly that', async () => {
    mode = 'ok'
    const seen = []
    const search = searchTool({}, seen)
    const token = await alice.token()
    const before = await alice.balance()
    const configurable = { payment_token: token }
    const result = await search.invoke({ query: 'rust' }, { configurable })
    assert.equal(result, 'results for rust')
    assert.equal(await alice.balance(), before - 2n)
    // The function saw the official payment_context, with the token shown, never whole.
    const { context } = seen[0]
    assert.equal(seen[0].token, undefined, 'the raw token is taken out before the function runs')
    assert.equal(context.verified, true)
    assert.equal(context.creditsToSettle, 2)
    assert.equal(context.planId, planId)
    assert.equal(context.paymentRequired.accepts[0].planId, planId)
    assert.equal(context.paymentRequired.resource.url, 'search', 'the official resource URL: the function name')
    assert.equal(context.subscriberAddress.toLowerCase(), alice.address.toLowerCase())
    assert.equal(context.token, `${token.slice(0, 6)}…${token.slice(-4)}`)
    // The settlement: the call's own, and the official lastSettlement().
    const settlement = lastSettlement()
    assert.equal(settlement.success, true)
    assert.equal(settlement.creditsRedeemed, '2')
    assert.equal(settlement.payer.toLowerCase(), alice.address.toLowerCase())
  })

  test('no token: a PaymentRequiredError with the PaymentRequired to pay, and the function never runs', async () => {
    mode = 'ok'
    const seen = []
    const search = searchTool({}, seen)
    await assert.rejects(search.invoke({ query: 'free?' }, { configurable: {} }), (e) => {
      assert.ok(e instanceof PaymentRequiredError)
      assert.ok(e instanceof PaymentsError)
      assert.equal(e.name, 'PaymentRequiredError')
      assert.equal(e.code, 'payment_required')
      assert.equal(e.httpStatus, 402)
      assert.equal(e.message, 'Payment required: missing payment_token in config.configurable')
      assert.equal(e.paymentRequired.accepts[0].planId, planId)
      assert.equal(e.paymentRequired.accepts[0].extra.agentId, agentId)
      return true
    })
    assert.equal(seen.length, 0)
    assert.equal(lastSettlement(), undefined)
    // Only PaymentRequiredErrors are PaymentRequiredErrors (not every PaymentsError).
    assert.equal(new PaymentsError({ code: 'validation', message: 'x' }) instanceof PaymentRequiredError, false)
    const own = new PaymentRequiredError('pay first', { x402Version: 2 })
    assert.equal(own.paymentRequired.x402Version, 2)
  })

  test('a token for another plan is refused before the backend is asked, and charges nothing', async () => {
    mode = 'ok'
    const seen = []
    const search = searchTool({}, seen)
    const foreign = editToken(await alice.token(), (t) => {
      t.accepted.planId = live.world.plans.free.planId
    })
    const verifies = calls.filter((p) => p.endsWith('/x402/verify')).length
    const before = await alice.balance()
    await assert.rejects(search.invoke({ query: 'x' }, { configurable: { payment_token: foreign } }), (e) => e instanceof PaymentRequiredError && /^Payment verification failed: /.test(e.message))
    assert.equal(seen.length, 0)
    assert.equal(calls.filter((p) => p.endsWith('/x402/verify')).length, verifies)
    assert.equal(await alice.balance(), before)
  })

  test('a settle that fails withholds the result (the official decorator returns it unpaid)', async () => {
    const seen = []
    const search = searchTool({}, seen)
    const token = await alice.token()
    const before = await alice.balance()
    mode = 'settle-refused'
    try {
      await quiet(() => assert.rejects(search.invoke({ query: 'unpaid' }, { configurable: { payment_token: token } }), (e) => {
        assert.ok(e instanceof PaymentRequiredError)
        assert.equal(e.message, 'Payment settlement failed: Insufficient credits; the result was withheld')
        assert.equal(e.paymentRequired.error, 'settlement failed')
        return true
      }))
      assert.equal(seen.length, 1, 'the function ran')
      assert.equal(lastSettlement(), undefined)
      // Settle unreachable: an error with the transport's code, never the result.
      mode = 'settle-down'
      await quiet(() => assert.rejects(search.invoke({ query: 'unpaid' }, { configurable: { payment_token: token } }), (e) => !(e instanceof PaymentRequiredError) && e instanceof PaymentsError && e.code === 'network_error' && e.httpStatus === 503 && /nothing was delivered/.test(e.message)))
    } finally {
      mode = 'ok'
    }
    assert.equal(await alice.balance(), before, 'nothing was settled')
  })

  test('the backend down at verify: an error (not a payment request), and the function never runs', async () => {
    const seen = []
    const search = searchTool({}, seen)
    const token = await alice.token()
    mode = 'verify-down'
    try {
      await quiet(() => assert.rejects(search.invoke({ query: 'x' }, { configurable: { payment_token: token } }), (e) => !(e instanceof PaymentRequiredError) && e.code === 'network_error' && e.httpStatus === 503 && /nothing was run or charged/.test(e.message)))
    } finally {
      mode = 'ok'
    }
    assert.equal(seen.length, 0)
  })

  test('a backend reason that quotes the token shows it redacted (errors reach logs, traces and the model)', async () => {
    const token = await alice.token()
    mode = 'verify-echo'
    try {
      await assert.rejects(searchTool().invoke({ query: 'x' }, { configurable: { payment_token: token } }), (e) => {
        assert.ok(e instanceof PaymentRequiredError)
        assert.equal(e.message, `Payment verification failed: bad token ${token.slice(0, 6)}…${token.slice(-4)}`)
        assert.ok(!JSON.stringify([e.message, e.paymentRequired]).includes(token.slice(6, -4)))
        return true
      })
    } finally {
      mode = 'ok'
    }
  })

  test('a configurable that is frozen still pays, and the function still never sees the token', async () => {
    mode = 'ok'
    const seen = []
    const paid = requiresPayment(async (args, config) => {
      seen.push(config.configurable)
      return 'ok'
    }, { payments: agent, planId, agentId })
    const token = await alice.token()
    const before = await alice.balance()
    const configurable = Object.freeze({ payment_token: token, user: 'u1' })
    assert.equal(await paid({}, { configurable }), 'ok')
    assert.equal(seen[0].payment_token, undefined)
    assert.equal(seen[0].user, 'u1')
    assert.equal(seen[0].payment_context.verified, true)
    assert.equal(await alice.balance(), before - 1n)
  })

  test('a LangSmith that never answers holds up neither the payment nor the paid result', async () => {
    mode = 'ok'
    const hanging = { createRun: () => new Promise(() => {}), updateRun: () => new Promise(() => {}), awaitPendingTraceBatches: async () => {} }
    const search = searchTool()
    const before = await alice.balance()
    const token = await alice.token()
    const run = traceable((query) => search.invoke({ query }, { configurable: { payment_token: token } }), { name: 'turn', client: hanging, tracingEnabled: true })
    const outcome = await Promise.race([run('slow tracing'), new Promise((resolve) => setTimeout(() => resolve('no answer in 10 s'), 10_000).unref())])
    assert.equal(outcome, 'results for slow tracing')
    assert.equal(await alice.balance(), before - 2n)
  })

  test('a credits function prices the call after it ran; a function that throws is charged nothing', async () => {
    mode = 'ok'
    const priced = tool(
      requiresPayment(async ({ words }) => words.split(' '), { payments: agent, planId, agentId, credits: ({ args, result }) => result.length + (args.words ? 0 : 100) }),
      { name: 'split', schema: z.object({ words: z.string() }) },
    )
    const before = await alice.balance()
    const out = await priced.invoke({ words: 'one two three' }, { configurable: { payment_token: await alice.token() } })
    assert.deepEqual(out, ['one', 'two', 'three'])
    assert.equal(await alice.balance(), before - 3n)
    const failing = tool(
      requiresPayment(async () => {
        throw new Error('tool broke')
      }, { payments: agent, planId, agentId }),
      { name: 'broken', schema: z.object({}) },
    )
    await assert.rejects(failing.invoke({}, { configurable: { payment_token: await alice.token() } }), /tool broke/)
    assert.equal(await alice.balance(), before - 3n)
    // A credits function that does not give an amount: nothing delivered or charged.
    const bad = requiresPayment(async () => 'x', { payments: agent, planId, agentId, credits: () => 1.5 })
    await assert.rejects(bad({}, { configurable: { payment_token: await alice.token() } }), (e) => e instanceof PaymentsError && e.code === 'internal' && e.httpStatus === 500)
    // One that throws: its own error reaches the caller (as the official SDK's); nothing delivered or charged.
    const throwing = requiresPayment(async () => 'x', { payments: agent, planId, agentId, credits: () => {
      throw new RangeError('no price for this')
    } })
    const tokenConfig = { configurable: { payment_token: await alice.token() } }
    await quiet(() => assert.rejects(throwing({}, tokenConfig), (e) => e instanceof RangeError && e.message === 'no price for this'))
    assert.equal(await alice.balance(), before - 3n)
  })

  test('concurrent calls of two subscribers: each pays for its own call and gets its own settlement', async () => {
    mode = 'ok'
    const search = requiresPayment(async ({ who }) => `hi ${who}`, { payments: agent, planId, agentId, credits: 1 })
    const [a0, b0] = [await alice.balance(), await bob.balance()]
    const [ca, cb] = [{ payment_token: await alice.token() }, { payment_token: await bob.token() }]
    const [ra, rb] = await Promise.all([search({ who: 'alice' }, { configurable: ca }), search({ who: 'bob' }, { configurable: cb })])
    assert.deepEqual([ra, rb], ['hi alice', 'hi bob'])
    assert.deepEqual([await alice.balance(), await bob.balance()], [a0 - 1n, b0 - 1n])
    assert.equal(ca.payment_settlement.payer.toLowerCase(), alice.address.toLowerCase())
    assert.equal(cb.payment_settlement.payer.toLowerCase(), bob.address.toLowerCase())
  })

  test('options are checked when the function is wrapped; a client of any entry pays', async () => {
    const fn = async () => 'x'
    assert.throws(() => requiresPayment(fn, { payments: agent }), (e) => e instanceof PaymentsError && e.code === 'validation' && /planId/.test(e.message))
    assert.throws(() => requiresPayment(fn, { payments: {}, planId }), (e) => e instanceof PaymentsError && e.code === 'validation')
    assert.throws(() => requiresPayment('nope', { payments: agent, planId }), (e) => e instanceof PaymentsError && e.code === 'validation')
    for (const credits of [0, NaN, Infinity, null, -1, 1.5]) {
      assert.throws(() => requiresPayment(fn, { payments: agent, planId, credits }), (e) => e.code === 'validation', String(credits))
    }
    // A client of nvm-x402/mcp (this entry's own core), and a named endpoint.
    const mcp = McpPayments.getInstance({ nvmApiKey: builderKey, backendUrl: live.url })
    const paid = requiresPayment(async () => 'from mcp', { payments: mcp, planId, agentId, endpoint: 'tools/lookup' })
    const config = { configurable: { payment_token: await alice.token() } }
    assert.equal(await paid({}, config), 'from mcp')
    assert.equal(config.configurable.payment_context.paymentRequired.resource.url, 'tools/lookup')
  })

  test('createPaidReactAgent: a LangGraph agent whose paid tool is paid from the run config, and whose payment errors reach the caller', async () => {
    mode = 'ok'
    let ran = 0
    const lookup = tool(
      requiresPayment(async ({ query }) => {
        ran += 1
        return `answer to ${query}`
      }, { payments: agent, planId, agentId }),
      { name: 'lookup', description: 'Looks up', schema: z.object({ query: z.string() }) },
    )
    const graph = await createPaidReactAgent(new ScriptedModel({}), [lookup])
    const before = await alice.balance()
    const state = await graph.invoke({ messages: [new HumanMessage('what is x402?')] }, { configurable: { payment_token: await alice.token() } })
    const last = state.messages.at(-1)
    assert.equal(last.content, 'done: answer to x402')
    assert.equal(ran, 1)
    assert.equal(await alice.balance(), before - 1n)
    // No token: the tool's PaymentRequiredError is not turned into a message.
    await assert.rejects(graph.invoke({ messages: [new HumanMessage('again')] }, { configurable: {} }), (e) => e instanceof PaymentRequiredError && e.paymentRequired.accepts[0].planId === planId)
    assert.equal(ran, 1)
    await assert.rejects(createPaidReactAgent(new ScriptedModel({}), [lookup], { tools: [] }), (e) => e.code === 'validation')
  })

  test('LangSmith: nvm:verify and nvm:settlement child spans under the active run, with the nvm.* metadata and no raw token', async () => {
    mode = 'ok'
    const posted = []
    const updated = []
    const client = { createRun: async (run) => posted.push(structuredClone(run)), updateRun: async (id, run) => updated.push({ id, ...structuredClone(run) }), awaitPendingTraceBatches: async () => {} }
    const search = searchTool()
    const token = await alice.token()
    const run = traceable((query) => search.invoke({ query }, { configurable: { payment_token: token } }), { name: 'agent-turn', client, tracingEnabled: true })
    assert.equal(await run('spans'), 'results for spans')
    // Spans are sent after the call (a slow LangSmith never holds a payment): wait for them.
    const sent = (name) => posted.find((r) => r.name === name)
    for (let i = 0; i < 200 && !(sent(NVM_VERIFY_SPAN) && sent(NVM_SETTLEMENT_SPAN)); i++) await new Promise((resolve) => setTimeout(resolve, 25))
    const verify = sent(NVM_VERIFY_SPAN)
    const settle = sent(NVM_SETTLEMENT_SPAN)
    assert.ok(verify && settle, `spans posted: ${posted.map((r) => r.name)}`)
    assert.equal(verify.run_type, 'tool')
    assert.deepEqual(verify.inputs.plan_ids, [planId])
    const vmd = verify.extra.metadata
    assert.deepEqual(vmd['nvm.plan_ids'], [planId])
    assert.equal(vmd['nvm.scheme'], 'nvm:erc4337')
    assert.equal(vmd['nvm.agent_id'], agentId)
    assert.equal(vmd['nvm.payer'].toLowerCase(), alice.address.toLowerCase())
    assert.equal(vmd['nvm.payment_token'], `${token.slice(0, 6)}…${token.slice(-4)}`)
    assert.equal(typeof vmd['nvm.verify.duration_ms'], 'number')
    const smd = settle.extra.metadata
    assert.equal(smd['nvm.credits_redeemed'], '2', 'credits stay strings')
    assert.equal(typeof smd['nvm.balance.after'], 'string')
    assert.equal(typeof smd['nvm.settle.duration_ms'], 'number')
    // Both under the same run (the tool's, LangChain's), in the caller's trace.
    const turn = sent('agent-turn')
    assert.ok(verify.parent_run_id && verify.parent_run_id !== turn.id)
    assert.equal(settle.parent_run_id, verify.parent_run_id)
    assert.equal(verify.trace_id, turn.id)
    assert.equal(settle.trace_id, turn.id)
    assert.ok(!JSON.stringify([posted, updated]).includes(token.slice(6, -4)), 'no whole token in any run')
    // A refused verify: its span ends with the refusal and carries what the backend said.
    posted.length = 0
    mode = 'verify-refused'
    try {
      const refused = traceable((query) => search.invoke({ query }, { configurable: { payment_token: token } }), { name: 'refused-turn', client, tracingEnabled: true })
      await assert.rejects(refused('x'), (e) => e instanceof PaymentRequiredError)
    } finally {
      mode = 'ok'
    }
    for (let i = 0; i < 200 && !sent(NVM_VERIFY_SPAN); i++) await new Promise((resolve) => setTimeout(resolve, 25))
    const refusedSpan = sent(NVM_VERIFY_SPAN)
    assert.equal(refusedSpan.error, 'Payment verification failed: Insufficient credits')
    assert.equal(refusedSpan.extra.metadata['nvm.payer'], '0x00000000000000000000000000000000000000e1')
    assert.equal(sent(NVM_SETTLEMENT_SPAN), undefined, 'no settlement span for a refused call')
  })
})

describe('nvm-x402/langsmith helpers', () => {
  test('abbreviateToken shows the first 6 and last 4 characters (the core rule), is idempotent, and hides short values', () => {
    const token = 'eyJ4NDAyVmVyc2lvbiI6MiwiYWNjZXB0ZWQiOnt9fQabcd'
    const shown = abbreviateToken(token)
    assert.equal(shown, `${token.slice(0, 6)}…${token.slice(-4)}`)
    assert.equal(abbreviateToken(shown), shown)
    assert.equal(abbreviateToken('short-token'), '[redacted]')
    assert.equal(abbreviateToken(''), undefined)
    assert.equal(abbreviateToken(undefined), undefined)
  })

  test('the metadata builders map the spec fields and drop absent ones', () => {
    assert.deepEqual(buildVerifyMetadata({ planIds: ['p'] }), { 'nvm.plan_ids': ['p'] })
    const md = buildVerifyMetadata({ planIds: ['p'], agentId: 'a', durationMs: 12.3456, verification: { payer: '0xp', network: 'eip155:1', agentRequestId: 'r' } })
    assert.deepEqual(md, { 'nvm.plan_ids': ['p'], 'nvm.agent_id': 'a', 'nvm.verify.duration_ms': 12.35, 'nvm.payer': '0xp', 'nvm.network': 'eip155:1', 'nvm.agent_request_id': 'r' })
    assert.equal(buildVerifyMetadata({ planIds: [], network: 'mine', verification: { network: 'theirs' } })['nvm.network'], 'mine')
    const settle = buildSettleMetadata({ planIds: ['p'], settlement: { creditsRedeemed: '3', remainingBalance: '7', transaction: '', network: '' } })
    assert.deepEqual(settle, { 'nvm.plan_ids': ['p'], 'nvm.credits_redeemed': '3', 'nvm.balance.after': '7' })
  })
})

/** A chat model that asks for the `lookup` tool once, then answers with what the tool returned. */
class ScriptedModel extends BaseChatModel {
  _llmType() {
    return 'scripted'
  }

  bindTools() {
    return this
  }

  async _generate(messages) {
    const last = messages.at(-1)
    const message = last.getType() === 'tool' ? new AIMessage(`done: ${last.content}`) : new AIMessage({ content: '', tool_calls: [{ name: 'lookup', args: { query: 'x402' }, id: `call-${messages.length}` }] })
    return { generations: [{ text: String(message.content), message }] }
  }
}
