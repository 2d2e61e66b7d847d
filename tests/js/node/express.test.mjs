// nvm-x402/express: the official SDK's paymentMiddleware(payments, routes, options),
// fail closed, in a real Express server (Express 5 and 4) on a free port, paid
// through a live nvm-local by a subscriber's fetchWithPayment. Each test checks
// what the subscriber got and what the backend charged (the plan's balance).
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import http from 'node:http'
import { Payments, decodePaymentHeader, getFreePriceConfig, getDynamicCreditsConfig } from 'nvm-x402'
import { paymentMiddleware, X402_HEADERS } from 'nvm-x402/express'
import express5 from 'express'
import express4 from 'express4'
import { NVM_LOCAL_BUILT, liveAccount } from '../support/nvm.mjs'
import { startNvmLocal } from '../support/servers.mjs'

const quiet = (run) => {
  const error = console.error
  console.error = () => {}
  return Promise.resolve()
    .then(run)
    .finally(() => {
      console.error = error
    })
}

for (const [version, express] of [['Express 5', express5], ['Express 4', express4]]) {
  describe(`nvm-x402/express on ${version}, against nvm-local`, { skip: !NVM_LOCAL_BUILT && 'nvm-local is not built (scripts/build.sh --all)' }, () => {
    let live, server, base, planId, agentId, subscriber, payments, settleMode, calls, hooks
    const balance = async () => BigInt((await subscriber.payments.plans.getPlanBalance(planId)).balance)
    const pay = (path, init = {}) => payments.fetch(`${base}${path}`, { method: 'POST', ...init }, { planIds: [planId] })

    before(async () => {
      live = await startNvmLocal()
      const { world } = live
      const builder = Payments.getInstance({ nvmApiKey: world.accounts.builder.apiKey, backendUrl: live.url })
      ;({ planId } = await builder.plans.registerCreditsPlan({ name: `express ${version}` }, getFreePriceConfig(), getDynamicCreditsConfig(1000n, 1n, 5n)))
      const app = express()
      server = app.listen(0, '127.0.0.1')
      await once(server, 'listening')
      base = `http://127.0.0.1:${server.address().port}`
      const paths = ['/ask', '/items/:id', '/send', '/end', '/stream', '/dynamic', '/fail', '/redirect', '/slow']
      ;({ agentId } = await builder.agents.registerAgent({ name: `express ${version}` }, { endpoints: paths.flatMap((p) => [{ POST: `${base}${p}` }, { GET: `${base}${p}` }]) }, [planId]))
      // The agent's backend calls go through this fetch: a test can make settle fail or hang.
      settleMode = 'ok'
      calls = []
      const agentFetch = async (url, init) => {
        const path = new URL(url).pathname
        calls.push(path)
        if (path.endsWith('/x402/settle') && settleMode === 'refused') return new Response(JSON.stringify({ success: false, errorReason: 'Insufficient credits', transaction: '', network: 'eip155:84532' }), { status: 200 })
        if (path.endsWith('/x402/settle') && settleMode === 'down') throw new TypeError('fetch failed')
        if (path.endsWith('/x402/settle') && settleMode === 'hang') return new Promise(() => {})
        return fetch(url, init)
      }
      // A client of the default entry, as an official SDK user has: the middleware makes the agent client it needs.
      const agentPayments = Payments.getInstance({ nvmApiKey: world.accounts.builder.apiKey, backendUrl: live.url, fetch: agentFetch, timeoutMs: 1500 })
      hooks = []
      const record = (name, throws = false) => (req, ...rest) => {
        hooks.push({ name, path: req.path, args: rest })
        if (throws) throw new Error(`${name} fails`)
      }
      app.use(express.json())
      app.use(
        paymentMiddleware(
          agentPayments,
          {
            'POST /ask': { planId, credits: 2, agentId },
            'GET /items/:id': { planId, credits: 1, agentId },
            'POST /send': { planId, agentId },
            'POST /end': { planId, agentId },
            'POST /stream': { planId, agentId },
            'POST /dynamic': { planId, agentId, credits: (req, res) => res.locals.cost },
            'POST /fail': { planId, agentId },
            'POST /redirect': { planId, agentId },
            'POST /slow': { planId, agentId },
          },
          { onBeforeVerify: record('onBeforeVerify'), onAfterVerify: record('onAfterVerify', true), onAfterSettle: record('onAfterSettle'), onPaymentError: (error, req) => hooks.push({ name: 'onPaymentError', path: req.path, code: error.code }) },
        ),
      )
      app.post('/ask', (req, res) => res.json({ answer: 42, context: req.paymentContext }))
      app.get('/items/:id', (req, res) => res.send(`item ${req.params.id}`))
      app.post('/send', (req, res) => res.type('text').send('sent'))
      app.post('/end', (req, res) => {
        res.statusCode = 201
        res.setHeader('x-handler', 'end')
        res.end('ended')
      })
      app.post('/stream', (req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' })
        res.write('one ')
        setTimeout(() => {
          res.write('two ')
          res.end('three')
        }, 20)
      })
      app.post('/dynamic', (req, res) => {
        res.locals.cost = 3
        res.json({ priced: true })
      })
      app.post('/fail', (req, res) => res.status(500).json({ error: 'the handler failed' }))
      app.post('/redirect', (req, res) => res.redirect(302, '/elsewhere'))
      app.post('/slow', (req, res) => setTimeout(() => res.json({ late: true }), 300))
      app.get('/free', (req, res) => {
        res.write('streamed ')
        setTimeout(() => res.end('freely'), 20)
      })
      subscriber = await liveAccount(live, `express-${version}-${process.pid}`)
      await subscriber.payments.plans.orderPlan(planId)
      payments = subscriber.payments
    })
    after(async () => {
      server?.close()
      await live?.stop()
    })

    test('no token: 402 whose payment-required names the plan and the URL; nothing charged', async () => {
      const before = await balance()
      hooks.length = 0
      const response = await fetch(`${base}/ask`, { method: 'POST' })
      assert.equal(response.status, 402)
      const required = decodePaymentHeader(response.headers.get('payment-required'))
      assert.equal(required.accepts[0].planId, planId)
      assert.equal(required.resource.url, `${base}/ask`)
      assert.equal(await balance(), before)
      assert.deepEqual(hooks.map((h) => [h.name, h.code]), [['onPaymentError', 'payment_required']])
    })

    test('paid: 200 with the receipt, exactly the route\'s credits, req.paymentContext as the official sets it, hooks in order', async () => {
      const before = await balance()
      hooks.length = 0
      const { response, paymentResponse } = await quiet(() => pay('/ask', { body: '{"q":1}', headers: { 'content-type': 'application/json' } }))
      assert.equal(response.status, 200)
      const body = await response.json()
      assert.equal(body.answer, 42)
      assert.equal(paymentResponse.creditsRedeemed, '2')
      assert.equal(before - (await balance()), 2n)
      const { context } = body
      assert.equal(context.verified, true)
      assert.equal(context.creditsToSettle, 2)
      assert.equal(typeof context.token, 'string')
      assert.equal(context.paymentRequired.accepts[0].planId, planId)
      // onAfterVerify threw: logged, and the payment went on.
      assert.deepEqual(hooks.map((h) => h.name), ['onBeforeVerify', 'onAfterVerify', 'onAfterSettle'])
      assert.equal(hooks[2].args[0], 2, 'onAfterSettle(req, creditsUsed, settlement)')
      assert.equal(hooks[2].args[1].creditsRedeemed, '2')
    })

    test('res.send, res.end, streamed write + end and a :param route: each held whole, then delivered with its receipt', async () => {
      for (const [path, status, text] of [['/send', 200, 'sent'], ['/end', 201, 'ended'], ['/stream', 200, 'one two three']]) {
        const before = await balance()
        const { response, paymentResponse } = await quiet(() => pay(path))
        assert.equal(response.status, status, path)
        assert.equal(await response.text(), text, path)
        assert.equal(paymentResponse.creditsRedeemed, '1', path)
        assert.equal(before - (await balance()), 1n, path)
      }
      const { response } = await quiet(() => payments.fetch(`${base}/items/7`, {}, { planIds: [planId] }))
      assert.equal(await response.text(), 'item 7')
      assert.ok(response.headers.get('payment-response'))
    })

    test('dynamic credits are read after the handler (res.locals)', async () => {
      const before = await balance()
      const { paymentResponse } = await quiet(() => pay('/dynamic'))
      assert.equal(paymentResponse.creditsRedeemed, '3')
      assert.equal(before - (await balance()), 3n)
    })

    test('a 5xx from the handler is delivered and charges nothing; a 3xx is delivered content and settled', async () => {
      let before = await balance()
      const { response } = await quiet(() => pay('/fail'))
      assert.equal(response.status, 500)
      assert.equal(await balance(), before)
      before = await balance()
      const redirected = await quiet(() => payments.fetch(`${base}/redirect`, { method: 'POST', redirect: 'manual' }, { planIds: [planId] }))
      assert.equal(redirected.response.status, 302)
      assert.equal(redirected.response.headers.get('location'), '/elsewhere')
      assert.ok(redirected.response.headers.get('payment-response'))
      assert.equal(before - (await balance()), 1n)
    })

    test('a settle that is refused, can\'t be asked or times out delivers none of the paid bytes (402, 503, 503)', async () => {
      for (const [mode, status] of [['refused', 402], ['down', 503], ['hang', 503]]) {
        settleMode = mode
        try {
          const { response } = await quiet(() => pay('/stream'))
          assert.equal(response.status, status, mode)
          const text = await response.text()
          assert.doesNotMatch(text, /one two|three/, `${mode}: no paid bytes`)
          assert.equal(response.headers.get('content-type')?.startsWith('text/plain'), false, `${mode}: not the handler's headers`)
        } finally {
          settleMode = 'ok'
        }
      }
    })

    test('a buyer who disconnects before the answer is whole is not charged', async () => {
      const before = await balance()
      calls.length = 0
      const abort = new AbortController()
      const sent = quiet(() => payments.fetch(`${base}/slow`, { method: 'POST', signal: abort.signal }, { planIds: [planId] }))
      // Abort once the agent has verified (the handler is running).
      while (!calls.some((c) => c.endsWith('/x402/verify'))) await new Promise((ok) => setTimeout(ok, 5))
      abort.abort()
      await assert.rejects(sent)
      await new Promise((ok) => setTimeout(ok, 500)) // the handler finishes after the buyer left
      assert.equal(calls.filter((c) => c.endsWith('/x402/settle')).length, 0, 'no settle')
      assert.equal(await balance(), before)
    })

    test('a route that is not in the table passes through untouched, streamed as Express streams it', async () => {
      const response = await fetch(`${base}/free`)
      assert.equal(response.status, 200)
      const reader = response.body.getReader()
      const first = new TextDecoder().decode((await reader.read()).value)
      assert.equal(first, 'streamed ', 'the first chunk arrives before the handler ends')
      let rest = ''
      for (let r = await reader.read(); !r.done; r = await reader.read()) rest += new TextDecoder().decode(r.value)
      assert.equal(rest, 'freely')
      assert.equal(response.headers.get('payment-response'), null)
    })
  })
}

describe('nvm-x402/express options', () => {
  test('every route needs an agent, and one middleware serves one agent', () => {
    const payments = Payments.getInstance({ nvmApiKey: 'local:eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIweGFhIn0.c2ln', backendUrl: 'http://127.0.0.1:9/' })
    assert.throws(() => paymentMiddleware(payments, { 'POST /a': { planId: '1' } }), (e) => e.code === 'validation' && /needs an agentId/.test(e.message))
    assert.throws(() => paymentMiddleware(payments, { 'POST /a': { planId: '1', agentId: 'x' }, 'POST /b': { planId: '1', agentId: 'y' } }), /one paymentMiddleware per agent/)
    assert.equal(typeof paymentMiddleware(payments, { 'POST /a': { planId: '1' } }, { agentId: 'x' }), 'function')
    assert.throws(() => paymentMiddleware(payments, { 'POST /a': { planId: '1', agentId: 'x', credits: -1 } }), (e) => e.code === 'validation')
  })

  test('onPaymentError may answer a refused request itself (as the official lets it); the handler never runs', async () => {
    const payments = Payments.getInstance({ nvmApiKey: 'local:eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIweGFhIn0.c2ln', backendUrl: 'http://127.0.0.1:9/' })
    const app = express5()
    let ran = false
    app.use(paymentMiddleware(payments, { 'POST /a': { planId: '1', agentId: 'x', scheme: 'nvm:erc4337' } }, { onPaymentError: (error, req, res) => res.status(401).json({ mine: error.code }) }))
    app.post('/a', (req, res) => {
      ran = true
      res.json({ paid: 'content' })
    })
    const server = app.listen(0, '127.0.0.1')
    await once(server, 'listening')
    try {
      const response = await fetch(`http://127.0.0.1:${server.address().port}/a`, { method: 'POST' })
      assert.equal(response.status, 401)
      assert.deepEqual(await response.json(), { mine: 'payment_required' })
      assert.equal(ran, false)
    } finally {
      server.close()
    }
  })
})

describe('nvm-x402/express against a scripted backend: what an attacker or a failing handler can make of it', () => {
  let server, base, settles
  const PLAN = '1234567890'
  const verify = JSON.stringify({ isValid: true, payer: '0xbb', network: 'eip155:84532', agentRequestId: 'r' })
  const settle = JSON.stringify({ success: true, payer: '0xbb', transaction: '0x01', network: 'eip155:84532', creditsRedeemed: '1', remainingBalance: '9' })
  let token

  before(async () => {
    const { benchToken } = await import('../support/gate.mjs')
    token = benchToken({ planId: PLAN, agentId: 'agent-1' })
    settles = 0
    const fetch = async (url) => {
      if (String(url).endsWith('/x402/settle')) settles++
      return new Response(String(url).endsWith('/x402/verify') ? verify : settle, { status: 200 })
    }
    const payments = Payments.getInstance({ nvmApiKey: 'local:eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIweGFhIn0.c2ln', backendUrl: 'http://127.0.0.1:9/', fetch })
    const app = express5()
    const route = { planId: PLAN, agentId: 'agent-1', scheme: 'nvm:erc4337' }
    app.use(paymentMiddleware(payments, { 'GET /paid': route, 'GET /files/:name': route, 'GET /broken': route, 'GET /cookie-then-throw': route, 'GET /missing': route, 'GET /odd': route }))
    app.get('/paid', (req, res) => res.json({ paid: true }))
    app.get('/free', (req, res) => res.json({ free: true }))
    app.get('/files/:name', (req, res) => res.json({ paid: true, name: req.params.name }))
    app.get('/broken', (req, res) => {
      res.setHeader('location', '/PAID-LOCATION')
      res.write('PAID-PARTIAL ')
      throw new Error('the handler broke after writing')
    })
    app.get('/cookie-then-throw', (req, res) => {
      res.cookie('session', 'PAID-SESSION')
      throw new Error('the handler broke after its cookie')
    })
    app.get('/missing', (req, res) => {
      res.setHeader('x-helper', 'set for a 200')
      res.status(404).json({ error: 'no such item' })
    })
    app.get('/odd', (req, res) => {
      res.statusCode = 600
      res.end('odd')
    })
    server = app.listen(0, '127.0.0.1')
    await once(server, 'listening')
    base = `http://127.0.0.1:${server.address().port}`
  })
  after(() => server?.close())

  /** A raw HTTP/1.1 request (fetch can't forge a Host or send a path as is). */
  const raw = (path, headers = {}) =>
    new Promise((resolve, reject) => {
      const request = http.request({ host: '127.0.0.1', port: server.address().port, path, method: 'GET', headers }, (response) => {
        let body = ''
        response.on('data', (chunk) => (body += chunk))
        response.on('end', () => resolve({ status: response.statusCode, body, headers: response.headers }))
      })
      request.on('error', reject)
      request.end()
    })

  test('a forged Host or a path Express reads otherwise than a URL is refused (400), never passed as free', async () => {
    for (const [path, host] of [['/paid', 'x#'], ['/paid', 'x/free?'], ['/paid', 'evil@x'], ['http://a/paid', '127.0.0.1'], ['/files/..', '127.0.0.1'], ['/files/%2e%2e', '127.0.0.1'], ['/files/.', '127.0.0.1'], ['/files\\\\x', '127.0.0.1']]) {
      const answer = await raw(path, { host })
      assert.ok(answer.status === 400 || answer.status === 402, `${host} ${path}: ${answer.status} ${answer.body}`)
      assert.doesNotMatch(answer.body, /"paid":true/, `${host} ${path}`)
    }
    assert.equal(settles, 0)
    assert.equal((await raw('/free', { host: '127.0.0.1' })).status, 200, 'a plain request still passes')
  })

  test('an encoded slash in a :param segment is still the paid route (402), as Express routes it', async () => {
    for (const path of ['/files/a%2Fb', '/files/a%2fb', '/files/x']) {
      const answer = await raw(path, { host: '127.0.0.1' })
      assert.equal(answer.status, 402, path)
      assert.doesNotMatch(answer.body, /"paid":true/)
    }
    const paid = await raw('/files/a%2Fb', { host: '127.0.0.1', 'payment-signature': token })
    assert.equal(paid.status, 200)
    assert.equal(JSON.parse(paid.body).name, 'a/b')
  })

  test('X402_HEADERS: the official names, frozen, and the ones the middleware reads and answers with', async () => {
    assert.deepEqual({ ...X402_HEADERS }, { PAYMENT_SIGNATURE: 'payment-signature', PAYMENT_REQUIRED: 'payment-required', PAYMENT_RESPONSE: 'payment-response' })
    assert.ok(Object.isFrozen(X402_HEADERS))
    assert.throws(() => {
      X402_HEADERS.PAYMENT_SIGNATURE = 'authorization'
    }, TypeError)
    const refused = await raw('/paid', { host: '127.0.0.1' })
    assert.equal(refused.status, 402)
    assert.equal(decodePaymentHeader(refused.headers[X402_HEADERS.PAYMENT_REQUIRED]).accepts[0].planId, PLAN)
    const paid = await raw('/paid', { host: '127.0.0.1', [X402_HEADERS.PAYMENT_SIGNATURE]: token })
    assert.equal(paid.status, 200)
    assert.equal(decodePaymentHeader(paid.headers[X402_HEADERS.PAYMENT_RESPONSE]).success, true)
  })

  test('an error after part of the answer delivers none of it and charges nothing; a handler\'s own error keeps its status but not the headers of the answer it replaced', async () => {
    const before = settles
    const quietly = (run) => quiet(run)
    const broken = await quietly(() => raw('/broken', { host: '127.0.0.1', 'payment-signature': token }))
    assert.equal(broken.status, 500)
    assert.doesNotMatch(broken.body, /PAID-PARTIAL/)
    assert.equal(broken.headers.location, undefined)
    const cookie = await quietly(() => raw('/cookie-then-throw', { host: '127.0.0.1', 'payment-signature': token }))
    assert.equal(cookie.status, 500)
    assert.equal(cookie.headers['set-cookie'], undefined, 'the cookie of the answer that failed does not go out')
    const missing = await raw('/missing', { host: '127.0.0.1', 'payment-signature': token })
    assert.equal(missing.status, 404)
    assert.deepEqual(JSON.parse(missing.body), { error: 'no such item' })
    assert.equal(missing.headers['x-helper'], undefined)
    const odd = await quietly(() => raw('/odd', { host: '127.0.0.1', 'payment-signature': token }))
    assert.equal(odd.status, 500, 'a status a Response can\'t carry is a failed handler, not a hang')
    assert.equal(settles, before, 'nothing charged')
  })
})
