// The Next.js example (examples/nextjs): `next build` and `next start` as its
// README says, against a live nvm-local; its route handlers (Node and edge
// runtimes), gated by nvm-x402/next, answer 402 without a token and are paid
// by fetchWithPayment with one, each burning one credit. The servers are
// stopped by the test.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { decodePaymentHeader } from 'nvm-x402'
import { NVM_LOCAL_BUILT, liveAccount } from '../support/nvm.mjs'
import { ROOT, freePort, launchChromium, spawnUntil, startNvmLocal } from '../support/servers.mjs'

const NEXT = join(ROOT, 'node_modules/.bin/next')
const APP = join(ROOT, 'examples/nextjs')
const ENV = { NEXT_TELEMETRY_DISABLED: '1' }

test('examples/nextjs: next build, next start; the Node and edge route handlers are gated and paid', { skip: !NVM_LOCAL_BUILT && 'nvm-local is not built (scripts/build.sh --all)', timeout: 240_000 }, async (t) => {
  const built = spawnSync(NEXT, ['build', APP], { cwd: ROOT, env: { ...process.env, ...ENV }, encoding: 'utf8' })
  assert.equal(built.status, 0, `next build failed:\n${built.stdout}\n${built.stderr}`)
  assert.match(built.stdout, /\/api\/ask/)
  assert.match(built.stdout, /\/api\/edge/)

  const live = await startNvmLocal()
  t.after(() => live.stop())
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  // The README's registration step, as it says.
  const registered = spawnSync(process.execPath, [join(APP, 'register.mjs'), live.url, base], { cwd: ROOT, encoding: 'utf8' })
  assert.equal(registered.status, 0, registered.stderr)
  const vars = Object.fromEntries([...registered.stdout.matchAll(/(NVM_\w+)=(\S+)/g)].map((m) => [m[1], m[2]]))
  const { NVM_PLAN_ID: planId } = vars
  const server = await spawnUntil(NEXT, ['start', APP, '-p', String(port), '-H', '127.0.0.1'], {
    env: { ...ENV, ...vars },
    ready: (out) => /Ready in|started server/i.test(out) || undefined,
  })
  t.after(() => server.stop())

  const page = await fetch(base)
  assert.equal(page.status, 200)
  assert.match(await page.text(), /A paid route handler/)

  const subscriber = await liveAccount(live, `next-${process.pid}`)
  await subscriber.payments.plans.orderPlan(planId)
  const balance = async () => BigInt((await subscriber.payments.plans.getPlanBalance(planId)).balance)
  for (const [path, runtime] of [['/api/ask', 'nodejs'], ['/api/edge', 'edge']]) {
    const refused = await fetch(`${base}${path}`, { method: 'POST' })
    assert.equal(refused.status, 402, path)
    assert.equal(decodePaymentHeader(refused.headers.get('payment-required')).accepts[0].planId, planId)
    const before = await balance()
    const { response, paymentResponse } = await subscriber.payments.fetch(`${base}${path}`, { method: 'POST' }, { planIds: [planId] })
    assert.equal(response.status, 200, path)
    assert.deepEqual(await response.json(), { answer: 42, runtime, planId })
    assert.equal(paymentResponse.creditsRedeemed, '1', path)
    assert.equal(before - (await balance()), 1n, path)
  }

  // The page's client component pays the edge route from Chromium (the package bundled by Next for the browser).
  const chromium = await launchChromium()
  t.after(() => chromium.close())
  const tab = await chromium.context.newPage()
  const problems = []
  tab.on('pageerror', (error) => problems.push(error.message))
  await tab.goto(base)
  await tab.fill('input[name=key]', subscriber.apiKey)
  await tab.fill('input[name=plan]', planId)
  await tab.fill('input[name=backend]', live.url)
  await tab.selectOption('select[name=runtime]', 'edge')
  const before = await balance()
  await tab.click('button[type=submit]')
  const shown = tab.locator('main > p').first()
  await shown.filter({ hasText: 'burned' }).waitFor({ timeout: 20_000 }).catch(async () => assert.fail(`the page showed: ${await tab.locator('main').textContent()}`))
  assert.match(await shown.textContent(), /^200 \{"answer":42,"runtime":"edge".*1 credit\(s\) burned$/)
  assert.equal(before - (await balance()), 1n, 'the page paid one credit')
  assert.deepEqual(problems, [])
})
