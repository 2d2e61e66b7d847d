// agents.*: registration (alone and with a plan), lookups.
import test from 'node:test'
import assert from 'node:assert/strict'
import { ONE_DAY_DURATION, getExpirableDurationConfig, getFixedCreditsConfig, getFreePriceConfig, getFiatPriceConfig } from 'nvm-x402'
import { assertRequests, backendFor, clientFor, paymentsError } from '../support/nvm.mjs'

const AGENTS = '/api/v1/protocol/agents'
const RECEIVER = '0x1234567890abcdef1234567890ABCDEF12345678'
const api = { endpoints: [{ POST: 'https://agent.example/tasks/:id' }, { GET: 'https://agent.example/items' }], openEndpoints: ['https://agent.example/health'], agentDefinitionUrl: 'https://agent.example/openapi.json', authType: 'bearer' }

test('registerAgent: body {metadataAttributes, agentApiAttributes, plans}; {data:{agentId}} answer', async (t) => {
  const backend = await backendFor(t)
  backend.respond('POST', AGENTS, { json: { data: { agentId: 'agent-1' }, txHash: '0x' } })
  const metadata = { name: 'Agent', description: 'does things', tags: ['ai'] }
  const result = await clientFor(backend).agents.registerAgent(metadata, api, ['p1', 'p2'])
  assert.deepEqual(result, { agentId: 'agent-1' })
  assertRequests(backend, [{ method: 'POST', url: AGENTS, body: { metadataAttributes: metadata, agentApiAttributes: api, plans: ['p1', 'p2'] } }])
})

test('registerAgent: a bare {agentId} answer (number or string) is accepted', async (t) => {
  const backend = await backendFor(t)
  const payments = clientFor(backend)
  for (const [answer, agentId] of [[{ agentId: 'a-2' }, 'a-2'], [{ agentId: 8 }, '8']]) {
    backend.respond('POST', AGENTS, { json: answer })
    assert.deepEqual(await payments.agents.registerAgent({ name: 'A' }, api, ['p']), { agentId })
  }
})

test('registerAgent: no agentApi sends no endpoints key (as both official SDKs); plan ids as bigints or numbers become strings', async (t) => {
  const backend = await backendFor(t)
  backend.respond('POST', AGENTS, { json: { data: { agentId: 'x' } } })
  const big = 2n ** 100n
  await clientFor(backend).agents.registerAgent({ name: 'A' }, undefined, [big, 7])
  assertRequests(backend, [{ method: 'POST', url: AGENTS, body: { metadataAttributes: { name: 'A' }, agentApiAttributes: {}, plans: [big.toString(), '7'] } }])
})

test('registerAgent: validation errors are raised before sending', async (t) => {
  const backend = await backendFor(t)
  const agents = clientFor(backend).agents
  const cases = [
    [{}, api, ['p'], /name/],
    [{ name: ' ' }, api, ['p'], /name/],
    [{ name: 'A' }, { endpoints: [{ FETCH: 'https://a.example/' }] }, ['p'], /HTTP method/],
    [{ name: 'A' }, { endpoints: [{ POST: '' }] }, ['p'], /URL/],
    [{ name: 'A' }, { endpoints: [{ POST: 'https://a.example/', GET: 'https://a.example/' }] }, ['p'], /one/],
    [{ name: 'A' }, { endpoints: [{}] }, ['p'], /one/],
    [{ name: 'A' }, { endpoints: 'https://a.example/' }, ['p'], /list/],
    [{ name: 'A' }, api, [''], /plan ids/],
    [{ name: 'A' }, api, 'p', /paymentPlans/],
    [{ name: 'A' }, api, [{}], /paymentPlans/],
  ]
  for (const [metadata, agentApi, plans, message] of cases) {
    await paymentsError(agents.registerAgent(metadata, agentApi, plans), { code: 'validation', message })
  }
  assert.equal(backend.requests.length, 0)
})

test('registerAgent: an answer without agentId is invalid_response', async (t) => {
  const backend = await backendFor(t)
  backend.respond('POST', AGENTS, { status: 201, json: { data: {} } })
  await paymentsError(clientFor(backend).agents.registerAgent({ name: 'A' }, api, ['p']), { code: 'invalid_response', httpStatus: 201, message: /agentId/ })
})

test('registerAgentAndPlan: {plan:{metadataAttributes, priceConfig, creditsConfig, accessLimit}, agent:{...}}; {data:{agentId, planId}, txHash}', async (t) => {
  const backend = await backendFor(t)
  backend.respond('POST', `${AGENTS}/plans`, { json: { data: { agentId: 'ag-1', planId: 'pl-1' }, txHash: '0xfeed' } })
  const price = getFiatPriceConfig(5_000_000n, RECEIVER)
  const credits = getFixedCreditsConfig(50n, 2n)
  const result = await clientFor(backend).agents.registerAgentAndPlan({ name: 'Agent' }, api, { name: 'Plan' }, price, credits)
  assert.deepEqual(result, { agentId: 'ag-1', planId: 'pl-1', txHash: '0xfeed' })
  assertRequests(backend, [
    {
      method: 'POST',
      url: `${AGENTS}/plans`,
      body: {
        plan: { metadataAttributes: { name: 'Plan' }, priceConfig: price, creditsConfig: credits, accessLimit: 'credits' },
        agent: { metadataAttributes: { name: 'Agent' }, agentApiAttributes: api },
      },
    },
  ])
})

test('registerAgentAndPlan: accessLimit implied (time) or given; bare ids; no txHash', async (t) => {
  const backend = await backendFor(t)
  backend.respond('POST', `${AGENTS}/plans`, { json: { agentId: 3, planId: '4' } })
  const agents = clientFor(backend).agents
  assert.deepEqual(await agents.registerAgentAndPlan({ name: 'A' }, undefined, { name: 'P' }, getFreePriceConfig(), getExpirableDurationConfig(ONE_DAY_DURATION)), { agentId: '3', planId: '4' })
  await agents.registerAgentAndPlan({ name: 'A' }, undefined, { name: 'P' }, getFreePriceConfig(), getFixedCreditsConfig(5n), 'time')
  assert.deepEqual(backend.requests.map((r) => r.json.plan.accessLimit), ['time', 'time'])
  assert.deepEqual(backend.requests[0].json.agent, { metadataAttributes: { name: 'A' }, agentApiAttributes: {} })
})

test('registerAgentAndPlan: validation errors and an answer without planId', async (t) => {
  const backend = await backendFor(t)
  const agents = clientFor(backend).agents
  const free = getFreePriceConfig()
  const fixed = getFixedCreditsConfig(5n)
  await paymentsError(agents.registerAgentAndPlan({}, api, { name: 'P' }, free, fixed), { code: 'validation', message: /agentMetadata/ })
  await paymentsError(agents.registerAgentAndPlan({ name: 'A' }, api, {}, free, fixed), { code: 'validation', message: /planMetadata/ })
  await paymentsError(agents.registerAgentAndPlan({ name: 'A' }, api, { name: 'P' }, free, { ...fixed, amount: '0' }), { code: 'validation', message: /at least 1/ })
  await paymentsError(agents.registerAgentAndPlan({ name: 'A' }, api, { name: 'P' }, free, fixed, 'weekly'), { code: 'validation', message: /accessLimit/ })
  assert.equal(backend.requests.length, 0)
  backend.respond('POST', `${AGENTS}/plans`, { json: { data: { agentId: 'a' } } })
  await paymentsError(agents.registerAgentAndPlan({ name: 'A' }, api, { name: 'P' }, free, fixed), { code: 'invalid_response', message: /planId/ })
})

test('getAgent and getAgentPlans: public GETs, answers returned as sent', async (t) => {
  const backend = await backendFor(t)
  const agent = { id: 'ag/1', metadata: { main: { name: 'A' } }, endpoints: [{ POST: 'https://agent.example/tasks' }] }
  const plans = { plans: [{ planId: '1', name: 'One' }, { id: '2', name: 'Two' }] }
  backend.respond('GET', `${AGENTS}/ag%2F1`, { json: agent })
  backend.respond('GET', `${AGENTS}/ag%2F1/plans`, { json: plans })
  const payments = clientFor(backend)
  assert.deepEqual(await payments.agents.getAgent('ag/1'), agent)
  assert.deepEqual(await payments.agents.getAgentPlans('ag/1'), plans)
  // Pagination as the TS SDK sends it (offset is the page size, as pageSize).
  await payments.agents.getAgentPlans('ag/1', { page: 3, offset: 25, sortBy: 'created', sortOrder: 'asc' })
  assertRequests(backend, [
    { method: 'GET', url: `${AGENTS}/ag%2F1`, key: null },
    { method: 'GET', url: `${AGENTS}/ag%2F1/plans?sortOrder=desc&page=1&pageSize=10`, key: null },
    { method: 'GET', url: `${AGENTS}/ag%2F1/plans?sortBy=created&sortOrder=asc&page=3&pageSize=25`, key: null },
  ])
  await paymentsError(payments.agents.getAgentPlans('ag/1', { sortOrder: 'up' }), { code: 'validation', message: /sortOrder/ })
  for (const agentId of [undefined, '', '  ']) {
    await paymentsError(payments.agents.getAgent(agentId), { code: 'validation', message: /agentId/ })
    await paymentsError(payments.agents.getAgentPlans(agentId), { code: 'validation', message: /agentId/ })
  }
  assert.equal(backend.requests.length, 3)
})

// ---- the calls the official SDK has that we lacked (#23) ---------------------------

test("getAgents: the caller's agents, authenticated; the official positional arguments or one object; orgId only when given", async (t) => {
  const backend = await backendFor(t)
  const answer = { total: 1, page: 1, offset: 100, agents: [{ agentId: 'agent-1' }] }
  backend.respond('GET', AGENTS, { json: answer })
  const agents = clientFor(backend).agents
  assert.deepEqual(await agents.getAgents(), answer)
  await agents.getAgents(2, 25, 'created', 'asc', 'org-acme')
  await agents.getAgents({ page: 2, offset: 25, sortBy: 'name', sortOrder: 'asc' })
  assertRequests(backend, [
    { method: 'GET', url: `${AGENTS}?page=1&offset=100&sortBy=created&sortOrder=desc` },
    { method: 'GET', url: `${AGENTS}?page=2&offset=25&sortBy=created&sortOrder=asc&orgId=org-acme` },
    { method: 'GET', url: `${AGENTS}?page=2&offset=25&sortBy=name&sortOrder=asc` },
  ])
  backend.respond('GET', AGENTS, { status: 500, json: { message: 'boom' } })
  await paymentsError(agents.getAgents(), { code: 'http_500', message: 'boom (HTTP 500)' })
})

test('updateAgentMetadata: PUT .../agents/:id {metadataAttributes, agentApiAttributes}, checked as at registration; NvmAPIResult', async (t) => {
  const backend = await backendFor(t)
  const answer = { success: true, message: 'updated', txHash: '0x1' }
  backend.respond('PUT', `${AGENTS}/ag%2F1`, { json: answer })
  const agents = clientFor(backend).agents
  const metadata = { name: 'My Updated Agent', tags: ['test'] }
  assert.deepEqual(await agents.updateAgentMetadata('ag/1', metadata, api), answer)
  await agents.updateAgentMetadata('ag/1', { name: 'Bare' }, undefined)
  assertRequests(backend, [
    { method: 'PUT', url: `${AGENTS}/ag%2F1`, body: { metadataAttributes: metadata, agentApiAttributes: api } },
    { method: 'PUT', url: `${AGENTS}/ag%2F1`, body: { metadataAttributes: { name: 'Bare' }, agentApiAttributes: {} } },
  ])
  for (const [agentId, metadata, agentApi, message] of [
    ['', { name: 'A' }, api, /agentId/],
    ['a', {}, api, /name/],
    ['a', { name: 'A' }, { endpoints: [{ FETCH: 'https://a.example/' }] }, /HTTP method/],
  ]) {
    await paymentsError(agents.updateAgentMetadata(agentId, metadata, agentApi), { code: 'validation', message })
  }
  assert.equal(backend.requests.length, 2)
  backend.respond('PUT', `${AGENTS}/a`, { status: 403, json: { code: 'BCK.PROTOCOL.0910', message: 'not yours', httpStatus: 403 } })
  await paymentsError(agents.updateAgentMetadata('a', { name: 'A' }, api), { code: 'BCK.PROTOCOL.0910', httpStatus: 403 })
})

test('addPlanToAgent / removePlanFromAgent: POST and DELETE .../agents/:agentId/plan/:planId, no body; (planId, agentId) as the official SDK', async (t) => {
  const backend = await backendFor(t)
  const answer = { success: true, txHash: '0x8d29' }
  backend.respond('POST', `${AGENTS}/ag-1/plan/7`, { json: answer })
  backend.respond('DELETE', `${AGENTS}/ag-1/plan/7`, { json: answer })
  const agents = clientFor(backend).agents
  assert.deepEqual(await agents.addPlanToAgent('7', 'ag-1'), answer)
  assert.deepEqual(await agents.removePlanFromAgent(7n, 'ag-1'), answer)
  assertRequests(backend, [
    { method: 'POST', url: `${AGENTS}/ag-1/plan/7` },
    { method: 'DELETE', url: `${AGENTS}/ag-1/plan/7` },
  ])
  for (const [planId, agentId, message] of [['', 'a', /planId/], ['7', ' ', /agentId/], [undefined, 'a', /planId/]]) {
    await paymentsError(agents.addPlanToAgent(planId, agentId), { code: 'validation', message })
    await paymentsError(agents.removePlanFromAgent(planId, agentId), { code: 'validation', message })
  }
  assert.equal(backend.requests.length, 2)
  backend.respond('DELETE', `${AGENTS}/ag-1/plan/8`, { status: 404, json: { code: 'BCK.PROTOCOL.0911', message: 'The agent does not take this plan', httpStatus: 404 } })
  await paymentsError(agents.removePlanFromAgent('8', 'ag-1'), { code: 'BCK.PROTOCOL.0911', httpStatus: 404 })
})
