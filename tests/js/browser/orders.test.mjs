// Paying once with an order, in headless Chromium against nvm-local: the
// merchant's server (here, Node with the builder's key) creates the order; the
// shop page gets its clientSecret, opens nvm-local's confirmation page (the
// card processor's stand-in) on a click, and polls getOrder, which sends no
// key, until the order is paid; the buyer's tab goes back to the shop with
// the outcome.
import test from 'node:test'
import assert from 'node:assert/strict'
import { Payments } from 'nvm-x402'
import { ROOT, launchChromium, startNvmLocal, startStatic } from '../support/servers.mjs'

// The card pays (4242) or is declined (0002): the page learns the outcome from getOrder either way.
const OUTCOMES = [
  { action: 'pay', status: 'paid', redirect: 'succeeded', cart: 'shop-cart-9' },
  { action: 'decline', status: 'failed', redirect: 'failed', cart: 'shop-cart-10' },
]

for (const outcome of OUTCOMES) test(`a page confirms an order on nvm-local's confirmation page (${outcome.action}) and polls getOrder until it is ${outcome.status}`, async (t) => {
  const live = await startNvmLocal()
  t.after(() => live.stop())
  const { builder } = live.world.accounts
  const merchant = Payments.getInstance({ nvmApiKey: builder.apiKey, backendUrl: live.url })
  const options = { amountMinor: 3437, description: 'Three teas', idempotencyKey: outcome.cart }
  const created = await merchant.orders.createOrder(options)
  assert.equal(created.status, 'requires_payment')
  assert.deepEqual(await merchant.orders.createOrder(options), created, 'an idempotent retry answers the same order')

  // The shop page: the order as its server rendered it. The buyer has no account: the page's
  // client is a browser instance that never signs in; only the keyless getOrder is sent.
  const shop = `<!doctype html><button id="checkout">Pay with card</button><script type="module">
    import { Payments } from '/pkg/index.js'
    const [backend, orderId, clientSecret] = ${JSON.stringify([live.url, created.orderId, created.clientSecret])}
    const payments = Payments.getBrowserInstance({ returnUrl: location.href, environment: 'local', backendUrl: backend })
    const back = new URL('/done', location.href)
    back.searchParams.set('orderId', orderId)
    const confirm = new URL('orders/confirm', backend)
    confirm.searchParams.set('clientSecret', clientSecret)
    confirm.searchParams.set('returnUrl', back.href)
    document.querySelector('#checkout').onclick = () => window.open(confirm.href, 'pay')
    const seen = []
    try {
      // An authenticated call, for contrast: signed out, it is refused before anything is sent.
      window.contrast = await payments.delegation.listPaymentMethods().then(() => 'sent', (e) => e.code)
      for (;;) {
        const order = await payments.orders.getOrder(orderId)
        if (seen.at(-1) !== order.status) seen.push(order.status)
        if (order.status !== 'requires_payment') {
          window.result = { seen, order }
          break
        }
        document.body.dataset.polling = 'true'
        await new Promise((wake) => setTimeout(wake, 300))
      }
    } catch (e) { window.result = { failed: String(e && e.stack || e), code: e.code } }
  </script>`
  const site = await startStatic(ROOT, { '/': { type: 'text/html', body: shop }, '/done': { type: 'text/html', body: '<!doctype html><p id="thanks">Thank you</p>' } })
  t.after(() => site.close())
  const chromium = await launchChromium()
  t.after(() => chromium.close())
  chromium.context.setDefaultTimeout(20_000)
  const reads = []
  chromium.context.on('request', (request) => {
    if (request.url().includes('/api/v1/orders/') || request.url().includes('/api/v1/payment-methods')) reads.push({ method: request.method(), url: request.url(), headers: request.headers() })
  })
  const tab = await chromium.context.newPage()
  await tab.goto(site.url)
  await tab.waitForSelector('body[data-polling="true"]')

  const [card] = await Promise.all([chromium.context.waitForEvent('page'), tab.click('#checkout')])
  await card.waitForSelector('main[data-status="requires_payment"]')
  assert.equal(await card.textContent('#amount'), '$34.37')
  assert.match(await card.textContent('main'), /Demo organization asks \$34\.37 \(USD\) for Three teas/)
  await card.click(`#${outcome.action}`)
  await card.waitForURL((url) => url.pathname === '/done')
  const back = new URL(card.url())
  assert.equal(back.origin, new URL(site.url).origin)
  assert.equal(back.searchParams.get('orderId'), created.orderId)
  assert.equal(back.searchParams.get('redirect_status'), outcome.redirect)
  assert.match(back.searchParams.get('payment_intent'), /^pi_local_/)

  await tab.waitForFunction(() => window.result !== undefined)
  const result = await tab.evaluate(() => window.result)
  assert.equal(result.failed, undefined, result.failed)
  assert.deepEqual(result.seen, ['requires_payment', outcome.status], `polled while payable, then ${outcome.status}`)
  assert.equal(result.order.id, created.orderId)
  assert.equal(result.order.amountMinor, 3437)
  assert.equal(result.order.clientSecret, undefined, 'no client secret once it is no longer payable')
  // Every read was a plain GET of the order, without a key; the authenticated call was never sent.
  assert.equal(await tab.evaluate(() => window.contrast), 'not_logged_in')
  assert.deepEqual(reads.filter((r) => r.url.includes('/api/v1/payment-methods')), [])
  const gets = reads.filter((r) => r.url.includes('/api/v1/orders/') && r.method === 'GET')
  assert.ok(gets.length >= 2, `reads: ${gets.length}`)
  for (const read of gets) {
    assert.equal(read.url, `${live.url}api/v1/orders/${created.orderId}`)
    assert.equal(read.headers.authorization, undefined, 'getOrder sends no key')
  }
  assert.equal((await merchant.orders.getOrder(created.orderId)).status, outcome.status)
  if (outcome.action === 'decline') {
    // A declined order can't be paid any more: its page offers no button, and a replayed pay is refused.
    const again = await chromium.context.newPage()
    await again.goto(`${live.url}orders/confirm?clientSecret=${encodeURIComponent(created.clientSecret)}`)
    assert.match(await again.textContent('body'), /The card was declined: this order can't be paid any more/)
    assert.equal(await again.locator('#pay').count(), 0)
    // The page's own form, posted again as pay (its CSP allows no fetch): refused.
    const [replay] = await Promise.all([
      again.waitForResponse((r) => r.url().endsWith('/orders/confirm') && r.request().method() === 'POST'),
      again.evaluate((secret) => {
        const form = Object.assign(document.createElement('form'), { method: 'post', action: '/orders/confirm' })
        for (const [name, value] of [['clientSecret', secret], ['action', 'pay']]) form.append(Object.assign(document.createElement('input'), { type: 'hidden', name, value }))
        document.body.append(form)
        form.submit()
      }, created.clientSecret),
    ])
    assert.ok(replay.status() >= 400, `a replayed pay answered ${replay.status()}`)
    assert.equal((await merchant.orders.getOrder(created.orderId)).status, 'failed')
  }
})
