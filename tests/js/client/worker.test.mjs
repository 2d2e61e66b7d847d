// The paying client (payments.fetch, fetchWithPayment, queryAgent) against the
// Cloudflare Worker example on real workerd and a live nvm-local — the demo's
// world. Mints are counted at the backend (a counting proxy between the client
// and nvm-local); what the client sends to the agent is recorded by the fetch
// it is given. The rules are "The client" in shared/spec/x402-http.md.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { Payments, PaymentsError, decodeAccessToken, decodePaymentHeader, fetchWithPayment } from 'nvm-x402'
import { MINT, newAccount, recordingFetch, startDemoWorld } from '../support/client.mjs'

describe('the paying client against the Worker example on workerd and nvm-local', () => {
  let demo, world, tasks, freePlan

  before(async () => {
    demo = await startDemoWorld({ proxy: true })
    world = demo.world
    tasks = demo.agentUrl
    freePlan = world.plans.free.planId
  })
  after(() => demo?.stop())

  /** The mints so far: the tokens nvm-local handed out, in order. */
  const minted = () => demo.proxy.callsTo(MINT).map((call) => call.responseJson?.accessToken)

  /** A new subscriber of nvm-local whose client goes through the counting proxy; it bought the free plan once unless `order: false`. */
  async function subscriber({ order = true, route } = {}) {
    const account = await newAccount(demo.nvm, 'payer')
    const recorder = recordingFetch({ route })
    const payments = Payments.getInstance({ nvmApiKey: account.apiKey, backendUrl: demo.backendUrl, fetch: recorder.fetch })
    if (order) assert.equal((await payments.plans.orderPlan(freePlan)).success, true)
    const balance = async () => BigInt((await payments.plans.getPlanBalance(freePlan)).balance)
    /** What this client sent to the agent during `action()`: `{result, sent}`. */
    const watch = async (action, agent = tasks) => {
      const before = recorder.to(agent).length
      const result = await action()
      return { result, sent: recorder.to(agent).slice(before) }
    }
    return { account, payments, balance, watch, recorder }
  }

  const prompt = (text) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: text }) })
  /** The caller's choice of plan: the one the demo agent takes. */
  const pay = (more = {}) => ({ planIds: [freePlan], ...more })

  test('with one allowed plan the first call pays up front (one request, one mint); the next sends the cached token: one mint in all', async () => {
    const me = await subscriber()
    const start = await me.balance()
    const mintsBefore = minted().length

    const first = await me.watch(() => me.payments.fetch(tasks, prompt('first question'), pay()))
    assert.equal(first.result.response.status, 200)
    assert.match((await first.result.response.json()).answer, /first question/)
    assert.equal(first.sent.length, 1, 'no unpaid probe for the 402: one request')
    const token = first.sent[0].token
    assert.notEqual(token, null)
    assert.deepEqual(minted().slice(mintsBefore), [token], 'one mint, and its token was sent')
    const receipt = first.result.paymentResponse
    assert.equal(receipt.success, true)
    const cost = BigInt(receipt.creditsRedeemed)
    assert.ok(cost > 0n)
    assert.equal(BigInt(receipt.remainingBalance), start - cost)

    const second = await me.watch(() => me.payments.fetch(tasks, prompt('second question'), pay()))
    assert.equal(second.result.response.status, 200)
    assert.match((await second.result.response.json()).answer, /second question/)
    assert.deepEqual(second.sent.map((r) => r.token), [token], 'one request, the cached token up front')
    assert.equal(minted().length, mintsBefore + 1, 'still one mint')
    assert.equal(BigInt(second.result.paymentResponse.remainingBalance), start - 2n * cost)
    assert.equal(await me.balance(), start - 2n * cost, 'the backend agrees')
  })

  test('eager: false (or several allowed plans) probes first: unpaid, 402, then paid with a fresh mint', async () => {
    for (const options of [pay({ eager: false }), { planIds: [freePlan, world.plans.fiat.planId] }]) {
      const me = await subscriber() // a client that has paid nothing yet
      const mintsBefore = minted().length
      const call = await me.watch(() => me.payments.fetch(tasks, prompt('probing'), options))
      assert.equal(call.result.response.status, 200)
      assert.deepEqual(call.sent.map((r) => r.token === null), [true, false], 'unpaid, then paid')
      assert.equal(minted().length, mintsBefore + 1)
    }
  })

  test('v3 tokens are single-use: a fresh mint for every paid call, never reused', async () => {
    const me = await subscriber()
    const mintsBefore = minted().length
    const options = pay({ tokenOptions: { tokenVersion: 3 } })
    const tokens = []
    for (const text of ['one', 'two', 'three']) {
      const { result, sent } = await me.watch(() => me.payments.fetch(tasks, prompt(text), options))
      assert.equal(result.response.status, 200, text)
      assert.equal(result.paymentResponse.success, true, text)
      const paid = sent.filter((r) => r.token !== null)
      assert.equal(paid.length, 1, `${text}: one paid attempt`)
      tokens.push(paid[0].token)
    }
    assert.deepEqual(minted().slice(mintsBefore), tokens, 'each call minted the token it sent')
    assert.equal(new Set(tokens).size, tokens.length, 'no token was sent twice')
    for (const token of tokens) {
      const { nonce } = decodeAccessToken(token).payload.authorization
      assert.equal(typeof nonce, 'string')
      assert.ok(nonce.length > 0, 'a v3 token carries its nonce')
    }
  })

  test('after the credits run out: a 402 with the reason and the PaymentRequired; one fresh mint per call, no retry loop', async () => {
    const me = await subscriber()
    const start = await me.balance()
    assert.equal(start, BigInt(world.plans.free.credits), 'one order of the free plan')
    let paid = 0n
    let spent = 0n
    let last, mintsBeforeLast, paidWith
    for (let i = 0n; i <= start; i++) {
      mintsBeforeLast = minted().length
      last = await me.watch(() => me.payments.fetch(tasks, prompt(`question ${i}`), pay()))
      if (last.result.response.status !== 200) break
      paidWith = last.sent.at(-1).token
      paid++
      spent += BigInt(last.result.paymentResponse.creditsRedeemed)
    }
    assert.ok(paid > 0n)
    assert.equal(spent, start, 'every credit was spent on answers')
    assert.equal(await me.balance(), 0n)

    // The call that found no credits: the cached token, then one fresh mint, then it stopped.
    const cached = last.sent[0].token
    const { response, paymentResponse } = last.result
    assert.equal(response.status, 402)
    assert.equal(paymentResponse, null)
    const body = await response.json()
    assert.equal(body.error, 'Payment Required')
    assert.match(body.message, /credit/i)
    const required = decodePaymentHeader(response.headers.get('payment-required'))
    assert.equal(required.error, body.message)
    assert.deepEqual(required.accepts.map((a) => a.planId), [freePlan])
    assert.equal(last.sent.length, 2, 'two attempts: the cached token, then a freshly minted one')
    assert.equal(cached, paidWith, 'the first attempt carried the token that paid so far')
    assert.equal(minted().length, mintsBeforeLast + 1, 'one mint in that call')
    assert.equal(last.sent[1].token, minted().at(-1), 'the second attempt carried the fresh mint')

    // Every further call is bounded the same way.
    const mintsBefore = minted().length
    const again = await me.watch(() => me.payments.fetch(tasks, prompt('still nothing'), pay()))
    assert.equal(again.result.response.status, 402)
    assert.deepEqual(
      again.sent.map((r) => r.token),
      [last.sent[1].token, minted().at(-1)],
    )
    assert.equal(minted().length, mintsBefore + 1)
  })

  test('queryAgent returns the agent\'s JSON; once the credits are gone it throws payment_required with the decoded PaymentRequired', async () => {
    const me = await subscriber()
    const start = await me.balance()
    const ask = (text) => me.payments.queryAgent({ agentUrl: tasks, prompt: text, planId: freePlan, agentId: world.agent.agentId })
    const mintsBefore = minted().length

    const first = await me.watch(() => ask('what is x402?'))
    assert.match(first.result.answer, /what is x402\?/)
    assert.equal(first.sent.length, 1, 'paid up front: no unpaid attempt')
    assert.deepEqual(minted().slice(mintsBefore), [first.sent[0].token])
    const cost = start - (await me.balance())
    assert.ok(cost > 0n)

    let answered = 1n
    let error
    for (let i = 0n; i < start && error === undefined; i++) {
      try {
        await ask(`again ${i}`)
        answered++
      } catch (caught) {
        error = caught
      }
    }
    assert.equal(answered, start / cost)
    assert.ok(error instanceof PaymentsError, `not a PaymentsError: ${error}`)
    assert.equal(error.code, 'payment_required')
    assert.equal(error.httpStatus, 402)
    assert.match(error.message, /credit/i)
    assert.equal(typeof error.hint, 'string')
    assert.deepEqual(error.details.accepts.map((a) => a.planId), [freePlan])
    assert.equal(error.details.resource.url, tasks)
    for (const token of minted()) assert.ok(!error.message.includes(token) && !JSON.stringify(error.details).includes(token), 'no token in the error')
  })

  test('fetchWithPayment pays only with a plan in planIds, and only the agent asked for (audit #9.6)', async () => {
    const me = await subscriber()
    const mintsBefore = minted().length
    const refusal = async (options) => {
      const { result, sent } = await me.watch(async () => {
        try {
          await fetchWithPayment(tasks, prompt('who picks the plan?'), { payments: me.payments, ...options })
        } catch (error) {
          return error
        }
      })
      assert.ok(result instanceof PaymentsError, `expected a PaymentsError for ${JSON.stringify(options)}, got ${result}`)
      assert.equal(result.code, 'plan_not_allowed')
      assert.equal(result.httpStatus, undefined)
      assert.deepEqual(result.details.accepts.map((a) => a.planId), [freePlan], 'the error carries what the agent asked for')
      assert.match(result.hint, /planIds/)
      assert.deepEqual(sent.map((r) => r.token), [null], 'one unpaid attempt, no retry')
      return result
    }
    // No planIds at all: the agent does not get to choose (it used to pay whatever the 402 named).
    assert.match((await refusal({})).message, /no planIds were given/)
    // The Worker only takes the free plan: restricted to the fiat plan, nothing is paid (probing first, as with several plans).
    await refusal({ planIds: [world.plans.fiat.planId], eager: false })
    // The caller's plan, but another agent than the one it asked for.
    await refusal({ planIds: [freePlan], agentId: `${world.agent.agentId}1`, eager: false })
    assert.equal(minted().length, mintsBefore, 'nothing minted')
    // Paying up front (one plan) for that other agent: the token is minted for the agent the caller
    // named, which nvm-local doesn't know, so the mint is refused and nothing reaches the Worker.
    const ahead = await me.watch(async () => {
      try {
        await fetchWithPayment(tasks, prompt('who picks the agent?'), { payments: me.payments, planIds: [freePlan], agentId: `${world.agent.agentId}1` })
      } catch (error) {
        return error
      }
    })
    assert.equal(ahead.result?.code, 'BCK.PROTOCOL.0901')
    assert.deepEqual(ahead.sent, [], 'nothing sent')
    assert.deepEqual(minted().slice(mintsBefore), [undefined], 'one mint asked for, refused: no token')

    const allowed = await me.watch(() => fetchWithPayment(tasks, prompt('free is fine'), { payments: me.payments, planIds: [world.plans.fiat.planId, freePlan], agentId: world.agent.agentId }))
    assert.equal(allowed.result.response.status, 200)
    assert.equal(allowed.result.paymentResponse.success, true)
    const mints = demo.proxy.callsTo(MINT).slice(mintsBefore + 1)
    assert.equal(mints.length, 1)
    assert.equal(mints[0].json.accepted.planId, freePlan, 'the plan the agent offers among those allowed')
    assert.equal(mints[0].json.accepted.extra.agentId, world.agent.agentId)

    // anyPlan is the explicit opt-in to whatever the agent offers.
    const other = await subscriber()
    const any = await other.watch(() => fetchWithPayment(tasks, prompt('anything goes'), { payments: other.payments, anyPlan: true }))
    assert.equal(any.result.response.status, 200)
  })

  test('maxCredits is checked against the plan before anything is minted (audit #9.6)', async () => {
    const me = await subscriber()
    const mintsBefore = minted().length
    const { result, sent } = await me.watch(async () => {
      try {
        await me.payments.fetch(tasks, prompt('too dear'), pay({ maxCredits: 0 }))
      } catch (error) {
        return error
      }
    })
    assert.equal(result?.code, 'max_credits_exceeded')
    assert.match(result.message, new RegExp(`Plan ${freePlan} charges up to ${world.plans.free.creditsPerRequest} credits per request, more than maxCredits \\(0\\)`))
    assert.deepEqual(sent, [], 'one plan: it pays up front, so the check comes before anything is sent')
    assert.equal(minted().length, mintsBefore)
    const probing = await me.watch(async () => {
      try {
        await me.payments.fetch(tasks, prompt('too dear'), pay({ maxCredits: 0, eager: false }))
      } catch (error) {
        return error
      }
    })
    assert.equal(probing.result?.code, 'max_credits_exceeded')
    assert.deepEqual(probing.sent.map((r) => r.token), [null], 'probing: the unpaid attempt only')
    assert.equal(minted().length, mintsBefore)
    const ok = await me.payments.fetch(tasks, prompt('fine'), pay({ maxCredits: BigInt(world.plans.free.creditsPerRequest) }))
    assert.equal(ok.response.status, 200)
  })

  test('a token never travels over plain http to a non-loopback host: insecure_transport, nothing minted', async () => {
    // Requests to this host really reach the Worker, so the client sees its genuine 402.
    const remote = 'http://agent.example.test'
    const me = await subscriber({ route: (url) => url.replace(remote, demo.worker.url.slice(0, -1)) })
    const mintsBefore = minted().length

    const paying = await me.watch(async () => {
      try {
        await me.payments.fetch(`${remote}/tasks`, prompt('over plain http'), pay({ eager: false }))
      } catch (error) {
        return error
      }
    }, remote)
    assert.ok(paying.result instanceof PaymentsError, `expected a PaymentsError, got ${paying.result}`)
    assert.equal(paying.result.code, 'insecure_transport')
    assert.match(paying.result.message, /agent\.example\.test/)
    assert.deepEqual(paying.sent.map((r) => r.token), [null], 'only the unpaid attempt was sent')

    const eager = await me.watch(async () => {
      try {
        await me.payments.queryAgent({ agentUrl: `${remote}/tasks`, prompt: 'over plain http', planId: freePlan, agentId: world.agent.agentId })
      } catch (error) {
        return error
      }
    }, remote)
    assert.equal(eager.result?.code, 'insecure_transport')
    assert.deepEqual(eager.sent, [], 'queryAgent pays up front, so nothing at all was sent')
    assert.equal(minted().length, mintsBefore, 'refused before minting')
  })

  test('a request that already carries a token is sent once: never re-paid or retried', async () => {
    const me = await subscriber()
    const mintsBefore = minted().length
    const init = prompt('my own token')
    init.headers['payment-signature'] = 'not-a-token'
    const { result, sent } = await me.watch(() => me.payments.fetch(tasks, init))
    assert.equal(result.response.status, 402)
    assert.deepEqual(sent.map((r) => r.token), ['not-a-token'])
    assert.equal(minted().length, mintsBefore)
  })

  test('a free route is fetched as it is: no payment, no mint, no receipt', async () => {
    const me = await subscriber({ order: false })
    const mintsBefore = minted().length
    const health = new URL('health', demo.worker.url).href
    const { result, sent } = await me.watch(() => me.payments.fetch(health), health)
    assert.equal(result.response.status, 200)
    assert.deepEqual(await result.response.json(), { ok: true })
    assert.equal(result.paymentResponse, null)
    assert.deepEqual(sent.map((r) => r.token), [null])
    assert.equal(minted().length, mintsBefore)
  })
})
