// MPP from a web page in headless Chromium: the page (nvm-x402/mpp's browser entry)
// pays an Express seller's `mpp` route on another origin (CORS: the 402's challenge
// and the receipt are exposed headers) through nvm-local, in one call.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import express from 'express'
import { Payments, getFreePriceConfig, getFixedCreditsConfig } from 'nvm-x402'
import { paymentMiddleware } from 'nvm-x402/express'
import { resultOfPage, startNvmLocal } from '../support/servers.mjs'
import { newSubscriber, stopAll } from '../support/gate.mjs'

test('in a browser, payments.mpp.fetch pays an MPP challenge across origins: 3 credits, the answer and its receipt', async (t) => {
  const nvm = await startNvmLocal()
  t.after(() => stopAll(nvm))
  const builder = Payments.getInstance({ nvmApiKey: nvm.world.accounts.builder.apiKey, backendUrl: nvm.url })
  const { planId } = await builder.plans.registerCreditsPlan({ name: 'mpp in a browser' }, getFreePriceConfig(), getFixedCreditsConfig(100n, 3n))
  const app = express()
  const server = app.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.after(() => server.close())
  const base = `http://127.0.0.1:${server.address().port}`
  const { agentId } = await builder.agents.registerAgent({ name: 'mpp seller' }, { endpoints: [{ POST: `${base}/ask` }] }, [planId])
  app.use(express.json())
  app.use(paymentMiddleware(builder, { 'POST /ask': { planId, agentId, credits: 3, mpp: true } }, { cors: true }))
  app.post('/ask', (req, res) => res.json({ answer: `you asked ${req.body.q}`, viaMpp: req.paymentContext?.mpp?.httpVerb === 'POST' }))
  const subscriber = await newSubscriber(nvm, { planId, agentId })
  const before = await subscriber.balance()
  const page = `<!doctype html><script type="module">
    import { Payments, MppError } from '/pkg/mpp/index.js'
    try {
      const payments = Payments.getInstance({ nvmApiKey: ${JSON.stringify(subscriber.apiKey)}, backendUrl: ${JSON.stringify(nvm.url)} })
      const { delegationId } = await payments.delegation.createDelegation({ provider: 'erc4337', spendingLimitCents: 1000, durationSecs: 3600 })
      const paid = await payments.mpp.fetch(${JSON.stringify(`${base}/ask`)}, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ q: 'from a page' }) }, { delegationConfig: { delegationId }, planId: ${JSON.stringify(planId)}, maxCredits: 3 })
      let capped
      try {
        await payments.mpp.fetch(${JSON.stringify(`${base}/ask`)}, { method: 'POST', body: '{}' }, { delegationConfig: { delegationId }, maxCredits: 2 })
      } catch (e) { capped = { code: e.code, mpp: e instanceof MppError } }
      window.result = { status: paid.response.status, body: await paid.response.json(), paid: paid.paid, receipt: paid.receipt, presented: [paid.credentialsPresented, paid.creditsPresented], capped }
    } catch (e) { window.result = { failed: String(e && e.stack || e), code: e.code } }
  </script>`
  const result = await resultOfPage(t, page, { timeout: 30_000 })
  assert.equal(result.failed, undefined, `${result.code}: ${result.failed}`)
  assert.equal(result.status, 200)
  assert.deepEqual(result.body, { answer: 'you asked from a page', viaMpp: true })
  assert.equal(result.paid, true, 'the receipt was readable across origins')
  assert.equal(result.receipt.status, 'success')
  assert.deepEqual(result.presented, [1, '3'])
  assert.deepEqual(result.capped, { code: 'max_credits_exceeded', mpp: false })
  assert.equal(await subscriber.balance(), before - 3n)
})
