// The Cloudflare Worker example (examples/cloudflare-worker), exactly as
// shipped, on real workerd (wrangler dev --local): against a live nvm-local
// (the seeded plan and agent, through a counting proxy, so every backend round
// trip is seen), then against a backend that fails. Subscribers act through the
// package in Node. The gate's contract is "The gate" in shared/spec/x402-http.md.
import { describe, test, before, after, beforeEach } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Payments } from 'nvm-x402'
import { ROOT, freePort, startNvmLocal, startRecorder, startWrangler } from '../support/servers.mjs'
import {
  PLANS,
  SETTLE,
  VERIFY,
  assertNoTokenLogged,
  assertPaymentRequired,
  decodeHeader,
  decodeToken,
  editToken,
  holdSettlesUntilVerified,
  jsonOf,
  newSubscriber,
  offlineKey,
  paymentCalls,
  rawRequest,
  startCountingProxy,
  stopAll,
} from '../support/gate.mjs'

const EXAMPLE = join(ROOT, 'examples/cloudflare-worker')
/** The spec's reason for a request without a token. */
const MISSING = 'Missing x402 payment token. Send token in payment-signature header.'
/** What the example charges for POST /tasks, read from its route table. */
const CREDITS = BigInt(/'POST \/tasks':\s*\{[^}]*\bcredits:\s*(\d+)/.exec(await readFile(join(EXAMPLE, 'src/index.js'), 'utf8'))[1])

/** POST /tasks with a prompt; `token` goes in payment-signature unless `headers` carry it. */
const askOf =
  (url) =>
  (token, { headers = {}, body = JSON.stringify({ prompt: 'count these words' }) } = {}) =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { 'payment-signature': token } : {}), ...headers }, body })

describe('the Worker example on workerd, paid through nvm-local', () => {
  let nvm, proxy, worker, world, tasks, ask, subscriber
  const subscribers = [] // every subscriber of this Worker, for the logging check at the end
  const subscribe = async () => {
    const one = await newSubscriber(nvm, { planId: world.plans.free.planId, agentId: world.agent.agentId })
    subscribers.push(one)
    return one
  }

  before(async () => {
    const port = await freePort()
    nvm = await startNvmLocal({ args: ['--agent-url', `http://127.0.0.1:${port}`] })
    world = nvm.world
    proxy = await startCountingProxy(nvm.url)
    worker = await startWrangler({
      cwd: EXAMPLE,
      port,
      vars: { NVM_API_KEY: world.accounts.builder.apiKey, NVM_AGENT_ID: world.agent.agentId, NVM_PLAN_ID: world.plans.free.planId, NVM_BACKEND_URL: proxy.url },
    })
    tasks = `${worker.url}tasks`
    assert.equal(world.agent.url, tasks, 'the seeded agent is this Worker')
    ask = askOf(tasks)
    subscriber = await subscribe()
  })
  after(() => stopAll(worker, proxy, nvm))
  beforeEach(async () => {
    proxy.reset()
    await subscriber.topUp(BigInt(world.plans.free.credits)) // enough for any one test
  })

  test('GET /health and unpaid routes pass through untouched, with no backend call', async () => {
    const health = await fetch(`${worker.url}health`)
    assert.equal(health.status, 200)
    assert.deepEqual(await jsonOf(health), { ok: true })
    const other = await fetch(tasks) // GET /tasks is not the paid POST /tasks
    assert.equal(other.status, 404)
    assert.deepEqual(await jsonOf(other), { error: 'Not found' })
    for (const response of [health, other]) {
      for (const name of ['payment-required', 'payment-response', 'cache-control']) assert.equal(response.headers.get(name), null, name)
    }
    assert.deepEqual(proxy.seen(), [])
  })

  test('POST /tasks without a token: 402, a decodable payment-required for this request, the spec body, no-store', async () => {
    const url = `${tasks}?lang=en`
    const response = await askOf(url)()
    const { body, required } = await assertPaymentRequired(response, MISSING)
    assert.deepEqual(body, { error: 'Payment Required', message: MISSING })
    assert.equal(required.resource.url, url)
    // What the gate asks for is what nvm-local mints for this plan and agent, bound to the verb.
    const { accepted } = decodeToken(await subscriber.token())
    assert.deepEqual(required.accepts, [{ ...accepted, extra: { ...accepted.extra, httpVerb: 'POST' } }])
    assert.deepEqual(required.extensions, {})
    assert.equal(response.headers.get('access-control-expose-headers'), 'payment-required, payment-response')
    assert.deepEqual(paymentCalls(proxy), [], 'no verify without a token')
  })

  test('tokens that cannot pay for this route get 402 without any backend call (scheme cached after one request)', async () => {
    const { planId } = world.plans.free
    const good = await subscriber.token()
    const builder = Payments.getInstance({ nvmApiKey: world.accounts.builder.apiKey, backendUrl: nvm.url })
    const { agentId: otherAgent } = await builder.agents.registerAgent({ name: 'Another agent' }, { endpoints: [{ POST: `${worker.url}other-agent` }] }, [planId])
    const card = (await subscriber.payments.delegation.listPaymentMethods()).find((m) => m.type === 'card')
    const { delegationId: cardDelegation } = await subscriber.payments.delegation.createDelegation({ provider: 'stripe', providerPaymentMethodId: card.id, spendingLimitCents: 1000, durationSecs: 3600 })
    const v3 = (bound) => subscriber.token({ tokenVersion: 3, resource: { url: tasks }, httpVerb: 'POST', ...bound })
    const b64 = (text) => Buffer.from(text).toString('base64')
    const refused = [
      ['not base64 JSON', 'not-a-token', /./],
      ['base64 of a JSON number', b64('123'), /./],
      ['base64 of a JSON array', b64('[{"x402Version":2}]'), /./],
      ['x402 version 1', editToken(good, (t) => (t.x402Version = 1)), /version/],
      ['no plan', editToken(good, (t) => delete t.accepted.planId), /plan/],
      // A genuine token for the agent's other (fiat) plan: valid at the backend, not for this route.
      ['another plan', await subscriber.token({ plan: world.plans.fiat.planId, scheme: 'nvm:card-delegation', delegation: cardDelegation }), /plan/],
      ['another scheme', editToken(good, (t) => (t.accepted.scheme = 'nvm:card-delegation')), /scheme/],
      ['another network', editToken(good, (t) => (t.accepted.network = `${t.accepted.network}0`)), /network/],
      ['a v2 token for another agent', await subscriber.token({ agent: otherAgent }), /agent/],
      ['v3 bound to another agent', await v3({ agent: otherAgent }), /agent/],
      ['v3 bound to another URL', await v3({ resource: { url: `${worker.url}other-agent` } }), /URL/],
      ['v3 bound to another verb', await v3({ httpVerb: 'PUT' }), /method/],
    ]
    const warm = await ask() // the plan's scheme is looked up once per isolate
    assert.equal(warm.status, 402)
    proxy.reset()
    for (const [what, token, reason] of refused) {
      const { body } = await assertPaymentRequired(await ask(token))
      assert.match(body.message, reason, what)
      assert.notEqual(body.message, MISSING, what)
      assert.deepEqual(proxy.seen(), [], `${what}: no backend call`)
    }
    // The control: the token they were derived from pays.
    assert.equal((await ask(good)).status, 200)
  })

  test('path spellings cannot bypass the gate: //tasks, /tasks/, /%74asks, /TASKS', async () => {
    for (const path of ['//tasks', '/tasks/', '/%74asks', '/TASKS', '/tasks?free=1']) {
      const response = await rawRequest(worker.url, path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"prompt":"hi"}' })
      assert.equal(response.status, 402, path)
      assert.equal(response.json.message, MISSING, path)
      const required = decodeHeader(response.headers['payment-required'])
      assert.equal(new URL(required.resource.url).pathname + new URL(required.resource.url).search, path, 'the Worker saw the path as sent')
    }
  })

  test('CORS is on: preflights are answered, payment-signature allowed, the payment headers exposed', async () => {
    const origin = 'http://demo.localhost:5173'
    const preflight = await fetch(tasks, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'payment-signature, content-type' } })
    assert.equal(preflight.status, 204)
    assert.equal(preflight.headers.get('access-control-allow-origin'), '*')
    const allowed = preflight.headers.get('access-control-allow-headers').split(',').map((h) => h.trim())
    for (const name of ['payment-signature', 'content-type']) assert.ok(allowed.includes(name), name)
    assert.ok(preflight.headers.get('access-control-allow-methods').split(',').map((m) => m.trim()).includes('POST'))
    const paid = await ask(await subscriber.token(), { headers: { origin } })
    assert.equal(paid.status, 200)
    assert.equal(paid.headers.get('access-control-allow-origin'), '*')
    const exposed = paid.headers.get('access-control-expose-headers').split(',').map((h) => h.trim())
    assert.deepEqual(exposed.sort(), ['payment-required', 'payment-response'])
    assert.deepEqual(paymentCalls(proxy), [`POST ${VERIFY}`, `POST ${SETTLE}`], 'the preflight made no backend call')
  })

  test('a valid token: verify, handler, settle; 200 with the settle result in payment-response; exactly the route credits burned', async () => {
    const token = await subscriber.token()
    const before = await subscriber.balance()
    const response = await ask(token)
    assert.equal(response.status, 200)
    assert.match((await jsonOf(response)).answer, /count these words/)
    assert.equal(response.headers.get('cache-control'), 'private')
    assert.deepEqual(paymentCalls(proxy), [`POST ${VERIFY}`, `POST ${SETTLE}`])
    const [verify] = proxy.callsTo(VERIFY)
    const [settle] = proxy.callsTo(SETTLE)
    for (const call of [verify, settle]) {
      assert.equal(call.json.x402AccessToken, token)
      assert.equal(call.json.maxAmount, String(CREDITS))
      assert.equal(call.json.paymentRequired.resource.url, tasks)
    }
    const receipt = decodeHeader(response.headers.get('payment-response'))
    assert.deepEqual(receipt, settle.responseJson)
    assert.equal(receipt.success, true)
    assert.equal(BigInt(receipt.creditsRedeemed), CREDITS)
    assert.equal(await subscriber.balance(), before - CREDITS)
  })

  test('the Authorization: Bearer carrier pays like payment-signature', async () => {
    const before = await subscriber.balance()
    const response = await ask(null, { headers: { authorization: `Bearer ${await subscriber.token()}` } })
    assert.equal(response.status, 200)
    assert.equal(decodeHeader(response.headers.get('payment-response')).success, true)
    assert.equal(await subscriber.balance(), before - CREDITS)
  })

  test('a handler answer >= 400 is passed through and nothing is burned', async () => {
    const before = await subscriber.balance()
    const response = await ask(await subscriber.token(), { body: 'not json' })
    assert.equal(response.status, 400)
    assert.match((await jsonOf(response)).error, /JSON/)
    assert.equal(response.headers.get('payment-response'), null)
    assert.deepEqual(paymentCalls(proxy), [`POST ${VERIFY}`], 'verified, never settled')
    assert.equal(await subscriber.balance(), before)
  })

  test('a v3 token pays once; a second use is refused, also when both requests verified before either settled (fail closed)', async () => {
    const v3 = () => subscriber.token({ tokenVersion: 3, resource: { url: tasks }, httpVerb: 'POST' })
    const before = await subscriber.balance()
    const once = await v3()
    assert.equal((await ask(once)).status, 200)
    const again = await ask(once)
    const { body } = await assertPaymentRequired(again)
    assert.notEqual(body.message, MISSING)
    assert.equal(again.headers.get('payment-response'), null, 'refused at verify')
    assert.equal(await subscriber.balance(), before - CREDITS)

    proxy.reset()
    holdSettlesUntilVerified(proxy, 2)
    const twice = await v3()
    const answers = await Promise.all([ask(twice), ask(twice)])
    assert.deepEqual(answers.map((r) => r.status).sort(), [200, 402])
    const refused = answers.find((r) => r.status === 402)
    const { body: refusal } = await assertPaymentRequired(refused)
    assert.equal(refusal.answer, undefined, 'the paid body is withheld')
    const receipt = decodeHeader(refused.headers.get('payment-response'))
    assert.equal(receipt.success, false)
    assert.equal(receipt.transaction, '')
    assert.equal(receipt.errorReason, refusal.message)
    assert.equal(proxy.callsTo(SETTLE).length, 2)
    assert.equal(await subscriber.balance(), before - 2n * CREDITS)
  })

  test(`30 parallel paid requests with one order's credits: exactly the affordable ones answered 200, the rest 402, balance 0`, async () => {
    const payer = await subscribe()
    const balance = await payer.balance()
    assert.equal(balance, BigInt(world.plans.free.credits))
    const token = await payer.token()
    const answers = await Promise.all(Array.from({ length: 30 }, () => ask(token)))
    const paid = answers.filter((r) => r.status === 200)
    const refused = answers.filter((r) => r.status === 402)
    assert.equal(paid.length, Number(balance / CREDITS))
    assert.equal(refused.length, 30 - paid.length)
    assert.equal(await payer.balance(), 0n)
    const redeemed = paid.map((r) => BigInt(decodeHeader(r.headers.get('payment-response')).creditsRedeemed))
    assert.equal(redeemed.reduce((a, b) => a + b), balance)
    for (const r of refused) await assertPaymentRequired(r)
  })

  test('credits exhausted between verify and settle: the late settles fail and their paid bodies are withheld', async () => {
    const payer = await subscribe()
    const balance = await payer.balance()
    const affordable = Number(balance / CREDITS)
    const count = affordable + 3
    holdSettlesUntilVerified(proxy, count)
    const token = await payer.token()
    const answers = await Promise.all(Array.from({ length: count }, () => ask(token)))
    assert.equal(proxy.callsTo(VERIFY).filter((c) => c.responseJson?.isValid === true).length, count, 'every request verified')
    assert.equal(answers.filter((r) => r.status === 200).length, affordable)
    const refused = answers.filter((r) => r.status === 402)
    assert.equal(refused.length, 3)
    for (const r of refused) {
      const { body } = await assertPaymentRequired(r)
      assert.equal(body.answer, undefined)
      const receipt = decodeHeader(r.headers.get('payment-response'))
      assert.equal(receipt.success, false)
      assert.equal(receipt.errorReason, body.message)
    }
    assert.equal(await payer.balance(), balance - BigInt(affordable) * CREDITS)
  })

  test('the Worker never logged a token it was paid with', () => {
    assertNoTokenLogged(worker.output(), subscribers)
  })
})

describe('the Worker example when its backend fails: 503 with a JSON error, never a free 200', () => {
  const PLAN = '7'
  const CRYPTO_PLAN = { id: PLAN, registry: { price: { isCrypto: true } } }
  const HTML = { headers: { 'content-type': 'text/html' }, body: '<html><body><h1>502 Bad Gateway</h1></body></html>' }
  let backend, worker, ask, token

  before(async () => {
    backend = await startRecorder()
    worker = await startWrangler({ cwd: EXAMPLE, vars: { NVM_API_KEY: offlineKey(), NVM_AGENT_ID: 'agent-1', NVM_PLAN_ID: PLAN, NVM_BACKEND_URL: backend.url } })
    ask = askOf(`${worker.url}tasks`)
    const bytes = Buffer.from(JSON.stringify({ x402Version: 2, accepted: { scheme: 'nvm:erc4337', network: 'eip155:84532', planId: PLAN, extra: { version: '1' } }, payload: { signature: '0x00', authorization: { from: '0x01', sessionKeys: [] } }, extensions: {} }))
    token = bytes.toString('base64url')
  })
  after(() => stopAll(worker, backend))
  beforeEach(() => backend.reset())

  const assertUnavailable = async (response, what) => {
    assert.equal(response.status, 503, what)
    assert.equal(response.headers.get('cache-control'), 'no-store')
    assert.equal(response.headers.get('payment-response'), null)
    const body = await jsonOf(response)
    assert.equal(body.error, 'Service Unavailable')
    assert.match(body.message, what)
    assert.equal(typeof body.code, 'string')
    return body
  }

  test('the plan lookup answers an HTML 502: 503 "plans unavailable", with or without a token', async () => {
    backend.respond('GET', `${PLANS}${PLAN}`, { status: 502, ...HTML })
    await assertUnavailable(await ask(token), /plans/i)
    await assertUnavailable(await ask(), /plans/i)
    assert.deepEqual(
      backend.requests.map((r) => r.path),
      [`${PLANS}${PLAN}`, `${PLANS}${PLAN}`],
    )
  })

  test('verify answers an HTML 5xx or garbage: 503 and the handler never runs', async () => {
    backend.respond('GET', `${PLANS}${PLAN}`, { json: CRYPTO_PLAN })
    backend.respond('POST', VERIFY, { status: 503, ...HTML })
    await assertUnavailable(await ask(token), /verif/i)
    backend.respond('POST', VERIFY, { status: 200, ...HTML })
    await assertUnavailable(await ask(token), /verif/i)
    assert.ok(!backend.requests.some((r) => r.path === SETTLE))
  })

  test('the backend refuses the agent key (401): 503, not a 402 blaming the subscriber', async () => {
    backend.respond('GET', `${PLANS}${PLAN}`, { json: CRYPTO_PLAN })
    backend.respond('POST', VERIFY, { status: 401, json: { code: 'BCK.APIKEY.0004', message: 'Invalid API key', httpStatus: 401 } })
    await assertUnavailable(await ask(token), /verif/i)
  })

  test('settle answers an HTML 500: 503 and the paid answer is not delivered', async () => {
    backend.respond('GET', `${PLANS}${PLAN}`, { json: CRYPTO_PLAN })
    backend.respond('POST', VERIFY, { json: { isValid: true, payer: '0x01', agentRequestId: 'req-1' } })
    backend.respond('POST', SETTLE, { status: 500, ...HTML })
    const body = await assertUnavailable(await ask(token), /settle/i)
    assert.equal(body.answer, undefined)
    assert.deepEqual(
      backend.requests.map((r) => r.path).filter((p) => !p.startsWith(PLANS)),
      [VERIFY, SETTLE],
    )
  })

  test('the backend port is closed: 503', async () => {
    backend.respond('GET', `${PLANS}${PLAN}`, { json: CRYPTO_PLAN })
    await ask() // the plan's scheme is known from here on
    await backend.close()
    await assertUnavailable(await ask(token), /verif/i)
    const health = await fetch(`${worker.url}health`)
    assert.equal(health.status, 200, 'unpaid routes still work')
  })
})
