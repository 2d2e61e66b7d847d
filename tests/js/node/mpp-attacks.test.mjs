// Attacks on MPP (the security review of the change, kept as tests): each asserts the safe
// behaviour against a real Express seller (several instances), a buyer and nvm-local.
// F*: what the review found and what now holds (a replay on another instance, another payer
// on a paid challenge, the single-use memory flushed, a seller re-using the buyer's token,
// a GET body bindBody could not bind); R*/H*: what held from the start (redirects,
// concurrency, spellings, hostile headers, HEAD, bodies, a hostile seller's 402 body).
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import express from 'express'
import { Payments as RootPayments, getFreePriceConfig, getFixedCreditsConfig } from 'nvm-x402'
import * as mpp from 'nvm-x402/mpp'
import { paymentMiddleware, captureRawBody, Payments as ExpressPayments } from 'nvm-x402/express'
import { NVM_LOCAL_BUILT, liveAccount } from '../support/nvm.mjs'
import { startNvmLocal } from '../support/servers.mjs'

const { Payments } = mpp

describe('MPP review', { skip: !NVM_LOCAL_BUILT && 'nvm-local is not built' }, () => {
  let live, cheapPlan, premiumPlan, subscriber, buyer, delegationId, agentId, apps, served, seller
  const balance = async (planId) => BigInt((await subscriber.payments.plans.getPlanBalance(planId)).balance)

  // One "instance" of the seller: an Express app with its own paymentMiddleware (its own gate memory).
  const instance = async (paths) => {
    const app = express()
    const server = app.listen(paths?.port ?? 0, '127.0.0.1')
    await once(server, 'listening')
    const base = `http://127.0.0.1:${server.address().port}`
    return { app, server, base }
  }
  const mount = (inst, routes) => {
    inst.app.use(express.json({ verify: captureRawBody }))
    inst.app.use(paymentMiddleware(seller, routes))
    for (const key of Object.keys(routes)) {
      const [verb, path] = key.split(' ')
      inst.app[verb.toLowerCase()](path, (req, res) => {
        served.push({ base: inst.base, path, body: req.body })
        res.json({ secret: `premium content of ${path}`, body: req.body ?? null })
      })
    }
  }
  // A paid credential by hand: the 402's challenge, the buyer's MPP token.
  const tokens = {}
  const credentialFor = async (url, init, planId) => {
    const unpaid = await fetch(url, init)
    assert.equal(unpaid.status, 402)
    const challenge = mpp.parseChallengeHeader(unpaid.headers.get('www-authenticate'))
    tokens[planId] ??= (await buyer.mpp.getMppAccessToken(planId, challenge.request.agentId, { delegationConfig: { delegationId } })).accessToken
    return mpp.buildCredentialHeader(challenge, { accessToken: tokens[planId] })
  }

  before(async () => {
    live = await startNvmLocal()
    const { world } = live
    const builder = RootPayments.getInstance({ nvmApiKey: world.accounts.builder.apiKey, backendUrl: live.url })
    ;({ planId: cheapPlan } = await builder.plans.registerCreditsPlan({ name: 'cheap' }, getFreePriceConfig(), getFixedCreditsConfig(100000n, 1n)))
    ;({ planId: premiumPlan } = await builder.plans.registerCreditsPlan({ name: 'premium' }, getFreePriceConfig(), getFixedCreditsConfig(1000n, 50n)))
    apps = [await instance(), await instance()]
    const endpoints = apps.flatMap(({ base }) => ['/cheap', '/premium', '/gbound'].flatMap((p) => [{ POST: `${base}${p}` }, { GET: `${base}${p}` }]))
    ;({ agentId } = await builder.agents.registerAgent({ name: 'review seller' }, { endpoints }, [cheapPlan, premiumPlan]))
    seller = RootPayments.getInstance({ nvmApiKey: world.accounts.builder.apiKey, backendUrl: live.url })
    served = []
    const routes = {
      'POST /cheap': { planId: cheapPlan, credits: 1, agentId, mpp: true },
      'POST /premium': { planId: premiumPlan, credits: 50, agentId, mpp: true },
      'GET /gbound': { planId: cheapPlan, credits: 1, agentId, mpp: { bindBody: true } },
    }
    for (const inst of apps) mount(inst, routes)
    subscriber = await liveAccount(live, `rev-${process.pid}`)
    await subscriber.payments.plans.orderPlan(cheapPlan)
    await subscriber.payments.plans.orderPlan(premiumPlan)
    buyer = Payments.getInstance({ nvmApiKey: subscriber.apiKey, backendUrl: live.url })
    ;({ delegationId } = await buyer.delegation.createDelegation({ provider: 'erc4337', spendingLimitCents: 1000000, durationSecs: 3600 }))
  })

  after(async () => {
    for (const a of apps ?? []) a.server.close()
    await live?.stop()
  })

  const post = (url, authorization, body = '{}') => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) }, body })

  test('F1: a spent credential replayed on ANOTHER instance of the same seller (or after a restart) is not delivered free', async () => {
    const [a, b] = apps
    const credential = await credentialFor(`${a.base}/premium`, { method: 'POST' }, premiumPlan)
    const before = await balance(premiumPlan)
    const paid = await post(`${a.base}/premium`, credential)
    assert.equal(paid.status, 200)
    assert.equal(before - (await balance(premiumPlan)), 50n)
    const count = served.length
    // Same instance: refused (the gate's memory).
    assert.equal((await post(`${a.base}/premium`, credential)).status, 402)
    // Another instance: verify passes (it never reads settlements), settle answers the stored settlement.
    const replay = await post(`${b.base}/premium`, credential)
    const text = await replay.text()
    assert.equal(served.length, count, `the handler ran again for a replay (HTTP ${replay.status}: ${text.slice(0, 80)})`)
    assert.notEqual(replay.status, 200, `replay delivered: ${text.slice(0, 80)}; balance charged once: ${before - (await balance(premiumPlan))}`)
  })

  test('F1b: another subscriber rides on a challenge someone else paid: its own token, the paid challenge, another instance', async () => {
    const [a, b] = apps
    const credential = await credentialFor(`${a.base}/premium`, { method: 'POST' }, premiumPlan)
    assert.equal((await post(`${a.base}/premium`, credential)).status, 200)
    const other = await liveAccount(live, `rev2-${process.pid}`)
    await other.payments.plans.orderPlan(premiumPlan)
    const ob = Payments.getInstance({ nvmApiKey: other.apiKey, backendUrl: live.url })
    const { delegationId: d2 } = await ob.delegation.createDelegation({ provider: 'erc4337', spendingLimitCents: 10000, durationSecs: 3600 })
    const { accessToken } = await ob.mpp.getMppAccessToken(premiumPlan, agentId, { delegationConfig: { delegationId: d2 } })
    const wire = JSON.parse(Buffer.from(credential.slice(8), 'base64url').toString())
    const theirs = 'Payment ' + Buffer.from(JSON.stringify({ ...wire, payload: { accessToken } })).toString('base64url')
    const otherBefore = BigInt((await other.payments.plans.getPlanBalance(premiumPlan)).balance)
    const r = await post(`${b.base}/premium`, theirs)
    const otherAfter = BigInt((await other.payments.plans.getPlanBalance(premiumPlan)).balance)
    assert.notEqual(r.status, 200, `another subscriber was served on a challenge it did not pay: charged ${otherBefore - otherAfter}`)
  })

  test('F2: one instance: a spent premium credential is replayable once 1024 newer credentials evicted it (FIFO memory)', async () => {
    const [a] = apps
    const premium = await credentialFor(`${a.base}/premium`, { method: 'POST' }, premiumPlan)
    assert.equal((await post(`${a.base}/premium`, premium)).status, 200)
    assert.equal((await post(`${a.base}/premium`, premium)).status, 402, 'refused while remembered')
    // 1024 cheap (1 credit) purchases in parallel batches.
    const cheap = []
    for (let i = 0; i < 1024; i += 64) {
      await Promise.all(Array.from({ length: 64 }, async () => {
        const c = await credentialFor(`${a.base}/cheap`, { method: 'POST' }, cheapPlan)
        assert.equal((await post(`${a.base}/cheap`, c)).status, 200)
        cheap.push(c)
      }))
    }
    const before = await balance(premiumPlan)
    const cheapBefore = await balance(cheapPlan)
    const replay = await post(`${a.base}/premium`, premium)
    const text = await replay.text()
    // Each free replay re-inserts one credential and evicts the next oldest: replay them round-robin.
    let free = 0
    for (const c of cheap.slice(0, 300)) if ((await post(`${a.base}/cheap`, c)).status === 200) free++
    console.log(`F2: premium replay ${replay.status}; then ${free}/300 cheap replays delivered; cheap charged ${cheapBefore - (await balance(cheapPlan))}`)
    assert.notEqual(replay.status, 200, `evicted premium credential delivered again: ${text.slice(0, 80)}; premium charged ${before - (await balance(premiumPlan))}`)
  })

  test('F3: the seller holding a buyer credential re-uses its (reusable v2) MPP token on challenges of its own, beyond maxCredits', async () => {
    const [a] = apps
    let credential
    const recording = Payments.getInstance({
      nvmApiKey: subscriber.apiKey,
      backendUrl: live.url,
      fetch: async (request, init) => {
        const auth = request instanceof Request ? request.headers.get('authorization') : init?.headers?.authorization
        if (auth) credential = auth
        return fetch(request, init)
      },
    })
    const start = await balance(premiumPlan)
    const r = await recording.mpp.fetch(`${a.base}/premium`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }, { delegationConfig: { delegationId }, planId: premiumPlan, maxCredits: 50 })
    assert.equal(r.paid, true)
    // A hostile seller: the token out of the credential, in a fresh challenge of its own.
    const accessToken = JSON.parse(Buffer.from(credential.slice('Payment '.length), 'base64url').toString()).payload.accessToken
    const sellerApi = ExpressPayments.getInstance({ nvmApiKey: live.world.accounts.builder.apiKey, backendUrl: live.url })
    for (let i = 0; i < 3; i++) {
      const issued = await sellerApi.mpp.issueChallenge({ planId: premiumPlan, credits: 50n, agentId, resource: '/premium', httpVerb: 'POST' })
      const forged = mpp.buildCredentialHeader(mpp.parseChallengeHeader(issued.challenge), { accessToken })
      await sellerApi.mpp.settleCredential({ credential: forged, resource: '/premium', httpVerb: 'POST' }).catch(() => {})
    }
    assert.equal(start - (await balance(premiumPlan)), 50n, `the buyer capped the call at 50 credits, it was charged ${start - (await balance(premiumPlan))}`)
  })

  test('F4: bindBody on a GET route: the handler reads a body the challenge never bound', async () => {
    const [a] = apps
    const url = `${a.base}/gbound`
    const unpaid = await fetch(url, { method: 'GET', headers: { 'content-type': 'application/json', 'content-length': '13' }, body: undefined }).catch(() => null)
    // undici refuses a GET body, so send raw HTTP.
    const raw = (auth, body) => new Promise((resolve, reject) => {
      import('node:http').then(({ request }) => {
        const req = request(url, { method: 'GET', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...(auth ? { authorization: auth } : {}) } }, (res) => {
          let text = ''
          res.on('data', (d) => (text += d))
          res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }))
        })
        req.on('error', reject)
        req.end(body)
      })
    })
    void unpaid
    // A GET that came with a body: Express parses it, a Fetch Request can't hold it, so it
    // can't be bound: refused (500) before any challenge, whatever credential it carries.
    const opening = await raw(null, '{"amount":1}')
    assert.equal(opening.status, 500)
    assert.equal(opening.headers['www-authenticate'], undefined)
    const bodyless = await fetch(url)
    assert.equal(bodyless.status, 402, 'a GET without a body is bound to the empty body')
    const challenge = mpp.parseChallengeHeader(bodyless.headers.get('www-authenticate'))
    const credential = mpp.buildCredentialHeader(challenge, { accessToken: (tokens[cheapPlan] ??= (await buyer.mpp.getMppAccessToken(cheapPlan, agentId, { delegationConfig: { delegationId } })).accessToken) })
    const paid = await raw(credential, '{"amount":1000000}')
    assert.notEqual(paid.status, 200, `a body other than the one the challenge was issued for was served: ${paid.text}`)
  })
})

// Checks the fix suggested for F3: a v3 (single-use) MPP token can't be re-used by the seller.
describe('MPP review: v3 tokens (fix check for F3)', { skip: !NVM_LOCAL_BUILT && 'nvm-local is not built' }, () => {
  test('F3-fix: a v3 MPP token settles once; a second challenge with it is refused', async () => {
    const live = await startNvmLocal()
    try {
      const builder = RootPayments.getInstance({ nvmApiKey: live.world.accounts.builder.apiKey, backendUrl: live.url })
      const { planId } = await builder.plans.registerCreditsPlan({ name: 'v3' }, getFreePriceConfig(), getFixedCreditsConfig(1000n, 5n))
      const { agentId } = await builder.agents.registerAgent({ name: 'v3' }, { endpoints: [{ POST: 'http://127.0.0.1:9/x' }] }, [planId])
      const sub = await liveAccount(live, `v3-${process.pid}`)
      await sub.payments.plans.orderPlan(planId)
      const b = Payments.getInstance({ nvmApiKey: sub.apiKey, backendUrl: live.url })
      const { delegationId } = await b.delegation.createDelegation({ provider: 'erc4337', spendingLimitCents: 10000, durationSecs: 3600 })
      const minted = await b.mpp.getMppAccessToken(planId, agentId, { delegationConfig: { delegationId }, tokenVersion: 3 })
      const s = ExpressPayments.getInstance({ nvmApiKey: live.world.accounts.builder.apiKey, backendUrl: live.url })
      const results = []
      for (let i = 0; i < 2; i++) {
        const issued = await s.mpp.issueChallenge({ planId, credits: 5n, agentId, resource: '/x', httpVerb: 'POST' })
        const credential = mpp.buildCredentialHeader(mpp.parseChallengeHeader(issued.challenge), { accessToken: minted.accessToken })
        results.push(await s.mpp.settleCredential({ credential, resource: '/x', httpVerb: 'POST' }).then((r) => r.success, (e) => e.code))
      }
      const bal = BigInt((await sub.payments.plans.getPlanBalance(planId)).balance)
      assert.deepEqual([minted.tokenVersion, results[0], bal], [3, true, 995n], JSON.stringify(minted))
      assert.notEqual(results[1], true, 'second settle with the same v3 token')
    } finally {
      await live.stop()
    }
  })
})

// The buyer's credential and the caller's Authorization never reach another origin, whatever the redirect.
describe('MPP review: redirects (held?)', () => {
  test('R1: 301/302/303/307/308 to another origin, direct or via a same-origin hop, under follow/manual/error', async () => {
    const CH = 'Payment id="CQszOngfvT1RIGSajipZJvg-lBCEDugWLDF7SD_w1og", realm="r", method="nevermined", intent="charge", request="' + Buffer.from('{"credits":"1","planId":"7"}').toString('base64url') + '", expires="2099-01-01T00:00:00.000Z", opaque="' + Buffer.from('{"_mppx_scope":"GET /x","nonce":"n"}').toString('base64url') + '"'
    const seen = []
    const evil = express()
    evil.use((req, res) => { seen.push({ url: req.url, auth: req.headers.authorization ?? null }); res.json({ evil: true }) })
    const es = evil.listen(0, '127.0.0.1'); await once(es, 'listening')
    const E = `http://127.0.0.1:${es.address().port}`
    const good = express()
    let status = 307
    good.all('/x', (req, res) => {
      if (!req.headers.authorization?.startsWith('Payment ')) return res.status(402).setHeader('www-authenticate', CH).json({})
      res.redirect(status, '/hop')
    })
    good.all('/hop', (req, res) => res.redirect(status, `${E}/stolen`))
    good.all('/direct', (req, res) => {
      if (!req.headers.authorization?.startsWith('Payment ')) return res.status(402).setHeader('www-authenticate', CH).json({})
      res.redirect(status, `${E}/stolen-direct`)
    })
    const gs = good.listen(0, '127.0.0.1'); await once(gs, 'listening')
    const G = `http://127.0.0.1:${gs.address().port}`
    // A fake backend for the mint: answers any token.
    const backend = express()
    backend.use(express.json())
    backend.use((req, res) => res.status(201).json({ accessToken: 'SECRETTOKEN_' + 'x'.repeat(40), delegationId: 'd' }))
    const bs = backend.listen(0, '127.0.0.1'); await once(bs, 'listening')
    const b = Payments.getInstance({ nvmApiKey: 'local:eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIweGFiYyJ9.c2ln', backendUrl: `http://127.0.0.1:${bs.address().port}/` })
    try {
      for (const s of [301, 302, 303, 307, 308]) {
        status = s
        for (const redirect of ['follow', 'manual', 'error']) {
          for (const path of ['/x', '/direct']) {
            await b.mpp.fetch(`${G}${path}`, { method: 'POST', redirect, headers: { authorization: 'Bearer CALLERSECRET' }, body: '{}' }, { delegationConfig: { delegationId: 'd' } }).catch(() => {})
          }
        }
      }
      assert.ok(seen.length > 0, 'the redirects were followed to the other origin')
      const leaked = seen.filter((x) => x.auth)
      assert.deepEqual(leaked, [], 'credential or caller Authorization reached the other origin')
    } finally {
      es.close(); gs.close(); bs.close()
    }
  })
})

describe('MPP review: held checks against the live gate', { skip: !NVM_LOCAL_BUILT && 'nvm-local is not built' }, () => {
  let live, base, planId, agentId, buyer, delegationId, server, served = 0
  before(async () => {
    live = await startNvmLocal()
    const builder = RootPayments.getInstance({ nvmApiKey: live.world.accounts.builder.apiKey, backendUrl: live.url })
    ;({ planId } = await builder.plans.registerCreditsPlan({ name: 'h' }, getFreePriceConfig(), getFixedCreditsConfig(100000n, 3n)))
    const app = express()
    server = app.listen(0, '127.0.0.1'); await once(server, 'listening')
    base = `http://127.0.0.1:${server.address().port}`
    ;({ agentId } = await builder.agents.registerAgent({ name: 'h' }, { endpoints: [{ POST: `${base}/p` }, { GET: `${base}/p` }, { POST: `${base}/b` }] }, [planId]))
    app.use(express.json({ verify: captureRawBody }))
    app.use(paymentMiddleware(builder, { 'POST /p': { planId, credits: 3, agentId, mpp: true }, 'GET /p': { planId, credits: 3, agentId, mpp: true }, 'POST /b': { planId, credits: 3, agentId, mpp: { bindBody: true } } }))
    app.all('/p', (req, res) => { served++; res.json({ ok: true }) })
    app.post('/b', (req, res) => { served++; res.json({ b: req.body }) })
    const sub = await liveAccount(live, `h-${process.pid}`)
    await sub.payments.plans.orderPlan(planId)
    buyer = Payments.getInstance({ nvmApiKey: sub.apiKey, backendUrl: live.url })
    ;({ delegationId } = await buyer.delegation.createDelegation({ provider: 'erc4337', spendingLimitCents: 100000, durationSecs: 3600 }))
  })
  after(async () => { server?.close(); await live?.stop() })
  const cred = async (path, init = { method: 'POST' }) => {
    const r = await fetch(`${base}${path}`, init)
    const ch = mpp.parseChallengeHeader(r.headers.get('www-authenticate'))
    const { accessToken } = await buyer.mpp.getMppAccessToken(planId, agentId, { delegationConfig: { delegationId } })
    return mpp.buildCredentialHeader(ch, { accessToken })
  }

  test('H1: 20 concurrent requests with one credential on one instance: one delivered', async () => {
    const c = await cred('/p')
    const statuses = await Promise.all(Array.from({ length: 20 }, () => fetch(`${base}/p`, { method: 'POST', headers: { authorization: c } }).then((r) => r.status)))
    assert.equal(statuses.filter((s) => s === 200).length, 1, statuses.join())
  })

  test('H2: a credential used on another verb / query / path variant, or with its id re-spelled, is refused', async () => {
    const c = await cred('/p')
    const before = served
    const wire = JSON.parse(Buffer.from(c.slice(8), 'base64url').toString())
    const reorder = 'Payment ' + Buffer.from(JSON.stringify({ payload: wire.payload, challenge: Object.fromEntries(Object.entries(wire.challenge).reverse()) })).toString('base64url')
    const padded = 'Payment ' + Buffer.from(JSON.stringify({ ...wire, challenge: { ...wire.challenge, id: wire.challenge.id + '=' } })).toString('base64url')
    const tries = [
      ['GET', '/p', c], ['POST', '/p?x=1', c], ['POST', '/P', c], ['POST', '/p/', c], ['POST', '//p', c], ['POST', '/p#x', padded],
    ]
    for (const [method, path, auth] of tries) {
      const r = await fetch(`${base}${path}`, { method, headers: { authorization: auth } })
      assert.notEqual(r.status, 200, `${method} ${path}`)
    }
    assert.equal(served, before)
    // Key order changed: same id; pays once, then the original is refused.
    assert.equal((await fetch(`${base}/p`, { method: 'POST', headers: { authorization: reorder } })).status, 200)
    assert.equal((await fetch(`${base}/p`, { method: 'POST', headers: { authorization: c } })).status, 402)
  })

  test('H3: hostile Authorization values answer 402/400 and the gate keeps serving', async () => {
    const deep = 'Payment ' + Buffer.from('['.repeat(5000)).toString('base64url')
    const values = ['Payment', 'Payment ', 'Payment ,,,', 'Payment a=b', 'Payment "', 'Payment ' + 'A'.repeat(12000), deep, 'Payment e30', 'Payment ' + Buffer.from('{"challenge":{"id":null}}').toString('base64url'), 'Bearer x, Payment , Payment e30']
    for (const v of values) {
      const r = await fetch(`${base}/p`, { method: 'POST', headers: { authorization: v } })
      assert.ok([400, 402].includes(r.status), `${v.slice(0, 20)}: ${r.status}`)
    }
    assert.equal((await fetch(`${base}/p`, { method: 'POST', headers: { authorization: await cred('/p') } })).status, 200)
  })

  test('H6: HEAD on a paid GET route does not run the handler unpaid', async () => {
    const before = served
    const r = await fetch(`${base}/p`, { method: 'HEAD' })
    assert.equal(served, before, `HEAD ran the GET handler unpaid (HTTP ${r.status})`)
  })

  test('H4: bindBody POST: chunked / differently-typed bodies cannot ride on another body\'s challenge', async () => {
    const c = await cred('/b', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"n":1}' })
    const before = served
    const chunked = new ReadableStream({ start(ctl) { ctl.enqueue(new TextEncoder().encode('{"n":999}')); ctl.close() } })
    const r1 = await fetch(`${base}/b`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: c }, body: chunked, duplex: 'half' })
    const r2 = await fetch(`${base}/b`, { method: 'POST', headers: { 'content-type': 'text/plain', authorization: c }, body: '{"n":999}' })
    const r3 = await fetch(`${base}/b`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: c }, body: 'n=999' })
    assert.deepEqual([r1.status, r2.status, r3.status].map((s) => s === 200), [false, false, false], `${r1.status} ${r2.status} ${r3.status}`)
    assert.equal(served, before)
  })
})

describe('MPP review: a hostile seller\'s 402 body', () => {
  test('H5: an endless 402 body after the credential: payments.mpp.fetch ends (64 KiB cap), with the spend', async () => {
    const { createServer } = await import('node:http')
    const CH = 'Payment id="CQszOngfvT1RIGSajipZJvg-lBCEDugWLDF7SD_w1og", realm="r", method="nevermined", intent="charge", request="' + Buffer.from('{"credits":"1","planId":"7"}').toString('base64url') + '", expires="2099-01-01T00:00:00.000Z", opaque="e30"'
    let sentBytes = 0
    const srv = createServer((req, res) => {
      res.writeHead(402, { 'www-authenticate': CH, 'content-type': 'application/json' })
      if (!req.headers.authorization) return res.end('{}')
      res.write('{"message":"')
      const chunk = 'x'.repeat(65536)
      const pump = () => { while (res.write(chunk)) { sentBytes += chunk.length; if (sentBytes > 64 * 1024 * 1024) return res.end('"}') } }
      res.on('drain', pump)
      pump()
    })
    srv.listen(0, '127.0.0.1'); await once(srv, 'listening')
    const backend = express(); backend.use(express.json()); backend.use((req, res) => res.status(201).json({ accessToken: 'T'.repeat(60), delegationId: 'd' }))
    const bs = backend.listen(0, '127.0.0.1'); await once(bs, 'listening')
    const b = Payments.getInstance({ nvmApiKey: 'local:eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIweGFiYyJ9.c2ln', backendUrl: `http://127.0.0.1:${bs.address().port}/` })
    try {
      const started = Date.now()
      const outcome = await b.mpp.fetch(`http://127.0.0.1:${srv.address().port}/x`, { method: 'POST' }, { delegationConfig: { delegationId: 'd' } }).then((r) => ({ ok: r }), (e) => ({ e }))
      console.log('H5:', outcome.e ? `${outcome.e.code}: ${String(outcome.e.message).slice(0, 120)}` : 'resolved', 'bytes pushed', sentBytes, 'ms', Date.now() - started, 'spend', JSON.stringify(mpp.mppSpendOf(outcome.e)))
      assert.ok(sentBytes < 64 * 1024 * 1024, 'the whole endless body was read')
    } finally {
      srv.closeAllConnections?.(); srv.close(); bs.close()
    }
  })
})
