// The five apps bench/compare.mjs measures, defined once for both places it
// runs them: in-process in Node, and bundled into bench/compare-worker/ on
// workerd. The same Hono app and handler served
//   bare        no gate
//   control     no gate, but the handler first POSTs verify- and settle-sized
//               bodies to the backend itself: what two backend calls cost alone
//   reference   @x402/hono 2.27 paymentMiddleware (exact EVM scheme) against a
//               facilitator that answers at once
//   ours        nvm-x402/hono's paywall (Payments from nvm-x402/agent) against
//               nvm-x402's backend API, answering at once
//   floor       a few lines of JavaScript doing ours' wire work and nothing else:
//               the same verify and settle requests (headers and bodies), the
//               same receipt header and Response copy, the same 402 body; no
//               checks, no token decoding, no timeout. What any gate that makes
//               these calls costs at least (not a usable gate: it trusts the token)
import { Hono } from 'hono'
import { paymentMiddleware, x402ResourceServer } from '@x402/hono'
import { HTTPFacilitatorClient } from '@x402/core/server'
import { ExactEvmScheme } from '@x402/evm/exact/server'
import { Payments } from 'nvm-x402/agent'
import { paywall } from 'nvm-x402/hono'
import { AGENT, NETWORK, PLAN, SETTLE_PATH, VERIFY_PATH } from './instant-backend.js'

const PAY_TO = '0x00000000000000000000000000000000000000aa'

const work = (c) => c.json({ answer: 'done', words: 3 })

/** The app names, in the order they are reported. */
export const APPS = ['bare', 'control', 'reference', 'ours', 'floor']

/**
 * One of the apps, serving `POST /work` (`prefixed`: `POST /<name>/work`);
 * `backendUrl` ends in `/`. Built one at a time: @x402/hono's middleware
 * fetches the facilitator's /supported when it is constructed, and on workerd
 * that fetch belongs to the request during which it was built (a later
 * request awaiting it would wait forever), so the Worker builds each app in
 * that app's first request.
 */
export function app(name, { backendUrl, nvmApiKey, prefixed = false }) {
  const path = prefixed ? `/${name}/work` : '/work'
  const hono = new Hono()
  if (name === 'bare') return hono.post(path, work)
  if (name === 'control') {
    return hono.post(path, async (c) => {
      const body = JSON.stringify({ paymentRequired: { resource: { url: c.req.url } }, x402AccessToken: c.req.header('payment-signature'), maxAmount: '1' })
      for (const p of [VERIFY_PATH, SETTLE_PATH]) await (await fetch(new URL(p, backendUrl), { method: 'POST', headers: { 'content-type': 'application/json' }, body })).json()
      return work(c)
    })
  }
  if (name === 'reference') {
    const server = new x402ResourceServer(new HTTPFacilitatorClient({ url: backendUrl.replace(/\/$/, '') })).register(NETWORK, new ExactEvmScheme())
    hono.use(paymentMiddleware({ [`POST ${path}`]: { accepts: { scheme: 'exact', price: '$0.01', network: NETWORK, payTo: PAY_TO }, description: 'work' } }, server))
    return hono.post(path, work)
  }
  if (name === 'ours') {
    const payments = Payments.getInstance({ nvmApiKey, backendUrl })
    hono.use(paywall(payments, { agentId: AGENT, routes: { [`POST ${path}`]: { planId: PLAN, scheme: 'nvm:erc4337', credits: 1 } } }))
    return hono.post(path, work)
  }
  if (name === 'floor') {
    const headers = { Authorization: `Bearer ${nvmApiKey}`, Accept: 'application/json', 'Content-Type': 'application/json', 'Nevermined-Version': '1.1' }
    const accepts = `[{"scheme":"nvm:erc4337","network":"${NETWORK}","planId":"${PLAN}","extra":{"version":"1","agentId":"${AGENT}","httpVerb":"POST"}}]`
    const call = async (p, body) => (await fetch(new URL(p, backendUrl), { method: 'POST', headers, body })).json()
    hono.use(async (c, next) => {
      const required = `{"x402Version":2,"resource":{"url":${JSON.stringify(c.req.url)}},"accepts":${accepts},"extensions":{}}`
      const token = c.req.header('payment-signature')
      if (!token) {
        c.res = new Response(required, { status: 402, headers: { 'content-type': 'application/json', 'payment-required': btoa(required) } })
        return
      }
      const body = `{"paymentRequired":${required},"x402AccessToken":${JSON.stringify(token)},"maxAmount":"1"`
      const verified = await call(VERIFY_PATH, `${body}}`)
      if (!verified.isValid) throw new Error('refused')
      await next()
      const settled = await call(SETTLE_PATH, `${body},"agentRequestId":${JSON.stringify(verified.agentRequestId)}}`)
      const response = new Response(c.res.body, c.res)
      response.headers.set('payment-response', btoa(JSON.stringify(settled)))
      response.headers.set('cache-control', 'private')
      c.res = undefined
      c.res = response
    })
    return hono.post(path, work)
  }
  throw new Error(`no app ${name}`)
}

/** An exact-EVM payment for the reference gate's PaymentRequired (`required`, decoded): signed with nonsense, which the instant facilitator accepts. */
export function referencePayment(required) {
  const accepted = required.accepts[0]
  const payment = {
    x402Version: 2,
    resource: required.resource,
    accepted,
    payload: {
      signature: `0x${'ab'.repeat(65)}`,
      authorization: { from: '0x00000000000000000000000000000000000000bb', to: PAY_TO, value: accepted.amount, validAfter: '0', validBefore: '99999999999', nonce: `0x${'cd'.repeat(32)}` },
    },
  }
  return btoa(JSON.stringify(payment))
}
