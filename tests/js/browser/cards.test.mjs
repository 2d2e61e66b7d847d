// Card setup from a web page without a pasted key, in headless Chromium against nvm-local
// (the web app and the embed app for the local environment): sign in -> setupCard() ->
// nvm-local's /cards/setup page -> back with paymentMethodId and delegationId (this tab's
// state, used once; nothing left in the address bar or history) -> the delegation pays a
// paywalled agent. And what must be refused: forged, stateless and replayed returns, a spent
// or expired session, a returnUrl the backend won't return to, a signed-out page.
import test from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { freePort } from '../support/servers.mjs'
import { signInPage, signInTab } from '../support/signin.mjs'
import { Payments as AgentPayments } from 'nvm-x402/agent'

const SHOP = '/shop.html'
const ELSEWHERE = '/elsewhere.html' // its returnUrl is an origin nvm-local won't return to

/** The demo agent at the URL nvm-local registered for it: POST /tasks, 1 credit of the fiat plan (a card plan). */
async function startAgent(t, port, nvm) {
  const { world } = nvm
  const paywall = AgentPayments.getInstance({ nvmApiKey: world.accounts.builder.apiKey, backendUrl: nvm.url }).paywall({
    agentId: world.agent.agentId,
    routes: { 'POST /tasks': { planId: world.plans.fiat.planId, credits: 1 } },
    cors: true,
  })
  const served = []
  const server = http.createServer(async (req, res) => {
    const chunks = []
    for await (const chunk of req) chunks.push(chunk)
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([name]) => !['host', 'connection', 'content-length'].includes(name)))
    const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : Buffer.concat(chunks)
    const response = await paywall.handle(new Request(`http://127.0.0.1:${port}${req.url}`, { method: req.method, headers, body }), () => {
      served.push(req.url)
      return Response.json({ answer: 'paid for' })
    })
    res.writeHead(response.status, Object.fromEntries(response.headers))
    res.end(Buffer.from(await response.arrayBuffer()))
  })
  // A failed listen (the port taken meanwhile) rejects: never a test left waiting.
  await new Promise((ok, fail) => (server.once('error', fail), server.listen(port, '127.0.0.1', ok)))
  t.after(() => new Promise((ok) => server.close(ok)))
  return { url: `http://127.0.0.1:${port}/tasks`, served }
}

async function setup(t) {
  const port = await freePort()
  const pages = {
    [SHOP]: (nvm) => signInPage(nvm, 'sessionStorage'),
    [ELSEWHERE]: (nvm) => signInPage(nvm, 'sessionStorage', "'https://shop.example/back'"),
  }
  const opened = await signInTab(t, { nvmArgs: ['--agent-url', `http://127.0.0.1:${port}`], pages })
  const agent = await startAgent(t, port, opened.nvm)
  const { tab, nvm, site } = opened
  const returned = [] // every address the tab was sent back to with a card-setup result
  tab.on('request', (r) => r.url().includes('delegationId=') && returned.push(r.url()))
  const inPage = (fn, arg) => tab.evaluate(fn, arg)
  // setupCard() -> nvm-local's card page (what it says) -> the limit -> the click -> back on the shop.
  const startCardSetup = async () => {
    await tab.evaluate(() => {
      window.ready = undefined
      window.payments.setupCard().catch((e) => (window.setupFailed = e.code))
    })
    await tab.waitForURL((u) => u.href.startsWith(`${nvm.url}cards/setup?`))
    return { setupUrl: tab.url(), text: await tab.textContent('main') }
  }
  const addCard = async (limit) => {
    await tab.fill('#limit', limit)
    await Promise.all([tab.waitForURL((u) => u.href.startsWith(site.url)), tab.click('#add-card')])
    return opened.landed()
  }
  return { ...opened, agent, returned, inPage, startCardSetup, addCard }
}

test('sign in -> add a card -> back with its delegation (address bar and history clean) -> the delegation pays an agent', async (t) => {
  const { nvm, site, tab, load, signIn, agent, returned, startCardSetup, addCard } = await setup(t)
  await load(`${site.url}shop.html`)
  const { ready: signedIn } = await signIn(nvm.world.accounts.subscriber.name)
  assert.equal(signedIn.loggedIn, true)

  const { setupUrl, text } = await startCardSetup()
  const asked = new URL(setupUrl).searchParams
  assert.equal(asked.get('returnUrl'), `${site.url}shop.html?tab=pay`)
  assert.match(asked.get('state'), /^[0-9a-f]{32}$/)
  assert.deepEqual([asked.get('provider'), asked.get('network')], ['stripe', 'sandbox'])
  assert.match(text, new RegExp(site.url.replace(/\/$/, '').replace(/[.]/g, '\\.')), 'the page names the origin that asks')
  assert.match(text, /subscriber/, 'and the account')

  const back = await addCard('3.00')
  assert.equal(back.cardSetupError, null)
  assert.equal(back.loggedIn, true, 'sessionStorage kept the sign-in across the round trip')
  const { paymentMethodId, delegationId } = back.cardSetup ?? {}
  assert.match(paymentMethodId, /^pm_/)
  assert.match(delegationId, /^[0-9a-f-]{36}$/)
  assert.equal(back.href, `${site.url}shop.html?tab=pay`, 'paymentMethodId, delegationId and state are gone from the address bar')
  assert.equal(returned.length, 1)
  assert.deepEqual(await tab.evaluate(() => Object.keys(sessionStorage)), ['nvm-x402.apiKey'], 'the one-time state is used up')
  // History: back is nvm-local's page, forward the clean address.
  await tab.goBack()
  assert.ok(tab.url().startsWith(`${nvm.url}cards/setup?`), tab.url())
  await tab.goForward()
  assert.equal(tab.url(), `${site.url}shop.html?tab=pay`)

  // The card and its delegation are the account's; the delegation pays the agent (a card plan: the
  // settle orders the $1.00 plan on it).
  const paid = await tab.evaluate(async ({ url, planId, delegationId }) => {
    const payments = window.payments
    const cards = await payments.delegation.listPaymentMethods()
    const { response } = await payments.fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"prompt":"hi"}' }, { planIds: [planId], tokenOptions: { delegationConfig: { delegationId } } })
    const { delegations } = await payments.delegation.listDelegations()
    return { cards: cards.map((c) => c.id), status: response.status, answer: await response.json(), delegation: delegations.find((d) => d.delegationId === delegationId) }
  }, { url: agent.url, planId: nvm.world.plans.fiat.planId, delegationId })
  assert.ok(paid.cards.includes(paymentMethodId), JSON.stringify(paid.cards))
  assert.deepEqual([paid.status, paid.answer], [200, { answer: 'paid for' }])
  assert.deepEqual(agent.served, ['/tasks'])
  assert.equal(paid.delegation.providerPaymentMethodId, paymentMethodId)
  assert.equal(String(paid.delegation.spendingLimitCents), '300')
  assert.equal(String(paid.delegation.amountSpentCents), '100', 'the plan was bought with the new delegation')
  assert.equal(String(paid.delegation.transactionCount), '1')
})

test('a forged, stateless or replayed card-setup return is refused and stripped; a spent or expired session is an error page', async (t) => {
  const { nvm, site, tab, load, landed, signIn, returned, startCardSetup, addCard } = await setup(t)
  await load(`${site.url}shop.html`)
  await signIn(nvm.world.accounts.subscriber.name)
  // A tab that started nothing: a made-up return, and one without state.
  for (const query of [`paymentMethodId=pm_evil&delegationId=d-1&state=${'ab'.repeat(16)}`, 'paymentMethodId=pm_evil&delegationId=d-1']) {
    await tab.evaluate(() => { window.ready = undefined })
    const ready = await load(`${site.url}shop.html?tab=pay&${query}`)
    assert.deepEqual([ready.cardSetup, ready.cardSetupError, ready.href], [null, 'card_setup_refused', `${site.url}shop.html?tab=pay`], query)
    assert.equal(ready.loggedIn, true, 'a refused card return signs nobody out')
  }
  // A real one, then replayed: its state was used once.
  const { setupUrl } = await startCardSetup()
  const back = await addCard('2')
  assert.equal(back.cardSetupError, null)
  await tab.evaluate(() => { window.ready = undefined })
  await tab.goto(returned.at(-1))
  const replay = await landed()
  assert.deepEqual([replay.cardSetup, replay.cardSetupError, replay.href], [null, 'card_setup_refused', `${site.url}shop.html?tab=pay`])

  // The spent session's page: an error page with its code and no button.
  const spent = await tab.goto(setupUrl)
  assert.equal(spent.status(), 409)
  assert.equal(await tab.getAttribute('main', 'data-status'), 'error')
  assert.match(await tab.textContent('main'), /BCK\.WIDGET_SESSION\.0901/)
  assert.equal(await tab.locator('button').count(), 0)

  // An expired one: the page was open, the clock moved two hours, the click is refused and makes nothing.
  await load(`${site.url}shop.html`)
  const before = await tab.evaluate(async () => (await window.payments.delegation.listDelegations()).delegations.length)
  await startCardSetup()
  await fetch(`${nvm.url}local/v1/clock/advance`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ seconds: 2 * 3600 }) })
  const [expired] = await Promise.all([tab.waitForNavigation(), tab.click('#add-card')])
  assert.equal(expired.status(), 410)
  assert.match(await tab.textContent('main'), /BCK\.WIDGET_SESSION\.0903/)
  await load(`${site.url}shop.html`)
  assert.equal(await tab.evaluate(async () => (await window.payments.delegation.listDelegations()).delegations.length), before, 'nothing was created')
})

test('setupCard refuses before leaving the page: signed out (nothing sent), a returnUrl the backend will not return to; nvm-local refuses an unknown origin', async (t) => {
  const { nvm, site, tab, seen, load, signIn } = await setup(t)
  const ready = await load(`${site.url}shop.html`)
  assert.equal(ready.loggedIn, false)
  const attempt = () => tab.evaluate(async () => {
    try {
      await window.payments.setupCard({ provider: 'stripe' })
      return { left: true }
    } catch (e) {
      return { code: e.code, message: e.message, href: location.href }
    }
  })
  const signedOut = await attempt()
  assert.equal(signedOut.code, 'not_logged_in', JSON.stringify(signedOut))
  assert.deepEqual(seen, [], 'nothing was sent')
  const badOptions = await tab.evaluate(() => window.payments.setupCard({ provider: 'paypal' }).catch((e) => e.code))
  assert.equal(badOptions, 'validation')

  // A page whose returnUrl is another site (signed in through this tab's sessionStorage):
  // the session says the backend won't return there.
  const { ready: signedIn } = await signIn(nvm.world.accounts.subscriber.name)
  assert.equal(signedIn.loggedIn, true)
  await tab.evaluate(() => { window.ready = undefined })
  assert.equal((await load(`${site.url}elsewhere.html`)).loggedIn, true)
  const refused = await attempt()
  assert.equal(refused.code, 'card_setup_refused', JSON.stringify(refused))
  assert.equal(refused.href, `${site.url}elsewhere.html`, 'the page stayed')
  assert.deepEqual(await tab.evaluate(() => Object.keys(sessionStorage)), ['nvm-x402.apiKey'], 'no state kept')

  // nvm-local's page itself: a returnUrl that is not this machine nor --allow-origin is an error page.
  const minted = await tab.evaluate(() => window.payments.widgets.createSelfSession({ returnUrl: 'https://evil.example/steal' }))
  assert.equal(minted.isReturnUrlAllowed, false)
  const answer = await tab.goto(`${nvm.url}cards/setup?sessionToken=${encodeURIComponent(minted.sessionToken)}&returnUrl=${encodeURIComponent('https://evil.example/steal')}&state=s`)
  assert.equal(answer.status(), 400)
  assert.match(await tab.textContent('main'), /BCK\.AUTH\.0900/)
  assert.equal(await tab.locator('button').count(), 0)
})
