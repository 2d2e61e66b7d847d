// MPP end to end: a buyer's payments.mpp.fetch (nvm-x402/mpp) paying an Express
// route with the official `mpp` route option (nvm-x402/express), through a live
// nvm-local (/api/v1/mpp/*). Each test checks what the buyer got, what the seller's
// handler saw and what the backend charged (the plan's balance). Also: the MPP
// error family and codec against the official fixtures, and the entries without MPP.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createHash } from 'node:crypto'
import express from 'express'
import { Payments as RootPayments, PaymentsError, getFreePriceConfig, getFixedCreditsConfig } from 'nvm-x402'
import * as mpp from 'nvm-x402/mpp'
import { paymentMiddleware, captureRawBody, MPP_HEADERS, resolveMppOption, Payments as ExpressPayments } from 'nvm-x402/express'
import { NVM_LOCAL_BUILT, liveAccount } from '../support/nvm.mjs'
import { startNvmLocal } from '../support/servers.mjs'

const { Payments, MppError, MppCredentialRejectedError, MppSpendOutcomeUnknownError, mppSpendOf } = mpp

const quiet = (run) => {
  const error = console.error
  const warn = console.warn
  console.error = () => {}
  console.warn = () => {}
  return Promise.resolve()
    .then(run)
    .finally(() => {
      console.error = error
      console.warn = warn
    })
}

describe('MPP: payments.mpp.fetch pays an Express route with mpp, against nvm-local', { skip: !NVM_LOCAL_BUILT && 'nvm-local is not built (scripts/build.sh --all)' }, () => {
  let live, server, base, planId, subscriber, buyer, delegationId, served, errors, settled
  const balance = async () => BigInt((await subscriber.payments.plans.getPlanBalance(planId)).balance)
  const options = (extra = {}) => ({ delegationConfig: { delegationId }, planId, ...extra })

  before(async () => {
    live = await startNvmLocal()
    const { world } = live
    const builder = RootPayments.getInstance({ nvmApiKey: world.accounts.builder.apiKey, backendUrl: live.url })
    ;({ planId } = await builder.plans.registerCreditsPlan({ name: 'mpp' }, getFreePriceConfig(), getFixedCreditsConfig(100n, 2n)))
    const app = express()
    server = app.listen(0, '127.0.0.1')
    await once(server, 'listening')
    base = `http://127.0.0.1:${server.address().port}`
    const paths = ['/ask', '/bound', '/fails', '/plain']
    const { agentId } = await builder.agents.registerAgent({ name: 'mpp seller' }, { endpoints: paths.flatMap((p) => [{ POST: `${base}${p}` }]) }, [planId])
    served = []
    errors = []
    settled = []
    const seller = RootPayments.getInstance({ nvmApiKey: world.accounts.builder.apiKey, backendUrl: live.url })
    app.use(express.json({ verify: captureRawBody }))
    app.use(
      paymentMiddleware(
        seller,
        {
          'POST /ask': { planId, credits: 2, agentId, mpp: true },
          'POST /bound': { planId, credits: 2, agentId, mpp: { bindBody: true } },
          'POST /fails': { planId, credits: 2, agentId, mpp: true },
          'POST /plain': { planId, credits: 2, agentId },
        },
        {
          onPaymentError: (error) => errors.push(error),
          onAfterSettle: (req, credits) => settled.push({ path: req.path, credits }),
        },
      ),
    )
    app.post('/ask', (req, res) => {
      served.push({ path: '/ask', body: req.body, context: req.paymentContext })
      res.json({ answer: `you asked ${req.body?.q}` })
    })
    app.post('/bound', (req, res) => res.json({ bound: req.body }))
    app.post('/fails', (req, res) => res.status(500).json({ error: 'broken' }))
    app.post('/plain', (req, res) => res.json({ plain: true }))
    subscriber = await liveAccount(live, `mpp-${process.pid}`)
    await subscriber.payments.plans.orderPlan(planId)
    buyer = Payments.getInstance({ nvmApiKey: subscriber.apiKey, backendUrl: live.url })
    ;({ delegationId } = await buyer.delegation.createDelegation({ provider: 'erc4337', spendingLimitCents: 10000, durationSecs: 3600 }))
  })

  after(async () => {
    server?.close()
    await live?.stop()
  })

  test('an unpaid request gets both offers; the buyer pays once, with a receipt, and the plan is charged the route\'s credits', async () => {
    const unpaid = await fetch(`${base}/ask`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
    assert.equal(unpaid.status, 402)
    const challenge = mpp.parseChallengeHeader(unpaid.headers.get(MPP_HEADERS.CHALLENGE))
    assert.deepEqual(challenge.request, { planId, credits: '2', agentId: challenge.request.agentId })
    assert.ok(unpaid.headers.get('payment-required'), 'x402 buyers are still offered x402')
    const body = await unpaid.json()
    assert.equal(body.code, undefined, 'the opening 402 carries no code')

    const before = await balance()
    const result = await buyer.mpp.fetch(`${base}/ask`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ q: 'hi' }) }, options())
    assert.equal(result.response.status, 200)
    assert.deepEqual(await result.response.json(), { answer: 'you asked hi' })
    assert.equal(result.paid, true)
    assert.equal(result.settled, true)
    assert.equal(result.credentialsPresented, 1)
    assert.equal(result.creditsPresented, '2')
    assert.equal(result.receipt.status, 'success')
    assert.equal(result.receipt.method, 'nevermined')
    assert.equal(before - (await balance()), 2n)
    assert.equal(settled.at(-1).credits, 2)
    // The handler found the official paymentContext, with its mpp part.
    const { context } = served.at(-1)
    assert.deepEqual([context.verified, context.mpp.resource, context.mpp.httpVerb], [true, '/ask', 'POST'])
    assert.equal(context.token, context.mpp.credential)
    assert.equal(mpp.extractCredentialChallengeId(context.mpp.credential) !== null, true)
  })

  test('a credential buys one response: replayed (even with its scheme\'s case changed) it is refused with a fresh challenge and charges nothing', async () => {
    let credential
    const recording = Payments.getInstance({
      nvmApiKey: subscriber.apiKey,
      backendUrl: live.url,
      fetch: async (request, init) => {
        const auth = request instanceof Request ? request.headers.get('authorization') : null
        if (auth) credential = auth
        return fetch(request, init)
      },
    })
    const first = await recording.mpp.fetch(`${base}/ask`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"q":"once"}' }, options())
    assert.equal(first.paid, true)
    const charged = await balance()
    const count = served.length
    for (const replay of [credential, credential.replace('Payment ', 'payment ')]) {
      const again = await fetch(`${base}/ask`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: replay }, body: '{"q":"twice"}' })
      assert.equal(again.status, 402)
      const refusal = await again.json()
      assert.deepEqual([refusal.code, refusal.retryable], ['BCK.MPP.0003', false])
      assert.ok(again.headers.get(MPP_HEADERS.CHALLENGE), 'a fresh challenge to pay')
    }
    assert.equal(served.length, count, 'the handler never ran for a replay')
    assert.equal(await balance(), charged)
  })

  test('the plan pin and the whole-call cap refuse before anything is minted or charged (PaymentsError, not MppError)', async () => {
    const before = await balance()
    for (const [extra, code] of [[{ planId: '1' }, 'plan_not_allowed'], [{ maxCredits: 1 }, 'max_credits_exceeded']]) {
      await assert.rejects(buyer.mpp.fetch(`${base}/ask`, { method: 'POST', body: '{}' }, options(extra)), (e) => {
        assert.ok(e instanceof PaymentsError)
        assert.ok(!(e instanceof MppError))
        assert.equal(e.code, code)
        assert.equal(mppSpendOf(e), undefined, 'nothing was spent')
        return true
      })
    }
    await assert.rejects(buyer.mpp.fetch(`${base}/ask`, { method: 'POST' }, { delegationConfig: { spendingLimitCents: 100, durationSecs: 60 } }), (e) => e instanceof PaymentsError && e.code === 'validation' && /delegationId/.test(e.message))
    assert.equal(await balance(), before)
  })

  test('bindBody: the paid body is the one the challenge sealed; another body is refused and charges nothing', async () => {
    const body = JSON.stringify({ q: 'bound' })
    const unpaid = await fetch(`${base}/bound`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
    const challenge = mpp.parseChallengeHeader(unpaid.headers.get('www-authenticate'))
    assert.equal(challenge.digest, `sha-256=${createHash('sha256').update(body).digest('base64')}`)
    const paid = await buyer.mpp.fetch(`${base}/bound`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }, options())
    assert.equal(paid.paid, true)
    assert.deepEqual(await paid.response.json(), { bound: { q: 'bound' } })
    // A credential for one body, spent on another: the backend's digest check (0005).
    const token = (await buyer.mpp.getMppAccessToken(planId, undefined, { delegationConfig: { delegationId } })).accessToken
    const credential = mpp.buildCredentialHeader(challenge, { accessToken: token })
    const before = await balance()
    const swapped = await fetch(`${base}/bound`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: credential }, body: JSON.stringify({ q: 'another' }) })
    assert.equal(swapped.status, 402)
    assert.deepEqual([(await swapped.json()).code], ['BCK.MPP.0005'])
    assert.equal(await balance(), before)
  })

  test('a handler that fails is not charged, and the credential is not spent', async () => {
    const before = await balance()
    const result = await quiet(() => buyer.mpp.fetch(`${base}/fails`, { method: 'POST', body: '{}' }, options()))
    assert.equal(result.response.status, 500)
    assert.equal(result.paid, false)
    assert.equal(result.credentialsPresented, 1)
    assert.equal(await balance(), before)
  })

  test('an x402 buyer is served on the same route, and a route without mpp offers no challenge', async () => {
    const x402 = await subscriber.payments.fetch(`${base}/ask`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"q":"x402"}' }, { planIds: [planId] })
    assert.equal(x402.response.status, 200)
    const plain = await fetch(`${base}/plain`, { method: 'POST' })
    assert.equal(plain.status, 402)
    assert.equal(plain.headers.get('www-authenticate'), null)
    const result = await buyer.mpp.fetch(`${base}/plain`, { method: 'POST' }, options())
    assert.deepEqual([result.response.status, result.credentialsPresented, result.paid], [402, 0, false])
  })

  test('a seller that refuses with a code throws the typed error with the spend; a lost answer is an unknown spend', async () => {
    // A third-party seller: challenges, then refuses every credential with BCK.MPP.0003.
    const challengeHeader = (await fetch(`${base}/ask`, { method: 'POST' })).headers.get('www-authenticate')
    const thirdParty = express()
    thirdParty.post('/x', (req, res) => {
      res.status(402).setHeader('www-authenticate', challengeHeader)
      res.json(req.headers.authorization ? { code: 'BCK.MPP.0003', message: 'no' } : { message: 'pay' })
    })
    thirdParty.post('/lost', (req, res) => {
      if (req.headers.authorization) return req.socket.destroy()
      res.status(402).setHeader('www-authenticate', challengeHeader).json({})
    })
    const other = thirdParty.listen(0, '127.0.0.1')
    await once(other, 'listening')
    const url = `http://127.0.0.1:${other.address().port}`
    try {
      await assert.rejects(buyer.mpp.fetch(`${url}/x`, { method: 'POST' }, options()), (e) => {
        assert.ok(e instanceof MppCredentialRejectedError && e instanceof MppError && !(e instanceof PaymentsError))
        assert.deepEqual(mppSpendOf(e), { credentialsPresented: 1, creditsPresented: '2', challengeId: mpp.parseChallengeHeader(challengeHeader).id })
        return true
      })
      await assert.rejects(buyer.mpp.fetch(`${url}/lost`, { method: 'POST' }, options()), (e) => {
        assert.ok(e instanceof MppSpendOutcomeUnknownError)
        assert.equal(e.code, 'spend_outcome_unknown')
        assert.equal(mppSpendOf(e).credentialsPresented, 1)
        return true
      })
    } finally {
      other.close()
    }
  })

  test('the seller\'s calls: a Payments of nvm-x402/express issues, verifies and settles (once per challenge)', async () => {
    const seller = ExpressPayments.getInstance({ nvmApiKey: live.world.accounts.builder.apiKey, backendUrl: live.url })
    const agentId = mpp.parseChallengeHeader((await fetch(`${base}/ask`, { method: 'POST' })).headers.get('www-authenticate')).request.agentId
    const issued = await seller.mpp.issueChallenge({ planId, credits: 2n, agentId, resource: '/ask', httpVerb: 'POST' })
    const challenge = mpp.parseChallengeHeader(issued.challenge)
    assert.equal(challenge.id, issued.id)
    const { accessToken } = await buyer.mpp.getMppAccessToken(planId, agentId, { delegationConfig: { delegationId } })
    const credential = mpp.buildCredentialHeader(challenge, { accessToken })
    assert.equal(mpp.extractCredentialChallengeId(credential), issued.id)
    const params = { credential, resource: '/ask', httpVerb: 'POST' }
    assert.equal((await seller.mpp.verifyCredential(params)).isValid, true)
    const before = await balance()
    const first = await seller.mpp.settleCredential(params)
    const second = await seller.mpp.settleCredential(params)
    assert.equal(first.success, true)
    assert.equal(second.paymentReceipt, first.paymentReceipt)
    assert.equal(before - (await balance()), 2n, 'settled twice, burned once')
    await assert.rejects(seller.mpp.verifyCredential({ ...params, resource: '/other' }), (e) => e instanceof MppCredentialRejectedError)
  })
})

describe('MPP: the codec and the error family (official fixtures)', () => {
  const CHALLENGE = 'Payment id="CQszOngfvT1RIGSajipZJvg-lBCEDugWLDF7SD_w1og", realm="api.nevermined.app", method="nevermined", intent="charge", request="eyJjcmVkaXRzIjoiMiIsInBsYW5JZCI6IjQ0NzQyNzYzMDc2MDQ3NDk3NjQwMDgwMjMwMjM2NzgxNDc0MTI5OTcwOTkyNzI3ODk2NTkzODYxOTk3MzQ3MTM1NjEzMTM1NTcxMDcifQ", expires="2026-08-12T10:05:00.000Z", description="5\\" screen, replacement", opaque="eyJfbXBweF9zY29wZSI6IlBPU1QgL2FzayIsIm5vbmNlIjoiMTExMTExMTEtMjIyMi0zMzMzLTQ0NDQtNTU1NTU1NTU1NTU1In0"'

  test('a challenge parses with its encoded fields kept, and its credential carries its id', () => {
    const c = mpp.parseChallengeHeader(`Bearer abc, ${CHALLENGE}, Basic x`)
    assert.equal(c.description, '5" screen, replacement')
    assert.equal(c.request.credits, '2')
    assert.equal(c.opaque, 'eyJfbXBweF9zY29wZSI6IlBPU1QgL2FzayIsIm5vbmNlIjoiMTExMTExMTEtMjIyMi0zMzMzLTQ0NDQtNTU1NTU1NTU1NTU1In0')
    const credential = mpp.buildCredentialHeader(c, { accessToken: 'tok' })
    assert.equal(mpp.extractCredentialChallengeId(credential), c.id)
    const wire = JSON.parse(Buffer.from(credential.slice('Payment '.length), 'base64url').toString())
    assert.equal(wire.challenge.request, c.requestEncoded)
    assert.equal(mpp.extractPaymentScheme(`${credential}, Bearer jwt`), credential)
    assert.equal(mpp.parseChallengeHeader('Bearer realm="x"'), null)
    assert.throws(() => mpp.parseChallengeHeader('Payment id="a", realm="r", method="m", intent="i", request="bm90IGpzb24"'), (e) => e instanceof MppError && e.code === 'mpp_error')
  })

  test('receipts, credits and retryable codes as the official helpers', () => {
    const receipt = Buffer.from(JSON.stringify({ method: 'nevermined', reference: 'r1', status: 'success', timestamp: 't' })).toString('base64url')
    assert.deepEqual(mpp.parseReceiptHeader(receipt), { method: 'nevermined', reference: 'r1', status: 'success', timestamp: 't' })
    assert.throws(() => mpp.parseReceiptHeader('e30'), (e) => e instanceof MppError)
    assert.equal(mpp.normalizeCredits(10n ** 21n), '1000000000000000000000')
    assert.equal(mpp.normalizeCredits('7'), '7')
    for (const bad of ['0x10', ' 5 ', '', -1, 1.5]) assert.throws(() => mpp.normalizeCredits(bad), (e) => e instanceof MppError, String(bad))
    assert.deepEqual(['BCK.MPP.0003', 'BCK.MPP.0004', 'BCK.MPP.0005', undefined].map(mpp.isRetryableMppCode), [false, true, true, false])
    const spent = new MppSpendOutcomeUnknownError('lost', new Error('reset'), { credentialsPresented: 1, creditsPresented: '2' })
    assert.deepEqual(mppSpendOf(spent), { credentialsPresented: 1, creditsPresented: '2' })
    assert.ok(spent instanceof MppError && !(spent instanceof MppCredentialRejectedError))
    assert.equal(mppSpendOf(new PaymentsError({ code: 'validation', message: 'x' })), undefined)
  })

  test('a stream body is sent again with the credential (the official refuses it), and the credential stays with the origin asked', async () => {
    const http = await import('node:http')
    const seen = []
    const challenge = 'Payment id="c1", realm="r", method="nevermined", intent="charge", request="eyJjcmVkaXRzIjoiMiIsInBsYW5JZCI6IjEwIn0"'
    const elsewhere = http.createServer((req, res) => {
      seen.push({ at: 'elsewhere', authorization: req.headers.authorization })
      res.end('moved here')
    })
    const agent = http.createServer((req, res) => {
      let body = ''
      req.on('data', (c) => (body += c))
      req.on('end', () => {
        seen.push({ at: req.url, authorization: req.headers.authorization, body })
        if (!req.headers.authorization) return res.writeHead(402, { 'www-authenticate': challenge }).end('{}')
        if (req.url === '/away') return res.writeHead(307, { location: `http://127.0.0.1:${elsewhere.address().port}/x` }).end()
        res.end('ok')
      })
    })
    const backend = http.createServer((req, res) => res.writeHead(201, { 'content-type': 'application/json' }).end('{"accessToken":"mpp-token"}'))
    for (const s of [agent, elsewhere, backend]) await once(s.listen(0, '127.0.0.1'), 'listening')
    try {
      const payments = Payments.getInstance({ nvmApiKey: 'local:eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIweGFiYyJ9.c2ln', backendUrl: `http://127.0.0.1:${backend.address().port}` })
      const stream = () => new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode('{"q":1}')), c.close()) })
      const base = `http://127.0.0.1:${agent.address().port}`
      const sent = await payments.mpp.fetch(`${base}/ask`, { method: 'POST', body: stream(), duplex: 'half' }, { delegationConfig: { delegationId: 'd' } })
      assert.equal(sent.response.status, 200)
      assert.deepEqual(seen.map((s) => s.body), ['{"q":1}', '{"q":1}'])
      assert.match(seen[1].authorization, /^Payment /)
      seen.length = 0
      const moved = await payments.mpp.fetch(`${base}/away`, { method: 'POST', body: '{}' }, { delegationConfig: { delegationId: 'd' } })
      assert.equal(await moved.response.text(), 'moved here')
      assert.deepEqual(seen.map((s) => [s.at, s.authorization === undefined]), [['/away', true], ['/away', false], ['elsewhere', true]], 'the credential never reached the other origin')
      assert.equal(moved.credentialsPresented, 1)
      assert.equal(moved.settled, false)
    } finally {
      for (const s of [agent, elsewhere, backend]) s.close()
    }
  })

  test('the Express helpers are the official ones', () => {
    assert.deepEqual(MPP_HEADERS, { CHALLENGE: 'www-authenticate', CREDENTIAL: 'authorization', RECEIPT: 'payment-receipt' })
    assert.deepEqual([undefined, false, true, { bindBody: true }, {}].map(resolveMppOption), [{ enabled: false, bindBody: false }, { enabled: false, bindBody: false }, { enabled: true, bindBody: false }, { enabled: true, bindBody: true }, { enabled: true, bindBody: false }])
  })

  test('the entries without MPP say where it is, and refuse an mpp route when the paywall is compiled', async () => {
    const payments = RootPayments.getInstance({ nvmApiKey: 'local:eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIweGFiYyJ9.c2ln' })
    await assert.rejects(payments.mpp.fetch('http://127.0.0.1:9/x', {}, {}), (e) => e instanceof PaymentsError && e.code === 'not_in_entry' && e.hint.includes("'nvm-x402/mpp'"))
    const { Payments: AgentPayments } = await import('nvm-x402/agent')
    const agent = AgentPayments.getInstance({ nvmApiKey: 'local:eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIweGFiYyJ9.c2ln' })
    assert.throws(() => agent.paywall({ agentId: 'a', routes: { 'POST /x': { planId: '1', mpp: true } } }), (e) => e instanceof PaymentsError && /mpp is not in this entry's core: gate MPP routes with nvm-x402\/express/.test(e.message))
  })
})
