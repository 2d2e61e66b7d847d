// The demo page's payer steps (#24) in headless Chromium, against nvm-local and the
// Worker example on workerd, at desktop and phone width: "Sign in with Nevermined"
// (nvm-local's /login, back signed in, no key in the URL or history, a paid call, a
// reload kept by sessionStorage, Add a card (setupCard: nvm-local's card page, back with a
// delegation the page mints with), sign out stops the calls), a refused return, and
// "Pay once with an order" (nvm-local's confirmation page, requires_payment -> paid).
// What the page shows is checked against the backend, read through the package in
// Node. Screenshots of each step go to artifacts/.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { Payments, decodeAccessToken } from 'nvm-x402'
import { ROOT, launchChromium } from '../support/servers.mjs'
import { startDemoWorld } from '../support/client.mjs'
import { startDemoServer } from '../../../scripts/serve.mjs'

const ARTIFACTS = join(ROOT, 'artifacts')
const WIDTHS = { desktop: { width: 1280, height: 900 }, phone: { width: 375, height: 812 } }

describe('the demo page: sign in with Nevermined, pay once with an order', () => {
  let demo, world, site, chromium, subscriber, builder
  const pageErrors = []

  before(async () => {
    await mkdir(ARTIFACTS, { recursive: true })
    demo = await startDemoWorld()
    world = demo.world
    site = await startDemoServer({ backendUrl: demo.nvm.url, agentUrl: demo.agentUrl, mcpUrl: demo.mcpUrl })
    chromium = await launchChromium()
    chromium.context.setDefaultTimeout(20_000)
    subscriber = Payments.getInstance({ nvmApiKey: world.accounts.subscriber.apiKey, backendUrl: demo.nvm.url })
    builder = Payments.getInstance({ nvmApiKey: world.accounts.builder.apiKey, backendUrl: demo.nvm.url })
    await subscriber.plans.orderPlan(world.plans.free.planId) // credits for the paid calls
  })
  after(async () => {
    await chromium?.close()
    await site?.close()
    await demo?.stop()
  })

  async function openPage(viewport) {
    const tab = await chromium.context.newPage()
    tab.on('pageerror', (error) => pageErrors.push(error.message))
    await tab.setViewportSize(viewport)
    await tab.goto(site.url)
    await tab.waitForSelector('body[data-ready="true"]')
    return tab
  }
  const ready = (tab) => tab.waitForSelector('body[data-ready="true"]')
  const overflow = (tab) => tab.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
  /** A screenshot of the page (or of one element of it: `selector`) into artifacts/demo-<name>-<width>.png. */
  const shot = (tab, name, width, selector) => (selector ? tab.locator(selector) : tab).screenshot({ path: join(ARTIFACTS, `demo-${name}-${width}.png`), ...(selector ? {} : { fullPage: true }) })
  const balance = async () => BigInt((await subscriber.plans.getPlanBalance(world.plans.free.planId)).balance)

  /** Asks the agent through the page (payments.fetch); returns what the page showed. */
  async function ask(tab) {
    const runs = Number((await tab.locator('#s-ask-out').getAttribute('data-runs')) ?? 0)
    await tab.getByRole('button', { name: 'Ask the agent' }).click()
    await tab.locator(`#s-ask-out[data-runs="${runs + 1}"]:not([aria-busy])`).waitFor({ state: 'attached' })
    return tab.locator('#s-ask-out > *').first()
  }

  for (const [width, viewport] of Object.entries(WIDTHS)) {
    test(`${width}: Sign in with Nevermined -> nvm-local's login -> back signed in; no key in the URL or history; a paid call; a reload keeps it; Add a card; sign out stops the calls`, async () => {
      const tab = await openPage(viewport)
      try {
        const card = tab.locator('[data-session="subscriber"]')
        const signInButton = card.getByRole('button', { name: 'Sign in with Nevermined' })
        // The first choice: before the key field, and the one primary button of the card.
        const order = await card.evaluate((node) => [...node.querySelectorAll('button, input')].filter((n) => n.offsetParent !== null).map((n) => n.textContent.trim() || n.id))
        assert.ok(order.indexOf('Sign in with Nevermined') < order.indexOf('subscriber-key'), order.join(' | '))
        assert.deepEqual(await card.locator('form .btn-primary').evaluateAll((nodes) => nodes.map((n) => n.textContent)), ['Sign in with Nevermined'])
        assert.equal(await overflow(tab), 0)
        await shot(tab, 'signin-start', width)

        await signInButton.click()
        await tab.waitForURL((url) => url.href.startsWith(`${demo.nvm.url}login?`))
        assert.match(await tab.textContent('main'), new RegExp(new URL(site.url).host.replace(/[.]/g, '\\.')), 'the login page names the origin that asks')
        await shot(tab, 'signin-login', width)
        const requests = []
        tab.on('request', (r) => requests.push(r.url()))
        await Promise.all([tab.waitForURL((url) => url.href.startsWith(site.url)), tab.click('button[data-account="subscriber"]')])
        await ready(tab)
        const who = card.locator('.who')
        await who.waitFor()
        assert.equal(await who.locator('[data-slot="address"]').textContent(), world.accounts.subscriber.address)
        assert.match(await who.locator('[data-slot="how"]').textContent(), /^with Nevermined · the key is kept in this tab's sessionStorage$/)
        assert.equal(await who.locator('[data-slot="key-row"]').isVisible(), false, 'no key on screen to reveal')
        assert.equal(tab.url(), site.url, 'the key, address and state are gone from the address bar')
        assert.ok(requests.some((url) => url.includes('nvmApiKey=')), 'the return carried the key (the check above is not vacuous)')
        const key = world.accounts.subscriber.apiKey
        assert.ok(!(await tab.locator('body').innerText()).includes(key))
        assert.equal(await tab.evaluate(() => Object.keys(localStorage).length), 0, 'nothing in localStorage')
        assert.equal(await card.locator('[data-slot="out"] .error').count(), 0)
        await shot(tab, 'signin-signed-in', width, '[data-session="subscriber"]')

        // A paid call with the signed-in client.
        const before = await balance()
        const answer = await ask(tab)
        assert.match(await answer.locator('.answer').textContent(), /paid agent/)
        assert.equal(await answer.locator('[data-remaining]').getAttribute('data-remaining'), String(before - 1n))
        assert.equal(await balance(), before - 1n)
        assert.equal(await overflow(tab), 0)

        // History: back is nvm-local's login page without a key; forward is the clean page, signed in.
        await tab.goBack()
        assert.ok(tab.url().startsWith(`${demo.nvm.url}login?`), tab.url())
        assert.ok(!tab.url().includes('nvmApiKey'))
        await tab.goForward()
        assert.equal(tab.url(), site.url)
        await ready(tab)
        await card.locator('.who').waitFor()

        // A reload stays signed in (the demo's keyStorage: sessionStorage) and calls still work.
        await tab.reload()
        await ready(tab)
        await card.locator('.who').waitFor()
        assert.equal(await card.locator('[data-slot="address"]').textContent(), world.accounts.subscriber.address)
        const again = await ask(tab)
        assert.equal(await again.locator('[data-remaining]').getAttribute('data-remaining'), String(before - 2n))
        assert.equal(await balance(), before - 2n)

        // Add a card (setupCard): nvm-local's card page, a limit, back with the card and its delegation,
        // which the page's "Get access token" uses for the card plan.
        await card.getByRole('button', { name: 'Add a card' }).click()
        await tab.waitForURL((url) => url.href.startsWith(`${demo.nvm.url}cards/setup?`))
        assert.match(await tab.textContent('main'), new RegExp(new URL(site.url).host.replace(/[.]/g, '\\.')), 'the card page names the origin that asks')
        await shot(tab, 'card-setup', width)
        await tab.fill('#limit', '5.00')
        await Promise.all([tab.waitForURL((url) => url.href.startsWith(site.url)), tab.click('#add-card')])
        await ready(tab)
        const added = card.locator('[data-slot="out"] .result.ok')
        await added.waitFor()
        assert.equal(tab.url(), site.url, 'paymentMethodId, delegationId and state are gone from the address bar')
        assert.equal(await card.locator('.who').isVisible(), true, 'still signed in')
        const paymentMethodId = await added.locator('[data-card="paymentMethodId"]').textContent()
        const delegationId = await added.locator('[data-card="delegationId"]').textContent()
        const delegation = (await subscriber.delegation.listDelegations()).delegations.find((d) => d.delegationId === delegationId)
        assert.equal(delegation?.providerPaymentMethodId, paymentMethodId, 'the backend has the card and its delegation')
        assert.equal(String(delegation.spendingLimitCents), '500')
        await shot(tab, 'card-added', width, '[data-session="subscriber"]')
        await tab.locator('#s-plan-pick').selectOption(world.plans.fiat.planId)
        await tab.getByRole('button', { name: 'Get access token' }).click()
        const token = tab.locator('#s-token-out .result.ok')
        await token.waitFor()
        assert.doesNotMatch(await tab.locator('#s-token-out').textContent(), /created one/, 'no new delegation: the card setup\'s')
        await token.getByRole('button', { name: 'Reveal' }).click()
        const decoded = decodeAccessToken(await token.locator('[data-token="revealed"]').textContent())
        assert.equal(decoded.accepted.planId, world.plans.fiat.planId)
        assert.equal(decoded.payload.authorization.sessionKeys[0].id, delegationId, 'minted on the card setup\'s delegation')
        await token.getByRole('button', { name: 'Hide' }).click()
        await tab.locator('#s-plan-pick').selectOption(world.plans.free.planId)

        // Sign out: the page's client refuses every call before sending anything; a reload is signed out.
        const client = await tab.evaluateHandle(() => window.nvmDemo.sessions.subscriber.payments)
        await card.getByRole('button', { name: 'Sign out' }).click()
        await signInButton.waitFor()
        assert.equal(await tab.getByRole('button', { name: 'Ask the agent' }).isDisabled(), true)
        const sent = []
        tab.on('request', (r) => r.url().startsWith(demo.nvm.url) && sent.push(r.url()))
        const codes = await client.evaluate(async (payments, planId) => {
          const code = (promise) => promise.then(() => 'sent', (e) => e.code)
          return [await code(payments.plans.getPlanBalance(planId)), await code(payments.delegation.listPaymentMethods()), await code(payments.x402.getX402AccessToken(planId))]
        }, world.plans.free.planId)
        assert.deepEqual(codes, ['not_logged_in', 'not_logged_in', 'not_logged_in'])
        assert.deepEqual(sent, [], 'nothing sent after sign out')
        await tab.reload()
        await ready(tab)
        await signInButton.waitFor()
        assert.equal(await card.locator('.who').isVisible(), false)
        assert.deepEqual(await tab.evaluate(() => Object.keys(sessionStorage).filter((k) => k.startsWith('nvm-x402'))), [], 'the key is gone from sessionStorage')
      } finally {
        await tab.close()
      }
    })
  }

  test('a forged return (a key in the URL this tab did not ask for) is refused, shown, and stripped', async () => {
    const tab = await openPage(WIDTHS.desktop)
    try {
      const intruder = await (await fetch(`${demo.nvm.url}local/v1/accounts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'intruder' }) })).json()
      await tab.goto(`${site.url}?nvmState=${'ab'.repeat(16)}&nvmApiKey=${encodeURIComponent(intruder.apiKey)}&accountAddress=${intruder.address}`)
      await ready(tab)
      const card = tab.locator('[data-session="subscriber"]')
      const error = card.locator('[data-slot="out"] .error')
      await error.waitFor()
      assert.equal(await error.locator('.code-badge').textContent(), 'signin_refused')
      assert.match(await error.textContent(), /refused/)
      assert.equal(await card.locator('.who').isVisible(), false, 'nobody signed in')
      assert.equal(tab.url(), site.url)
    } finally {
      await tab.close()
    }
  })

  for (const [width, viewport] of Object.entries(WIDTHS)) {
    test(`${width}: pay once with an order: the shop creates it, nvm-local's confirmation page, back on the page: requires_payment -> paid`, async () => {
      const tab = await openPage(viewport)
      try {
        const out = tab.locator('#o-out')
        const reads = [] // the page's getOrder reads: the buyer's client, never signed in here
        tab.on('request', (r) => r.method() === 'GET' && r.url().startsWith(`${demo.nvm.url}api/v1/orders/`) && reads.push(r.headers().authorization ?? null))
        await tab.getByRole('button', { name: /^Buy for \$4\.99$/ }).click()
        const created = out.locator('[data-order-status="requires_payment"]')
        await created.waitFor()
        const orderId = await created.locator('dd code').first().getAttribute('title')
        assert.match(orderId, /^ord_/)
        const order = await builder.orders.getOrder(orderId)
        assert.deepEqual([order.status, order.amountMinor, order.description], ['requires_payment', 499, 'Sticker pack'])
        assert.match(await created.textContent(), /Sold by.*demo builder/)
        assert.equal(await overflow(tab), 0)
        await shot(tab, 'order-created', width, '#shop')

        await tab.getByRole('link', { name: 'Pay on the card page' }).click()
        await tab.waitForSelector('main[data-status="requires_payment"]')
        assert.ok(tab.url().startsWith(`${demo.nvm.url}orders/confirm?`), tab.url())
        assert.equal(await tab.textContent('#amount'), '$4.99')
        await shot(tab, 'order-confirm', width)
        await Promise.all([tab.waitForURL((url) => url.href.startsWith(site.url)), tab.click('#pay')])
        await ready(tab)
        const paid = out.locator('[data-order-status="paid"]')
        await tab.locator('#o-out[data-status="paid"]').waitFor()
        assert.equal(tab.url(), site.url, 'orderId, payment_intent and redirect_status are gone from the address bar')
        assert.deepEqual(await paid.locator('.timeline code').allTextContents(), ['requires_payment', 'paid'])
        assert.match(await paid.locator('.result-title').textContent(), /^Paid — Sticker pack, \$4\.99$/)
        assert.match(await paid.textContent(), /The card page saidsucceeded/)
        assert.ok(reads.length >= 2, `reads: ${reads.length}`)
        assert.deepEqual(new Set(reads), new Set([null]), 'getOrder sent no key')
        const after = await builder.orders.getOrder(orderId)
        assert.equal(after.status, 'paid')
        assert.equal(await paid.locator('dd code').nth(1).getAttribute('title'), after.paymentIntentId)
        assert.equal(await overflow(tab), 0)
        await shot(tab, 'order-paid', width, '#shop')

        // The next purchase is a new order (the cart's idempotencyKey was used up by the payment).
        await tab.getByRole('button', { name: /^Buy for/ }).click()
        await out.locator('[data-order-status="requires_payment"]').waitFor()
        assert.notEqual(await out.locator('dd code').first().getAttribute('title'), orderId)
      } finally {
        await tab.close()
      }
    })
  }

  test('a return naming an unknown order shows the backend\'s code and is stripped', async () => {
    const tab = await openPage(WIDTHS.desktop)
    try {
      await tab.goto(`${site.url}?orderId=ord_00000000-0000-0000-0000-000000000000&redirect_status=succeeded`)
      await ready(tab)
      await tab.locator('#o-out[data-status="error"]').waitFor()
      const direct = await builder.orders.getOrder('ord_00000000-0000-0000-0000-000000000000').catch((e) => e)
      assert.equal(await tab.locator('#o-out .code-badge').textContent(), direct.code)
      assert.equal(tab.url(), site.url)
    } finally {
      await tab.close()
    }
  })

  test('no uncaught errors on the page', () => {
    assert.deepEqual(pageErrors, [])
  })
})
