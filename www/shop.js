// "Pay once with an order" (Subscriber tab): a one-off purchase for a fixed
// amount, with the package's orders API. The shop creates the order
// (createOrder, with an idempotencyKey), the buyer confirms it on the card
// processor's page (nvm-local's /orders/confirm stands in for it) and comes
// back here, and the page reads the order (getOrder) until it is no longer
// requires_payment.
import { $, errorView, facts, fromUnits, h, idCode, short } from './ui.js'

const ITEM = { description: 'Sticker pack', amountMinor: 499 }
/** sessionStorage: the order in progress, `{idempotencyKey, orderId?, backendUrl?, seen: [{status, at}]}`. */
const CART = 'nvm-demo.order'
/** What the page adds to, and the card page adds to, the return address. */
const RETURN_PARAMS = ['orderId', 'payment_intent', 'redirect_status']
const POLL_MS = 1000
const POLLS = 30 // getOrder is limited to 60 reads a minute

const readCart = () => {
  try {
    return JSON.parse(sessionStorage.getItem(CART)) ?? null
  } catch {
    return null
  }
}
const saveCart = (cart) => sessionStorage.setItem(CART, JSON.stringify(cart))
const money = (order) => `$${fromUnits(order.amountMinor, 2)}${order.currency && order.currency !== 'usd' ? ` ${order.currency.toUpperCase()}` : ''}`
const now = () => new Date().toLocaleTimeString()

/**
 * Wires the shop. `getBuyer()` is the page's browser instance (signed in or
 * not: paying once needs no account; or null); `getMerchant()` the Builder
 * tab's session (or null: then nvm-local's demo builder plays the merchant).
 */
export function mountShop({ nvm, config, world, getBuyer, getMerchant }) {
  const buy = $('#o-buy')
  const out = $('#o-out')
  $('#o-price').textContent = `$${fromUnits(ITEM.amountMinor, 2)}`
  buy.textContent = `Buy for $${fromUnits(ITEM.amountMinor, 2)}`

  /** The merchant's client: the Builder tab's account, else nvm-local's demo builder (an Admin of the demo organization). */
  function merchant() {
    const builder = getMerchant()
    if (builder) return { payments: builder.payments, who: `the Builder tab's account ${short(builder.address)}` }
    if (world) return { payments: nvm.Payments.getInstance({ nvmApiKey: world.accounts.builder.apiKey, backendUrl: config.backendUrl }), who: `nvm-local's demo builder, for ${world.organization?.orgName ?? 'the demo organization'}` }
    throw new nvm.PaymentsError({ code: 'validation', message: 'No shop: sign in on the Builder tab with the key of an organization\'s Admin or Member, the merchant' })
  }

  /**
   * Who reads the order: the buyer's own client, the page's browser instance, signed in or
   * not (getOrder sends no key and needs no account); the merchant's away from its backend.
   */
  const reader = (backendUrl) => {
    const buyer = getBuyer()
    return buyer && buyer.backendUrl === backendUrl ? buyer : merchant().payments
  }

  /** The order as the page shows it: what it is, the statuses seen, the outcome. */
  function orderView(order, seen, extra = []) {
    const status = order.status
    const kind = status === 'paid' ? 'result ok' : status === 'requires_payment' ? 'notice' : 'error'
    const title = status === 'paid' ? `Paid — ${order.description ?? ITEM.description}, ${money(order)}` : status === 'requires_payment' ? `Order created — ${money(order)}, waiting for payment` : `Not paid — the order is ${status}`
    return h(
      'div',
      { class: kind, 'data-order-status': status },
      h('div', { class: 'result-title' }, title),
      h('ol', { class: 'timeline', 'aria-label': 'Statuses of the order, read with getOrder' }, seen.map((s) => h('li', {}, h('code', {}, s.status), h('span', { class: 'muted' }, s.at)))),
      facts([['Order', idCode(order.id)], ['Amount', money(order)], ['Payment', order.paymentIntentId ? idCode(order.paymentIntentId) : undefined], ...extra]),
    )
  }

  const busy = (on) => {
    buy.disabled = on
    if (on) out.setAttribute('aria-busy', 'true')
    else out.removeAttribute('aria-busy')
  }

  buy.addEventListener('click', async () => {
    busy(true)
    out.replaceChildren(h('p', { class: 'muted small', role: 'status' }, 'Creating the order…'))
    try {
      const shop = merchant()
      const backendUrl = shop.payments.backendUrl
      if (shop.payments.environment !== 'local') throw new nvm.PaymentsError({ code: 'validation', message: 'Confirming an order takes the card processor\'s page: this demo has nvm-local\'s stand-in only (the local environment)' })
      // One idempotencyKey per cart, kept until the order is paid or failed: buying again
      // (a lost answer, a trip back from the card page) answers the same order.
      const cart = readCart() ?? { idempotencyKey: `demo-cart-${crypto.randomUUID()}`, seen: [] }
      saveCart(cart)
      const created = await shop.payments.orders.createOrder({ amountMinor: ITEM.amountMinor, description: ITEM.description, idempotencyKey: cart.idempotencyKey })
      const again = cart.orderId === created.orderId
      const order = await reader(backendUrl).orders.getOrder(created.orderId)
      const seen = again ? cart.seen : []
      if (seen.at(-1)?.status !== order.status) seen.push({ status: order.status, at: now() })
      saveCart({ ...cart, orderId: created.orderId, backendUrl, seen })
      const back = new URL(location.pathname, location.origin)
      back.searchParams.set('orderId', created.orderId)
      const confirm = new URL('orders/confirm', backendUrl)
      confirm.searchParams.set('clientSecret', created.clientSecret)
      confirm.searchParams.set('returnUrl', back.href)
      const pending = order.status === 'requires_payment'
      const shown = [
        orderView(order, seen, [['Sold by', shop.who], ['Idempotency key', h('code', {}, cart.idempotencyKey)]]),
        again ? h('p', { class: 'muted small' }, 'The same order as before: its idempotencyKey made the shop\'s retry answer it.') : null,
        pending ? h('div', { class: 'actions' }, h('a', { class: 'btn btn-primary', href: confirm.href }, 'Pay on the card page')) : null,
        pending ? h('p', { class: 'muted small' }, 'nvm-local\'s confirmation page stands in for the card processor: pay with test card 4242, or decline.') : null,
      ]
      out.replaceChildren(...shown.filter(Boolean))
      if (!pending) sessionStorage.removeItem(CART)
    } catch (error) {
      out.replaceChildren(errorView(error, 'Creating the order failed'))
    } finally {
      busy(false)
    }
  })

  // A return from the card page: `?orderId=...&payment_intent=...&redirect_status=...`. The
  // parameters leave the address bar first; what counts is the order read from the backend.
  const params = new URL(location.href).searchParams
  const orderId = params.get('orderId')
  if (orderId === null) return
  const clean = new URL(location.href)
  for (const name of RETURN_PARAMS) clean.searchParams.delete(name)
  history.replaceState(history.state, '', clean.pathname + clean.search + clean.hash)
  follow(orderId, params.get('redirect_status'))

  async function follow(orderId, said) {
    const cart = readCart()
    const ours = cart?.orderId === orderId
    const seen = ours ? cart.seen : []
    const extra = [['The card page said', said ? h('code', {}, said) : 'nothing'], ['Sold by', ours ? undefined : 'an order this tab did not start']]
    $('#shop').scrollIntoView({ block: 'start' })
    busy(true)
    out.replaceChildren(h('p', { class: 'muted small', role: 'status' }, 'Back from the card page: reading the order…'))
    try {
      const payments = reader(ours ? cart.backendUrl : config.backendUrl)
      for (let poll = 1; ; poll++) {
        const order = await payments.orders.getOrder(orderId)
        if (seen.at(-1)?.status !== order.status) seen.push({ status: order.status, at: now() })
        if (order.status !== 'requires_payment') {
          if (ours) sessionStorage.removeItem(CART) // the next purchase is a new order
          out.replaceChildren(orderView(order, seen, extra))
          out.dataset.status = order.status
          return
        }
        if (poll === POLLS) {
          out.replaceChildren(orderView(order, seen, extra), h('p', { class: 'small' }, 'Still not paid: buy again to go back to the card page with the same order.'))
          out.dataset.status = order.status
          return
        }
        out.replaceChildren(orderView(order, seen, extra), h('p', { class: 'muted small', role: 'status' }, 'Waiting for the payment…'))
        await new Promise((wake) => setTimeout(wake, POLL_MS))
      }
    } catch (error) {
      out.replaceChildren(errorView(error, 'Reading the order failed'))
      out.dataset.status = 'error'
    } finally {
      busy(false)
    }
  }
}
