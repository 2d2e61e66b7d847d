// widgets.createSelfSession (nvm-x402 only): the embed app's session for the caller's own
// account, the call setupCard() makes before it opens <embed>/cards/setup.
import test from 'node:test'
import assert from 'node:assert/strict'
import { Payments as A2AClientPayments } from 'nvm-x402/a2a-client'
import { KEY, assertRequests, backendFor, clientFor, liveAccount, liveBackendFor, paymentsError } from '../support/nvm.mjs'

const SESSION = '/api/v1/widgets/session/self'

test('createSelfSession: POST with the key, orgId and returnUrl as given; the answer returned as sent', async (t) => {
  const backend = await backendFor(t)
  const answer = { sessionToken: 'eyJ.s', userId: 'us-1', userWallet: '0x1', apiKeyHash: 'h', expiresAt: '2026-05-22T19:00:00.000Z', isReturnUrlAllowed: true }
  backend.respond('POST', SESSION, { status: 201, json: answer })
  const payments = clientFor(backend)
  assert.deepEqual(await payments.widgets.createSelfSession({ orgId: 'org-abc', returnUrl: 'http://127.0.0.1:5/callback', extra: 1 }), answer)
  await payments.widgets.createSelfSession()
  assertRequests(backend, [
    { method: 'POST', url: SESSION, body: '{"orgId":"org-abc","returnUrl":"http://127.0.0.1:5/callback"}' },
    { method: 'POST', url: SESSION, body: '{}' },
  ])
  await paymentsError(payments.widgets.createSelfSession({ orgId: 7 }), { code: 'validation' })
  await paymentsError(() => A2AClientPayments.getInstance({ nvmApiKey: KEY, backendUrl: backend.url }).widgets.createSelfSession(), { code: 'not_in_entry' })
  assert.equal(backend.requests.length, 2, 'nothing sent for the refused calls')
})

test('createSelfSession against nvm-local: a session for the caller, and whether it may return to returnUrl', async (t) => {
  const live = await liveBackendFor(t)
  const { payments, address, apiKey } = await liveAccount(live, 'dana')
  const here = await payments.widgets.createSelfSession({ returnUrl: 'http://127.0.0.1:8080/shop' })
  assert.match(here.sessionToken, /^nws_/)
  assert.deepEqual([here.userWallet.toLowerCase(), here.isReturnUrlAllowed], [address.toLowerCase(), true])
  assert.ok(!JSON.stringify(here).includes(apiKey.split(':')[1]), 'the key is not in the answer')
  assert.equal((await payments.widgets.createSelfSession({ returnUrl: 'https://evil.example/' })).isReturnUrlAllowed, false)
  await paymentsError(payments.widgets.createSelfSession({ orgId: 'org-nope' }), { code: 'BCK.WIDGET_SESSION.0019', httpStatus: 403 })
})
