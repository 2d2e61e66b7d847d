// orders.*: createOrder (the merchant's key, payments-py 1.18's body) and
// getOrder (no key), exactly on the wire, then the whole flow against
// nvm-local: requires_payment, an idempotent retry, the conflict code, an
// unknown order, the confirmation page's pay, and the merchant's refunds.
import test from 'node:test'
import assert from 'node:assert/strict'
import { Payments } from 'nvm-x402'
import { assertRequests, backendFor, clientFor, liveBackendFor, paymentsError } from '../support/nvm.mjs'

const ORDERS = '/api/v1/orders'
const CREATED = { orderId: 'ord_9f2c', status: 'requires_payment', clientSecret: 'pi_1_secret_2' }
const ORDER = { id: 'ord_9f2c', amountMinor: 3437, currency: 'usd', status: 'requires_payment', amountRefundedMinor: 0, description: 'Cart', buyerRef: null, paymentIntentId: 'pi_1', expiresAt: null, clientSecret: 'pi_1_secret_2' }

test('createOrder sends the merchant key and payments-py\'s body; getOrder sends no key', async (t) => {
  const backend = await backendFor(t)
  backend.respond('POST', ORDERS, { status: 201, json: CREATED })
  backend.respond('GET', `${ORDERS}/ord_9f2c`, { json: ORDER })
  backend.respond('GET', `${ORDERS}/a%2F..%2Fb%3Fx%23y`, { json: { ...ORDER, id: 'a/../b?x#y' } })
  const payments = clientFor(backend)
  const created = await payments.orders.createOrder({
    metadata: { channel: 'web', unit_price: 3437 },
    idempotencyKey: 'merchant-order-4821',
    lineItems: [{ sku: 'PRO', quantity: 1 }],
    description: 'Cart',
    amountMinor: 3437,
  })
  assert.deepEqual(created, CREATED)
  assert.deepEqual(await payments.orders.getOrder('ord_9f2c'), ORDER)
  // A bigint amount, an upper-case currency: payments-py's int and "usd".
  await payments.orders.createOrder({ amountMinor: 100n, currency: 'USD' })
  // The id is one path segment: nothing in it can reach another endpoint.
  await payments.orders.getOrder('a/../b?x#y')
  assertRequests(backend, [
    { method: 'POST', url: ORDERS, body: '{"amountMinor":3437,"currency":"usd","description":"Cart","idempotencyKey":"merchant-order-4821","lineItems":[{"sku":"PRO","quantity":1}],"metadata":{"channel":"web","unit_price":3437}}' },
    { method: 'GET', url: `${ORDERS}/ord_9f2c`, key: null },
    { method: 'POST', url: ORDERS, body: '{"amountMinor":100,"currency":"usd"}' },
    { method: 'GET', url: `${ORDERS}/a%2F..%2Fb%3Fx%23y`, key: null },
  ])
})

test('bad options are refused before anything is sent, each with a hint', async (t) => {
  const backend = await backendFor(t)
  const orders = clientFor(backend).orders
  for (const [options, message] of [
    [undefined, /createOrder must be an object/],
    [{}, /amountMinor is required/],
    [{ amountMinor: 34.37 }, /whole number of cents/],
    [{ amountMinor: 99 }, /from 100 to 99999999/],
    [{ amountMinor: 100_000_000 }, /from 100 to 99999999/],
    [{ amountMinor: 500, currency: 'dollars' }, /currency must be a three-letter ISO code/],
    [{ amountMinor: 500, idempotencyKey: ' ' }, /idempotencyKey must be a non-blank string/],
    [{ amountMinor: 500, description: 'x'.repeat(1025) }, /description must be a string of at most 1024/],
    [{ amountMinor: 500, lineItems: ['sku'] }, /lineItems must be a list of objects/],
    [{ amountMinor: 500, metadata: [] }, /metadata must be an object/],
    [{ amountMinor: 500, idempotency_key: 'k' }, /unknown option "idempotency_key"/],
  ]) {
    const error = await paymentsError(orders.createOrder(options), { code: 'validation', message })
    assert.ok(error.hint.length > 0)
  }
  for (const id of [undefined, '', ' ', '.', '..', 7]) {
    await paymentsError(orders.getOrder(id), { code: 'validation' })
  }
  assert.deepEqual(backend.requests, [])
})

test('the backend\'s order codes pass through; a throttled read is http_429, retryable', async (t) => {
  const backend = await backendFor(t)
  const orders = clientFor(backend).orders
  backend.respond('GET', `${ORDERS}/ord_missing`, { status: 404, json: { code: 'BCK.ORDER.0002', message: 'No order exists with this id', httpStatus: 404 } })
  backend.respond('GET', `${ORDERS}/ord_busy`, { status: 429, json: { statusCode: 429, message: 'ThrottlerException: Too Many Requests' } })
  backend.respond('POST', ORDERS, { status: 409, json: { code: 'BCK.ORDER.0007', message: 'Idempotency key reused', httpStatus: 409 } })
  await paymentsError(orders.getOrder('ord_missing'), { code: 'BCK.ORDER.0002', httpStatus: 404, message: 'No order exists with this id (HTTP 404)', retryable: false })
  await paymentsError(orders.getOrder('ord_busy'), { code: 'http_429', httpStatus: 429, retryable: true })
  await paymentsError(orders.createOrder({ amountMinor: 500, idempotencyKey: 'k' }), { code: 'BCK.ORDER.0007', httpStatus: 409 })
  // An answer that is no order is refused, not handed on.
  backend.respond('GET', `${ORDERS}/ord_odd`, { json: { ok: true } })
  await paymentsError(orders.getOrder('ord_odd'), { code: 'invalid_response' })
})

/** Presses a button of nvm-local's confirmation page, as the page itself posts it. */
async function press(live, clientSecret, action) {
  const response = await fetch(`${live.url}orders/confirm`, {
    method: 'POST',
    headers: { origin: live.url.replace(/\/$/, ''), accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ clientSecret, action }),
  })
  return { status: response.status, body: await response.json() }
}

async function refund(live, key, orderId, body) {
  const response = await fetch(`${live.url}local/v1/orders/${orderId}/refund`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: body === undefined ? '' : JSON.stringify(body),
  })
  return { status: response.status, body: await response.json() }
}

test('against nvm-local: requires_payment, an idempotent retry, the conflict and unknown codes, paid, refunds', async (t) => {
  const live = await liveBackendFor(t)
  const { builder, subscriber } = live.world.accounts
  const merchant = Payments.getInstance({ nvmApiKey: builder.apiKey, backendUrl: live.url })
  // Any client reads an order by its id: the buyer here is another account.
  const buyer = Payments.getInstance({ nvmApiKey: subscriber.apiKey, backendUrl: live.url })
  const options = { amountMinor: 3437, description: 'Cart — 3 items', idempotencyKey: `order-${Date.now()}` }
  const created = await merchant.orders.createOrder(options)
  assert.equal(created.status, 'requires_payment')
  assert.match(created.orderId, /^ord_/)
  assert.match(created.clientSecret, /_secret_/)
  assert.deepEqual(await merchant.orders.createOrder({ ...options, description: 'a retry' }), created, 'the same key: the same order')
  await paymentsError(merchant.orders.createOrder({ ...options, amountMinor: 3438 }), { code: 'BCK.ORDER.0007', httpStatus: 409 })
  await paymentsError(buyer.orders.createOrder({ amountMinor: 500 }), { code: 'BCK.ORDER.0003', httpStatus: 403 })
  await paymentsError(buyer.orders.getOrder('ord_does-not-exist'), { code: 'BCK.ORDER.0002', httpStatus: 404 })

  const open = await buyer.orders.getOrder(created.orderId)
  assert.deepEqual(
    { ...open, paymentIntentId: typeof open.paymentIntentId },
    { id: created.orderId, amountMinor: 3437, currency: 'usd', status: 'requires_payment', amountRefundedMinor: 0, description: 'Cart — 3 items', buyerRef: null, paymentIntentId: 'string', expiresAt: null, clientSecret: created.clientSecret },
  )
  assert.deepEqual(await press(live, created.clientSecret, 'pay'), { status: 200, body: { orderId: created.orderId, status: 'paid' } })
  const paid = await buyer.orders.getOrder(created.orderId)
  assert.equal(paid.status, 'paid')
  assert.equal(paid.clientSecret, undefined, 'no secret once paid')

  assert.equal((await refund(live, subscriber.apiKey, created.orderId, {})).body.code, 'BCK.ORDER.0901', 'only the merchant refunds')
  const partly = await refund(live, builder.apiKey, created.orderId, { amountMinor: 437 })
  assert.equal(partly.status, 200)
  assert.deepEqual(await buyer.orders.getOrder(created.orderId), { ...paid, status: 'partially_refunded', amountRefundedMinor: 437 })
  const full = await refund(live, builder.apiKey, created.orderId)
  assert.equal(full.status, 200)
  assert.deepEqual(await buyer.orders.getOrder(created.orderId), { ...paid, status: 'refunded', amountRefundedMinor: 3437 })
  // The read needs no key at all.
  const anonymous = await fetch(`${live.url}api/v1/orders/${created.orderId}`)
  assert.equal((await anonymous.json()).status, 'refunded')
})
