// The paying client against agents that try to take more than they were
// allowed (issue #9, items 6 and 7): an agent that redirects the paid request
// to another origin never gets the token there, an agent that burns more than
// `maxCredits` is an error and gets no more requests with that token, and an
// agent that forces card top-ups can't make new Payments instances open fresh
// budgets. Agents here are loopback recorders (or an in-process paywall); the
// backend is a scripted recorder or a live nvm-local.
import { describe, test, before, after, beforeEach } from 'node:test'
import assert from 'node:assert/strict'
import { Payments, PaymentsError, encodeAccessToken, encodePaymentHeader, buildPaymentRequired, getFiatPriceConfig, getFixedCreditsConfig, getFreePriceConfig } from 'nvm-x402'
import { Payments as AgentPayments } from 'nvm-x402/agent'
import { KEY, NVM_LOCAL_BUILT, liveAccount, liveBackendFor } from '../support/nvm.mjs'
import { startRecorder } from '../support/servers.mjs'

const PLAN = '10'
const MINT = '/api/v1/x402/permissions'

/** A backend that mints numbered tokens, has one active delegation, and prices plan 10 at up to 2 credits a request. */
function scriptBackend(backend) {
  let minted = 0
  backend.respond('POST', MINT, (call) => ({ status: 201, json: { accessToken: encodeAccessToken({ x402Version: 2, accepted: call.json.accepted, payload: { authorization: { from: '0xsub', seq: ++minted } } }) } }))
  backend.respond('GET', '/api/v1/delegation', { json: { delegations: [{ delegationId: 'del-1', provider: 'erc4337', status: 'Active', remainingBudgetCents: '100' }], totalResults: 1, page: 1, offset: 0 } })
  backend.respond('GET', `/api/v1/protocol/plans/${PLAN}`, { json: { id: PLAN, registry: { price: { isCrypto: true }, credits: { amount: '100', minAmount: '1', maxAmount: '2' } } } })
}

/** An agent at `agent.url` that asks for plan 10 until it gets a token, then answers `paid(call)`. */
function scriptAgent(agent, paid) {
  agent.respond('*', '*', (call) => {
    if (!call.headers['payment-signature']) {
      const required = buildPaymentRequired(PLAN, { endpoint: `${agent.url}${call.path.slice(1)}`, agentId: 'agent-1', httpVerb: call.method })
      return { status: 402, headers: { 'payment-required': encodePaymentHeader(required) }, json: { error: 'Payment Required' } }
    }
    return paid(call)
  })
}

const receipt = (credits) => encodePaymentHeader({ success: true, transaction: '0xtx', network: 'eip155:84532', creditsRedeemed: String(credits), remainingBalance: '90' })

describe('a hostile agent', () => {
  let backend, agent, elsewhere, payments

  before(async () => {
    ;[backend, agent, elsewhere] = await Promise.all([startRecorder(), startRecorder(), startRecorder()])
  })
  after(() => Promise.all([backend, agent, elsewhere].map((s) => s.close())))
  beforeEach(() => {
    for (const server of [backend, agent, elsewhere]) server.reset()
    scriptBackend(backend)
    elsewhere.respond('*', '*', { json: { stolen: false } })
    payments = Payments.getInstance({ nvmApiKey: KEY, backendUrl: backend.url })
  })
  const tokensSentTo = (server) => server.requests.filter((r) => r.headers['payment-signature'] !== undefined)

  test('7. a redirect of the paid request to another origin is followed without the token', async () => {
    scriptAgent(agent, () => ({ status: 307, headers: { location: `${elsewhere.url}loot`, 'payment-response': receipt(1) } }))
    const { response, paymentResponse } = await payments.fetch(`${agent.url}tasks`, { method: 'POST', body: '{"q":1}', headers: { 'content-type': 'application/json', authorization: 'Bearer mine', cookie: 'session=mine', 'proxy-authorization': 'Basic mine' } }, { planIds: [PLAN] })
    assert.equal(response.status, 200)
    assert.deepEqual(await response.json(), { stolen: false })
    assert.equal(paymentResponse.creditsRedeemed, '1', 'the receipt of the redirect that answered the paid request')
    assert.equal(elsewhere.requests.length, 1)
    assert.deepEqual(tokensSentTo(elsewhere), [], 'no payment-signature at the other origin')
    assert.equal(elsewhere.requests[0].headers.authorization, undefined, 'nor the caller\'s Authorization (as fetch does)')
    assert.equal(elsewhere.requests[0].headers.cookie, undefined, 'nor its Cookie')
    assert.equal(elsewhere.requests[0].headers['proxy-authorization'], undefined, 'nor its Proxy-Authorization')
    assert.equal(elsewhere.requests[0].body, '{"q":1}', '307 keeps the method and body')
    assert.equal(elsewhere.requests[0].method, 'POST')
    // The second call sends the cached token up front: the same rule holds.
    await payments.fetch(`${agent.url}tasks`, { method: 'POST', body: '{}' }, { planIds: [PLAN] })
    assert.equal(agent.requests.length, 2, 'paid up front both times (one plan allowed)')
    assert.deepEqual(tokensSentTo(elsewhere), [])
  })

  test('7. a token the caller put on the request themselves does not follow a redirect to another origin either', async () => {
    agent.respond('*', '*', { status: 307, headers: { location: `${elsewhere.url}loot` } })
    const { response } = await payments.fetch(`${agent.url}tasks`, { method: 'POST', body: 'x', headers: { 'payment-signature': 'my-own-token' } })
    assert.equal(response.status, 200)
    assert.equal(agent.requests[0].headers['payment-signature'], 'my-own-token', 'sent to the agent as given')
    assert.equal(elsewhere.requests.length, 1)
    assert.deepEqual(tokensSentTo(elsewhere), [], 'not to the other origin')
    assert.equal(backend.requests.length, 0, 'nothing minted')
  })

  test('7. a redirect within the agent\'s origin keeps the token; 303 and POST-302 become GET', async () => {
    scriptAgent(agent, (call) => (call.path === '/tasks' ? { status: 302, headers: { location: '/result/7' } } : { json: { path: call.path, method: call.method } }))
    const { response } = await payments.fetch(`${agent.url}tasks`, { method: 'POST', body: 'x' }, { planIds: [PLAN] })
    assert.deepEqual(await response.json(), { path: '/result/7', method: 'GET' })
    const hop = agent.requests.at(-1)
    assert.ok(hop.headers['payment-signature'], 'same origin: the token goes along')
    assert.equal(hop.body, '')
  })

  test('7. the caller\'s redirect: "manual" and "error" are honoured', async () => {
    scriptAgent(agent, () => ({ status: 301, headers: { location: `${elsewhere.url}x` } }))
    const manual = await payments.fetch(`${agent.url}tasks`, { redirect: 'manual' }, { planIds: [PLAN] })
    assert.equal(manual.response.status, 301)
    await assert.rejects(payments.fetch(`${agent.url}tasks`, { redirect: 'error' }, { planIds: [PLAN] }), (e) => e instanceof PaymentsError && e.code === 'network_error')
    assert.equal(elsewhere.requests.length, 0)
  })

  test('7. a paid request redirected to a Location that is not a URL is an error, and nothing more is sent', async () => {
    scriptAgent(agent, () => ({ status: 302, headers: { location: 'http://[::1' } }))
    await assert.rejects(payments.fetch(`${agent.url}tasks`, { method: 'POST', body: 'x' }, { planIds: [PLAN] }), (e) => e instanceof PaymentsError && e.code === 'network_error' && /invalid URL/.test(e.message) && e.response === undefined)
    assert.equal(agent.requests.length, 1, 'paid up front, then nothing followed')
  })

  test('an agent that can\'t be reached is a retryable network_error naming it (no token, no backend call lost)', async () => {
    const url = `${agent.url}tasks`
    await agent.close()
    try {
      await assert.rejects(payments.fetch(url, { method: 'POST', body: 'x' }, { planIds: [PLAN] }), (e) => e instanceof PaymentsError && e.code === 'network_error' && e.retryable === true && e.message.startsWith(`Could not reach ${url}`) && e.response === undefined)
    } finally {
      agent = await startRecorder()
    }
  })

  test('7. an MCP server that redirects the tool call (token in the body) to another origin is not followed', async () => {
    agent.respond('POST', '/mcp', { status: 307, headers: { location: `${elsewhere.url}mcp` } })
    await assert.rejects(
      payments.mcp.callTool({ url: `${agent.url}mcp`, name: 'echo', arguments: { text: 'hi' }, planId: PLAN, agentId: 'agent-1' }),
      (e) => e instanceof PaymentsError && e.code === 'redirect_not_followed' && /another origin/.test(e.message),
    )
    assert.equal(elsewhere.requests.length, 0, 'the body with the decoded token never left the agent\'s origin')
  })

  test('6. an agent that burns more than maxCredits: an error with the response, and no more of that token', async () => {
    scriptAgent(agent, () => ({ status: 200, headers: { 'payment-response': receipt(9) }, json: { answer: 'pricey' } }))
    let error
    try {
      await payments.fetch(`${agent.url}tasks`, { method: 'POST', body: '{}' }, { planIds: [PLAN], maxCredits: 2 })
    } catch (caught) {
      error = caught
    }
    assert.ok(error instanceof PaymentsError, `expected a PaymentsError, got ${error}`)
    assert.equal(error.code, 'max_credits_exceeded')
    assert.match(error.message, /burned 9 credits for one request, more than maxCredits \(2\)/)
    assert.equal(error.details.creditsRedeemed, '9')
    assert.equal(error.response.status, 200, 'the response that was paid for is still there')
    assert.deepEqual(await error.response.json(), { answer: 'pricey' })
    // The token it overcharged is never sent again: the next call pays with a new one (and is checked again).
    const overcharged = agent.requests.at(-1).headers['payment-signature']
    assert.ok(overcharged)
    const before = agent.requests.length
    await assert.rejects(payments.fetch(`${agent.url}tasks`, { method: 'POST', body: '{}' }, { planIds: [PLAN], maxCredits: 2 }), (e) => e.code === 'max_credits_exceeded')
    const next = agent.requests[before].headers['payment-signature']
    assert.ok(next, 'one plan allowed: paid up front')
    assert.notEqual(next, overcharged, 'not the token that was overcharged')
  })

  test('6. a plan that may cost more per request than maxCredits is refused before minting', async () => {
    scriptAgent(agent, () => ({ json: { answer: 'never' } }))
    await assert.rejects(payments.fetch(`${agent.url}tasks`, {}, { planIds: [PLAN], maxCredits: 1 }), (e) => e.code === 'max_credits_exceeded' && /Plan 10 charges up to 2 credits per request/.test(e.message))
    assert.equal(backend.requests.filter((r) => r.path === MINT).length, 0)
    assert.deepEqual(tokensSentTo(agent), [])
  })
})

describe('a hostile agent forcing card top-ups', { skip: !NVM_LOCAL_BUILT && 'nvm-local is not built (scripts/build.sh --all)' }, () => {
  test('6. new Payments instances reuse the one delegation: one $1.00 budget, not one per instance', async (t) => {
    const live = await liveBackendFor(t)
    const { world } = live
    // A card plan whose terms charge a whole order (10 credits for $1.00) per request, and its own
    // agent charging that: every call forces a top-up.
    const builder = Payments.getInstance({ nvmApiKey: world.accounts.builder.apiKey, backendUrl: live.url })
    const price = world.plans.fiat.price
    const { planId: fiat } = await builder.plans.registerCreditsPlan({ name: 'A whole order per request' }, getFiatPriceConfig(BigInt(price), world.accounts.builder.address), getFixedCreditsConfig(10n, 10n))
    const { agentId } = await builder.agents.registerAgent({ name: 'greedy' }, { endpoints: [{ POST: 'https://greedy.example/tasks' }] }, [fiat])
    const gate = AgentPayments.getInstance({ nvmApiKey: world.accounts.builder.apiKey, backendUrl: live.url }).paywall({ agentId, routes: { 'POST /tasks': { planId: fiat, credits: 10 } } })
    const subscriber = await liveAccount(live, `card-holder-${process.pid}`)
    // The agent lives in this process; everything else goes to nvm-local.
    const fetchVia = (input, init) => {
      const request = new Request(input, init)
      return request.url.startsWith('https://greedy.example/') ? gate.handle(request, () => Response.json({ answer: 'expensive' })) : fetch(request)
    }
    const outcomes = []
    for (let reload = 0; reload < 4; reload++) {
      const payments = Payments.getInstance({ nvmApiKey: subscriber.apiKey, backendUrl: live.url, fetch: fetchVia })
      const { response } = await payments.fetch('https://greedy.example/tasks', { method: 'POST', body: '{}' }, { planIds: [fiat] })
      outcomes.push(response.status)
    }
    assert.deepEqual(outcomes, [200, 402, 402, 402], 'one top-up paid by the default budget, then refused')
    const { delegations } = await subscriber.payments.delegation.listDelegations()
    const cards = delegations.filter((d) => d.provider === 'stripe')
    assert.equal(cards.length, 1, 'one delegation across four instances')
    assert.equal(String(cards[0].spendingLimitCents), '100', 'the small default budget')
    assert.equal(String(cards[0].amountSpentCents), String(price / 10000), 'one $1.00 order')
  })
})

describe('an agent charging more than its plan\'s terms (issue #20, item 2)', { skip: !NVM_LOCAL_BUILT && 'nvm-local is not built (scripts/build.sh --all)' }, () => {
  test('a gate charging 50 on a plan of 1 credit per request costs the subscriber 1, within maxCredits: 1', async (t) => {
    const live = await liveBackendFor(t)
    const { world } = live
    const builder = Payments.getInstance({ nvmApiKey: world.accounts.builder.apiKey, backendUrl: live.url })
    const { planId } = await builder.plans.registerCreditsPlan({ name: 'One credit a request' }, getFreePriceConfig(), getFixedCreditsConfig(100n, 1n))
    const { agentId } = await builder.agents.registerAgent({ name: 'overcharging' }, { endpoints: [{ POST: 'https://overcharging.example/tasks' }] }, [planId])
    const asked = [] // what the gate asked the backend to burn
    const recording = (url, init) => {
      if (String(url).endsWith('/api/v1/x402/settle')) asked.push(JSON.parse(init.body).maxAmount)
      return fetch(url, init)
    }
    const gate = AgentPayments.getInstance({ nvmApiKey: world.accounts.builder.apiKey, backendUrl: live.url, fetch: recording }).paywall({ agentId, routes: { 'POST /tasks': { planId, credits: 50 } } })
    const subscriber = await liveAccount(live, `capped-${process.pid}`)
    await subscriber.payments.plans.orderPlan(planId)
    const balance = async () => BigInt((await subscriber.payments.plans.getPlanBalance(planId)).balance)
    const fetchVia = (input, init) => {
      const request = new Request(input, init)
      return request.url.startsWith('https://overcharging.example/') ? gate.handle(request, () => Response.json({ answer: 'cheap after all' })) : fetch(request)
    }
    const payments = Payments.getInstance({ nvmApiKey: subscriber.apiKey, backendUrl: live.url, fetch: fetchVia })
    for (const maxCredits of [1, undefined]) {
      const before = await balance()
      const { response, paymentResponse } = await payments.fetch('https://overcharging.example/tasks', { method: 'POST', body: '{}' }, { planIds: [planId], maxCredits })
      assert.equal(response.status, 200)
      assert.deepEqual(await response.json(), { answer: 'cheap after all' })
      assert.equal(paymentResponse.creditsRedeemed, '1', 'the plan\'s terms, not what the agent asked')
      assert.equal(await balance(), before - 1n, `maxCredits ${maxCredits}: one credit spent`)
    }
    assert.deepEqual(asked, ['50', '50'], 'the agent did ask for 50 each time')
  })
})
