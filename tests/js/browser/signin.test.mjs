// Sign in with Nevermined from a web page, in headless Chromium against nvm-local (which
// plays the web app for the local environment): Payments.getBrowserInstance, connect(),
// the return (key kept, removed from the address bar and history), reloads, logout(), and
// the returns that must be refused. Plus the CLI sign-in with a loopback callback.
import test from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { startNvmLocal, launchChromium } from '../support/servers.mjs'
import { signInPage, signInTab } from '../support/signin.mjs'
import { Payments } from 'nvm-x402'

async function setup(t) {
  const pages = { '/memory.html': (nvm) => signInPage(nvm, 'memory'), '/session.html': (nvm) => signInPage(nvm, 'sessionStorage') }
  const opened = await signInTab(t, { pages })
  const call = (what) => opened.tab.evaluate(async (what) => {
    try {
      return { ok: await (what === 'cards' ? window.payments.delegation.listPaymentMethods() : window.payments.plans.getPlan(what)) }
    } catch (e) {
      return { code: e.code, message: e.message }
    }
  }, what)
  return { ...opened, call }
}

test('connect -> sign in on nvm-local -> back signed in; the key is in no URL or history entry; calls work; a reload keeps it (sessionStorage); logout stops every call before it is sent', async (t) => {
  const { nvm, site, tab, seen, load, call, signIn } = await setup(t)
  const subscriber = nvm.world.accounts.subscriber
  const start = await load(`${site.url}session.html`)
  assert.deepEqual([start.loggedIn, start.isBrowserInstance, start.address], [false, true, null])
  const before = await call('cards')
  assert.equal(before.code, 'not_logged_in', JSON.stringify(before))
  assert.deepEqual(seen, [], 'a signed-out call sends nothing')

  const { pageText, ready } = await signIn(subscriber.name)
  assert.match(pageText, new RegExp(site.url.replace(/\/$/, '').replace(/[.]/g, '\\.')), 'the sign-in page names the origin that asks')
  assert.deepEqual([ready.loggedIn, ready.signInError, ready.address?.toLowerCase()], [true, null, subscriber.address.toLowerCase()])
  assert.equal(ready.href, `${site.url}session.html?tab=pay`, 'the key, address and state are gone from the address bar')
  const cards = await call('cards')
  assert.ok(Array.isArray(cards.ok) && cards.ok.some((m) => m.type === 'card'), JSON.stringify(cards))
  assert.ok(seen.some((s) => s.startsWith('GET ') && s.includes('/api/v1/payment-methods')), 'the call went to nvm-local with the key')
  const stored = await tab.evaluate(() => Object.entries(sessionStorage))
  assert.deepEqual(stored.map(([k]) => k), ['nvm-x402.apiKey'], 'the key in sessionStorage, the one-time state used up')
  assert.equal(await tab.evaluate(() => Object.keys(localStorage).length), 0, 'never localStorage unless asked')

  // History: back is nvm-local's page, forward is the clean address (the key never stayed in an entry).
  await tab.goBack()
  assert.ok(tab.url().startsWith(`${nvm.url}login?`), tab.url())
  assert.ok(!tab.url().includes('nvmApiKey'))
  await tab.goForward()
  assert.equal(tab.url(), `${site.url}session.html?tab=pay`)

  // A reload keeps the sign-in (sessionStorage).
  await tab.evaluate(() => { window.ready = undefined })
  const reloaded = await load(`${site.url}session.html?tab=pay`)
  assert.equal(reloaded.loggedIn, true)

  // logout(): every namespace fails at once, nothing is sent, and the stored key is gone.
  const sent = seen.length
  await tab.evaluate(() => window.payments.logout())
  assert.equal(await tab.evaluate(() => window.payments.isLoggedIn), false)
  for (const what of ['cards', '1']) {
    const after = await call(what)
    assert.equal(after.code, 'not_logged_in', JSON.stringify(after))
  }
  const token = await tab.evaluate(async () => {
    try {
      await window.payments.x402.getX402AccessToken('1')
    } catch (e) {
      return e.code
    }
  })
  assert.equal(token, 'not_logged_in')
  assert.equal(seen.length, sent, 'nothing was sent after logout')
  assert.deepEqual(await tab.evaluate(() => Object.keys(sessionStorage)), [])
  const afterReload = await load(`${site.url}session.html`)
  assert.equal(afterReload.loggedIn, false)
})

test('with keyStorage memory (the default) a reload is signed out and nothing is stored', async (t) => {
  const { nvm, site, tab, load, signIn } = await setup(t)
  await load(`${site.url}memory.html`)
  const { ready } = await signIn(nvm.world.accounts.subscriber.name)
  assert.equal(ready.loggedIn, true)
  assert.deepEqual(await tab.evaluate(() => [Object.keys(sessionStorage).length, Object.keys(localStorage).length]), [0, 0])
  await tab.evaluate(() => { window.ready = undefined })
  assert.equal((await load(`${site.url}memory.html`)).loggedIn, false)
})

test('a forged, stateless or replayed return is refused, stripped from the URL, and signs nobody in', async (t) => {
  const { nvm, site, tab, load, landed, signIn } = await setup(t)
  const intruder = await (await fetch(`${nvm.url}local/v1/accounts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'intruder' }) })).json()
  const key = encodeURIComponent(intruder.apiKey)
  await load(`${site.url}session.html`) // a tab that never called connect()
  for (const query of [`nvmState=${'ab'.repeat(16)}&nvmApiKey=${key}&accountAddress=${intruder.address}`, `nvmApiKey=${key}`]) {
    await tab.evaluate(() => { window.ready = undefined })
    const ready = await load(`${site.url}session.html?tab=pay&${query}`)
    assert.deepEqual([ready.loggedIn, ready.signInError, ready.href], [false, 'signin_refused', `${site.url}session.html?tab=pay`], query)
  }
  // A real return, replayed: its state was used once.
  let returned
  tab.on('request', (r) => r.url().includes('nvmApiKey=') && (returned = r.url()))
  await tab.evaluate(() => { window.ready = undefined })
  const { ready } = await signIn(nvm.world.accounts.subscriber.name)
  assert.equal(ready.loggedIn, true)
  assert.match(returned, /nvmState=[0-9a-f]{32}/)
  await tab.evaluate(() => { window.payments.logout(); window.ready = undefined })
  await tab.goto(returned)
  const replay = await landed()
  assert.deepEqual([replay.loggedIn, replay.signInError, replay.href], [false, 'signin_refused', `${site.url}session.html?tab=pay`])
})

test("nvm-local's sign-in page: a return to an unknown origin is an error page, and a post from another site issues nothing", async (t) => {
  const nvm = await startNvmLocal()
  t.after(() => nvm.stop())
  const chromium = await launchChromium()
  t.after(() => chromium.close())
  const tab = await chromium.context.newPage()
  const answer = await tab.goto(`${nvm.url}login?returnUrl=${encodeURIComponent('https://evil.example/steal')}`)
  assert.equal(answer.status(), 400)
  assert.equal(await tab.getAttribute('main', 'data-status'), 'error')
  assert.match(await tab.textContent('main'), /BCK\.AUTH\.0900/)
  assert.equal(await tab.locator('button').count(), 0, 'no way to sign in from it')
  assert.equal(answer.headers()['x-frame-options'], 'DENY')
  const forged = await fetch(`${nvm.url}login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' }, body: `returnUrl=${encodeURIComponent('http://127.0.0.1:9/back')}&account=subscriber` })
  assert.equal(forged.status, 403)
  assert.equal(forged.headers.get('location'), null)
  assert.match(await forged.text(), /BCK\.AUTH\.0901/)
})

test('the CLI sign-in (/auth/cli) returns nvm_api_key to a loopback callback only', async (t) => {
  const nvm = await startNvmLocal()
  t.after(() => nvm.stop())
  let received
  const callback = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1')
    if (url.pathname === '/callback') received = url.searchParams.get('nvm_api_key') // not the tab's /favicon.ico
    res.writeHead(200, { 'content-type': 'text/html' }).end('<main>You can close this tab</main>')
  })
  await new Promise((ok) => callback.listen(0, '127.0.0.1', ok))
  t.after(() => new Promise((ok) => callback.close(ok)))
  const chromium = await launchChromium()
  t.after(() => chromium.close())
  const tab = await chromium.context.newPage()
  const cb = `http://127.0.0.1:${callback.address().port}/callback`
  await tab.goto(`${nvm.url}auth/cli?callback_url=${encodeURIComponent(cb)}`)
  await Promise.all([tab.waitForURL((u) => u.href.startsWith(cb)), tab.click('button[data-account="subscriber"]')])
  assert.match(received, /^local:/)
  const cli = Payments.getInstance({ nvmApiKey: received, backendUrl: nvm.url })
  assert.equal(cli.accountAddress.toLowerCase(), nvm.world.accounts.subscriber.address.toLowerCase())
  assert.ok((await cli.delegation.listPaymentMethods()).length > 0, 'the key works')
  const refused = await tab.goto(`${nvm.url}auth/cli?callback_url=${encodeURIComponent('https://cli.example/callback')}`)
  assert.equal(refused.status(), 400)
  assert.match(await tab.textContent('main'), /BCK\.AUTH\.0900/)
})

test('a return that getBrowserInstance cannot read (bad options) still leaves the address bar and history at once, refused', async (t) => {
  const broken = (nvm) => `<!doctype html><meta charset="utf-8"><title>shop</title><script type="module">
    import { Payments } from '/pkg/index.js'
    try {
      Payments.getBrowserInstance({ returnUrl: location.origin + '/broken.html', environment: 'local', backendUrl: ${JSON.stringify(nvm)}, keyStorage: 'cookie' })
      window.ready = { thrown: null, href: location.href }
    } catch (e) {
      window.ready = { thrown: e.code, href: location.href, stored: Object.keys(sessionStorage) }
    }
  </script>`
  const { site, tab, load } = await signInTab(t, { pages: { '/broken.html': broken, '/start.html': () => '<!doctype html><title>start</title>' } })
  await tab.goto(`${site.url}start.html`)
  await tab.evaluate(() => sessionStorage.setItem('nvm-x402.signIn.state', 'f'.repeat(32)))
  const returned = `${site.url}broken.html?tab=pay&nvmApiKey=local:eyJhbGciOiJFUzI1NksifQ.e30.c2ln&accountAddress=0xabc&nvmState=${'f'.repeat(32)}&paymentMethodId=pm_1&delegationId=d-1&state=s`
  const ready = await load(returned)
  assert.equal(ready.thrown, 'validation')
  assert.equal(ready.href, `${site.url}broken.html?tab=pay`, 'every returned parameter is gone from the address bar')
  assert.deepEqual(ready.stored, [], 'the one-time state is used up')
  await tab.goBack()
  assert.equal(tab.url(), `${site.url}start.html`)
  await tab.goForward()
  assert.ok(!tab.url().includes('nvmApiKey'), tab.url())
})
