// The demo page (www/) end to end in headless Chromium, served the way
// scripts/demo.sh serves it (scripts/serve.mjs), against a live nvm-local and
// the Cloudflare Worker example on workerd. What the page shows is checked
// against the backend, read independently through the package in Node.
// Screenshots of both tabs, desktop and phone width, go to artifacts/.
// Then scripts/demo.sh itself: what it starts, what it prints, how it stops.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, execFileSync } from 'node:child_process'
import http from 'node:http'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Payments, decodeAccessToken, decodePaymentHeader, redactToken } from 'nvm-x402'
import { ROOT, freePort, launchChromium } from '../support/servers.mjs'
import { startDemoWorld } from '../support/client.mjs'
import { ACCOUNT, makeKey } from '../support/nvm.mjs'
import { startDemoServer } from '../../../scripts/serve.mjs'

const ARTIFACTS = join(ROOT, 'artifacts')
const DESKTOP = { width: 1280, height: 900 }
const PHONE = { width: 375, height: 812 }

describe('the demo page in headless Chromium, against nvm-local and the Workers on workerd', () => {
  let demo, world, site, chromium, page, subscriber, builder
  /** Console errors and page errors, with where they came from. */
  const problems = []
  /** Failed responses the browser logs as console errors that a test caused on purpose: `{url, status}`. */
  const expectedFailures = []

  /** Watches a page for errors (console errors, uncaught exceptions). */
  function watch(tab) {
    tab.on('console', (message) => {
      if (message.type() === 'error') problems.push({ text: message.text(), url: message.location()?.url ?? '' })
    })
    tab.on('pageerror', (error) => problems.push({ text: `uncaught: ${error.message}`, url: '' }))
    return tab
  }

  async function openPage(viewport) {
    const tab = watch(await chromium.context.newPage())
    await tab.setViewportSize(viewport)
    await tab.goto(site.url)
    await tab.waitForSelector('body[data-ready="true"]')
    return tab
  }

  before(async () => {
    await mkdir(ARTIFACTS, { recursive: true })
    demo = await startDemoWorld({ mcp: true })
    world = demo.world
    site = await startDemoServer({ backendUrl: demo.nvm.url, agentUrl: demo.agentUrl, mcpUrl: demo.mcpUrl })
    chromium = await launchChromium()
    chromium.context.setDefaultTimeout(20_000)
    page = await openPage(DESKTOP)
    // The same accounts, read independently of the page.
    subscriber = Payments.getInstance({ nvmApiKey: world.accounts.subscriber.apiKey, backendUrl: demo.nvm.url })
    builder = Payments.getInstance({ nvmApiKey: world.accounts.builder.apiKey, backendUrl: demo.nvm.url })
  })
  after(async () => {
    await chromium?.close()
    await site?.close()
    await demo?.stop()
  })

  const balanceOf = async (planId) => BigInt((await subscriber.plans.getPlanBalance(planId)).balance)
  const figure = (tab = page) => tab.locator('#s-balance').textContent()

  /**
   * Clicks `button` and waits until its action is done (the page counts
   * finished actions in `data-runs` of their output `out`); returns the first
   * thing the action showed.
   */
  async function run(tab, button, out) {
    const runs = Number((await tab.locator(out).getAttribute('data-runs')) ?? 0)
    await button.click()
    await tab.locator(`${out}[data-runs="${runs + 1}"]:not([aria-busy])`).waitFor({ state: 'attached' })
    return tab.locator(`${out} > *`).first()
  }

  const ask = (tab = page) => run(tab, tab.getByRole('button', { name: 'Ask the agent' }), '#s-ask-out')

  test('the page loads the package and shows where it connects; every form control has a label', async () => {
    assert.equal(await page.locator('#cfg-backend').textContent(), demo.nvm.url)
    assert.equal(await page.locator('#cfg-agent').textContent(), demo.agentUrl)
    await page.locator('#agent-status.ok').waitFor()
    assert.equal(await page.locator('#agent-status').textContent(), 'online')
    const unlabelled = await page.evaluate(() =>
      [...document.querySelectorAll('input, select, textarea')].filter((c) => c.labels.length === 0 && !c.closest('label') && !c.getAttribute('aria-label')).map((c) => c.outerHTML),
    )
    assert.deepEqual(unlabelled, [])
    // Until someone signs in, actions are disabled.
    assert.equal(await page.getByRole('button', { name: 'Ask the agent' }).isDisabled(), true)
  })

  test('subscriber: the demo subscriber signs in; the key stays redacted until revealed', async () => {
    const key = world.accounts.subscriber.apiKey
    await page.getByRole('button', { name: 'Use the local demo subscriber' }).click()
    const who = page.locator('[data-session="subscriber"] .who')
    await who.waitFor()
    assert.equal(await who.locator('[data-slot="address"]').textContent(), world.accounts.subscriber.address)
    assert.match(await who.locator('[data-slot="environment"]').textContent(), /^local · from the key's local: prefix/)
    assert.equal(await who.locator('[data-slot="backend"]').textContent(), demo.nvm.url)
    assert.equal(await who.locator('[data-slot="key-shown"]').textContent(), redactToken(key))
    assert.ok(!(await page.locator('body').innerText()).includes(key), 'the whole key is not on screen')
    await who.getByRole('button', { name: 'Reveal' }).click()
    assert.equal(await who.locator('[data-slot="key-shown"]').textContent(), key)
    await who.getByRole('button', { name: 'Hide' }).click()
    assert.ok(!(await page.locator('body').innerText()).includes(key))
    assert.equal(await page.getByRole('button', { name: 'Ask the agent' }).isDisabled(), false)
  })

  test('subscriber: check balance, order, query until the credits run out, see the 402, order more, query again', async () => {
    const plan = world.plans.free
    assert.equal(await page.locator('#s-plan-id').inputValue(), plan.planId, 'the free plan is picked')
    const start = await balanceOf(plan.planId)
    await run(page, page.getByRole('button', { name: 'Check balance' }), '#s-credits-out')
    assert.equal(await figure(), String(start))

    const ordered = await run(page, page.getByRole('button', { name: 'Order plan (crypto)' }), '#s-credits-out')
    const afterOrder = await balanceOf(plan.planId)
    assert.equal(afterOrder, start + BigInt(plan.credits))
    assert.equal(await figure(), String(afterOrder))
    assert.match(await ordered.textContent(), new RegExp(`Ordered — ${afterOrder} credits now`))

    // Every question is paid; the receipt says how many credits are left, and so does the backend.
    // The first one starts unpaid: the agent's 402 is how the client learns what to pay.
    expectedFailures.push({ url: demo.agentUrl, status: 402 })
    await page.locator('#s-prompt').fill('How many words is this question?')
    for (let left = afterOrder - 1n; left >= 0n; left--) {
      const answer = await ask()
      assert.match(await answer.locator('.answer').textContent(), /How many words is this question\?/)
      assert.equal(await answer.locator('[data-remaining]').getAttribute('data-remaining'), String(left))
      assert.equal(await figure(), String(left))
      assert.equal(await balanceOf(plan.planId), left)
    }
    await page.getByText('Decoded payment-response').click()
    const receipt = JSON.parse(await page.locator('#s-ask-out pre.json').textContent())
    assert.equal(receipt.success, true)
    assert.equal(receipt.remainingBalance, '0')

    // Out of credits: the 402, its reason and the decoded payment-required.
    const refused = await ask()
    assert.equal(await refused.getAttribute('class'), 'pay-required')
    assert.equal(await refused.locator('.status-badge').textContent(), '402')
    const reason = await refused.locator('p').first().textContent()
    assert.match(reason, /credit/i)
    await refused.getByText('Decoded payment-required').click()
    const required = JSON.parse(await refused.locator('pre.json').textContent())
    assert.equal(required.error, reason)
    assert.deepEqual(required.accepts.map((a) => a.planId), [plan.planId])
    assert.equal(required.resource.url, demo.agentUrl)
    // What the agent asks for, read directly: the page decoded the same plans and resource.
    const direct = await fetch(demo.agentUrl, { method: 'POST', body: '{"prompt":"x"}' })
    assert.equal(direct.status, 402)
    const asked = decodePaymentHeader(direct.headers.get('payment-required'))
    assert.deepEqual(required.accepts, asked.accepts)
    assert.deepEqual(required.resource, asked.resource)
    await page.screenshot({ path: join(ARTIFACTS, 'demo-subscriber-402-desktop.png'), fullPage: true })

    // "Order more" buys the plan again; the next question is answered.
    const more = await run(page, refused.getByRole('button', { name: 'Order more credits' }), '#s-ask-out .pay-required .out')
    assert.match(await more.textContent(), new RegExp(`Ordered — ${plan.credits} credits now`))
    assert.equal(await balanceOf(plan.planId), BigInt(plan.credits))
    const again = await ask()
    assert.equal(await again.locator('[data-remaining]').getAttribute('data-remaining'), String(BigInt(plan.credits) - 1n))
    assert.equal(await balanceOf(plan.planId), BigInt(plan.credits) - 1n)
  })

  test('subscriber: queryAgent mode answers and updates the balance', async () => {
    const before = await balanceOf(world.plans.free.planId)
    await page.getByLabel('queryAgent').check()
    await page.locator('#s-prompt').fill('Answer through queryAgent')
    const answer = await ask()
    assert.match(await answer.locator('.answer').textContent(), /Answer through queryAgent/)
    assert.equal(await balanceOf(world.plans.free.planId), before - 1n)
    assert.equal(await figure(), String(before - 1n))
    await page.getByLabel('payments.fetch').check()
  })

  test('subscriber: mcp.callTool mode asks the MCP Worker\'s paid echo tool, 1 credit, from the browser', async () => {
    const before = await balanceOf(world.plans.free.planId)
    await page.getByLabel('mcp.callTool').check()
    await page.locator('#s-prompt').fill('Echo this over MCP')
    const answer = await ask()
    assert.match(await answer.textContent(), /The MCP tool answered/)
    assert.equal(await answer.locator('.answer').textContent(), 'Echo this over MCP')
    assert.equal(await balanceOf(world.plans.free.planId), before - 1n)
    assert.equal(await figure(), String(before - 1n))
    await page.getByLabel('payments.fetch').check()
  })

  test('subscriber: payment methods, a delegation, and an access token decoded with its secrets redacted until revealed', async () => {
    await page.getByText('Payment methods', { exact: true }).click()
    const methods = await run(page, page.getByRole('button', { name: 'List payment methods' }), '#s-methods-out')
    const expected = await subscriber.delegation.listPaymentMethods()
    assert.equal(await methods.locator('li').count(), expected.length)
    const card = expected.find((m) => m.type === 'card')
    assert.match(await methods.textContent(), new RegExp(`•••• ${card.last4}`))

    const delegation = await run(page, page.getByRole('button', { name: 'Create delegation' }), '#s-delegation-out')
    const delegationId = await delegation.locator('dd code').first().textContent()
    const listed = await subscriber.delegation.listDelegations()
    assert.ok(listed.delegations.some((d) => d.delegationId === delegationId && d.provider === 'erc4337'), 'the backend has it')

    const box = await run(page, page.getByRole('button', { name: 'Get access token' }), '#s-token-out')
    const redacted = await box.locator('[data-token]').textContent()
    assert.equal(await box.locator('[data-token]').getAttribute('data-token'), 'redacted')
    const hidden = JSON.parse(await box.locator('pre.json').textContent())
    await box.getByRole('button', { name: 'Reveal' }).click()
    const token = await box.locator('[data-token="revealed"]').textContent()
    assert.equal(redacted, redactToken(token))
    const decoded = decodeAccessToken(token)
    assert.equal(decoded.accepted.planId, world.plans.free.planId)
    assert.equal(decoded.accepted.extra.agentId, world.agent.agentId)
    assert.equal(decoded.payload.authorization.sessionKeys[0].id, delegationId, 'minted on the delegation just created')
    assert.deepEqual(JSON.parse(await box.locator('pre.json').textContent()), decoded, 'revealed: the whole decoded token')
    assert.equal(hidden.payload.signature, redactToken(decoded.payload.signature), 'redacted: the signature')
    assert.deepEqual(hidden.accepted, decoded.accepted, 'redacted: what it pays for is shown as is')
    assert.ok(!JSON.stringify(hidden).includes(decoded.payload.signature))
    await box.getByRole('button', { name: 'Hide' }).click()
    assert.ok(!(await page.locator('body').innerText()).includes(token), 'hidden again')
  })

  test('subscriber: errors are shown with their code and hint (ordering a fiat plan as crypto)', async () => {
    await page.locator('#s-plan-pick').selectOption(world.plans.fiat.planId)
    const error = await run(page, page.getByRole('button', { name: 'Order plan (crypto)' }), '#s-credits-out')
    assert.equal(await error.getAttribute('class'), 'error')
    assert.equal(await error.getAttribute('role'), 'alert')
    // Refused before any order is sent (the page's failed requests are checked at the end: none to .../order).
    const direct = await subscriber.plans.orderPlan(world.plans.fiat.planId).catch((e) => e)
    assert.equal(direct.code, 'validation')
    assert.equal(await error.locator('.code-badge').textContent(), direct.code)
    assert.match(await error.textContent(), new RegExp(direct.message))
    // What to do names the method (orderFiatPlan), not a backend path.
    assert.match(await error.textContent(), /Hint: .*orderFiatPlan/)
  })

  test('subscriber: order with card through nvm-local\'s checkout page, then the balance shows the credits; the card plan\'s token pays with a card delegation', async () => {
    const plan = world.plans.fiat
    assert.equal(await page.locator('#s-plan-id').inputValue(), plan.planId)
    const before = await balanceOf(plan.planId)
    const [checkout] = await Promise.all([chromium.context.waitForEvent('page'), page.getByRole('button', { name: 'Order with card' }).click()])
    await checkout.waitForLoadState()
    assert.ok(checkout.url().startsWith(`${demo.nvm.url}checkout/`), checkout.url())
    await page.locator('#s-credits-out .notice').waitFor()
    assert.equal(await page.locator('#s-credits-out .notice a').getAttribute('href'), checkout.url())
    await checkout.locator('#pay').click()
    await checkout.locator('main[data-status="paid"]').waitFor()
    await checkout.close()
    await run(page, page.getByRole('button', { name: 'Check balance' }), '#s-credits-out')
    const after = await balanceOf(plan.planId)
    assert.equal(after, before + BigInt(plan.credits))
    assert.equal(await figure(), String(after))

    // A token for the card plan pays with a card delegation, created on the fly.
    const shown = await run(page, page.getByRole('button', { name: 'Get access token' }), '#s-token-out')
    assert.match(await shown.textContent(), /No delegation for stripe yet: created one/)
    const box = page.locator('#s-token-out .result').last()
    await box.getByRole('button', { name: 'Reveal' }).click()
    const decoded = decodeAccessToken(await box.locator('[data-token="revealed"]').textContent())
    assert.deepEqual({ scheme: decoded.accepted.scheme, network: decoded.accepted.network, planId: decoded.accepted.planId }, { ...(await subscriber.resolveScheme(plan.planId)), planId: plan.planId })
    const card = (await subscriber.delegation.listPaymentMethods()).find((m) => m.type === 'card')
    const delegation = (await subscriber.delegation.listDelegations()).delegations.find((d) => d.delegationId === decoded.payload.authorization.sessionKeys[0].id)
    assert.equal(delegation.providerPaymentMethodId, card.id, 'the enrolled card backs it')
    await box.getByRole('button', { name: 'Hide' }).click()

    await page.locator('#s-plan-pick').selectOption(world.plans.free.planId)
    await run(page, page.getByRole('button', { name: 'Check balance' }), '#s-credits-out')
    assert.equal(await figure(), String(await balanceOf(world.plans.free.planId)))
  })

  test('subscriber at desktop width: screenshot', async () => {
    await page.evaluate(() => window.scrollTo(0, 0))
    await page.screenshot({ path: join(ARTIFACTS, 'demo-subscriber-desktop.png'), fullPage: true })
  })

  test('builder: registers an agent with a plan in one step, creates a time plan, and lists them', async () => {
    await page.getByRole('tab', { name: /Builder/ }).click()
    assert.equal(await page.locator('#panel-builder').isVisible(), true)
    assert.equal(await page.locator('#panel-subscriber').isVisible(), false)
    await page.getByRole('button', { name: 'Use the local demo builder' }).click()
    await page.locator('[data-session="builder"] .who').waitFor()

    const agentName = `Summary bot ${process.pid}`
    const planName = `Starter for ${agentName}`
    await page.locator('#b-agent-name').fill(agentName)
    await page.locator('#b-reg-name').fill(planName)
    await page.locator('#b-reg-pricing').selectOption('fiat')
    await page.locator('#b-reg-amount').fill('5.00')
    await page.locator('#b-reg-credits').fill('50')
    const registered = await run(page, page.getByRole('button', { name: 'Register agent and plan' }), '#b-register-out')
    const [agentId, planId] = await registered.locator('dd code').evaluateAll((nodes) => nodes.map((n) => n.title))
    const agent = await builder.agents.getAgent(agentId)
    assert.equal(agent.metadata.main.name, agentName)
    const plan = await builder.plans.getPlan(planId)
    assert.equal(plan.metadata.main.name, planName)
    assert.equal(plan.registry.price.isCrypto, false)
    assert.deepEqual(plan.registry.price.amounts, ['5000000'], '$5.00 in 6-decimal units')
    assert.equal(plan.registry.credits.amount, '50')
    assert.deepEqual((await builder.agents.getAgentPlans(agentId)).plans.map((p) => p.planId ?? p.id), [planId])

    const timePlan = `Monthly pass ${process.pid}`
    await page.locator('#b-new-name').fill(timePlan)
    await page.locator('#b-new-pricing').selectOption('free')
    await page.locator('#b-plan-form').getByLabel('Time').check()
    await page.locator('#b-new-days').fill('30')
    const made = await run(page, page.getByRole('button', { name: 'Create plan' }), '#b-plan-out')
    const timePlanId = await made.locator('dd code').first().getAttribute('title')
    const time = await builder.plans.getPlan(timePlanId)
    assert.equal(time.metadata.plan.accessLimit, 'time')
    assert.equal(time.registry.credits.durationSecs, String(30 * 86400))

    const list = await run(page, page.getByRole('button', { name: 'List my plans' }), '#b-plans-out')
    await list.waitFor()
    const rows = page.locator('#b-plans-out tbody tr')
    const mine = await builder.plans.getPlans()
    assert.equal(await rows.count(), mine.plans.length)
    const ids = await rows.locator('td:first-child code').evaluateAll((nodes) => nodes.map((n) => n.title))
    assert.deepEqual(ids.slice(0, 2), [timePlanId, planId], 'newest first')
    assert.match(await rows.nth(0).textContent(), new RegExp(`${timePlan}.*Free.*30 days`))
    assert.match(await rows.nth(1).textContent(), new RegExp(`${planName}.*\\$5\\.00.*50 credits`))
  })

  test('builder: a fiat price below $1 is refused by the backend and shown with its code', async () => {
    await page.locator('#b-new-name').fill(`Too cheap ${process.pid}`)
    await page.locator('#b-new-pricing').selectOption('fiat')
    await page.locator('#b-new-amount').fill('0.50')
    await page.locator('#b-plan-form').getByLabel('Credits', { exact: true }).check()
    expectedFailures.push({ url: `${demo.nvm.url}api/v1/protocol/plans`, status: 400 })
    const error = await run(page, page.getByRole('button', { name: 'Create plan' }), '#b-plan-out')
    assert.equal(await error.getAttribute('class'), 'error')
    const fiftyCents = builder.plans.getFiatPriceConfig(500_000n, world.accounts.builder.address)
    const direct = await builder.plans.registerPlan({ name: 'direct' }, fiftyCents, builder.plans.getFixedCreditsConfig(10n, 1n)).catch((e) => e)
    assert.equal(direct.code, 'BCK.PROTOCOL.0047', 'the backend refuses $0.50')
    assert.equal(await error.locator('.code-badge').textContent(), direct.code)
    assert.match(await error.textContent(), new RegExp(`HTTP ${direct.httpStatus}`))
  })

  test('builder at desktop width: screenshot', async () => {
    await page.evaluate(() => window.scrollTo(0, 0))
    await page.screenshot({ path: join(ARTIFACTS, 'demo-builder-desktop.png'), fullPage: true })
  })

  test('sign-in: the key\'s prefix wins over the environment picker; without one, the picker decides; bad keys and new accounts', async () => {
    const tab = await openPage(DESKTOP)
    try {
      const card = tab.locator('[data-session="subscriber"]')
      const signIn = async (key, environment, customUrl) => {
        await card.getByLabel('Nevermined API key').fill(key)
        await card.getByLabel('Environment').selectOption(environment)
        if (customUrl) await card.getByLabel('Backend URL').fill(customUrl)
        await card.getByRole('button', { name: 'Sign in with the key', exact: true }).click()
      }
      const shown = async () => ({
        environment: await card.locator('[data-slot="environment"]').textContent(),
        backend: await card.locator('[data-slot="backend"]').textContent(),
        address: await card.locator('[data-slot="address"]').textContent(),
      })
      const signOut = () => card.getByRole('button', { name: 'Sign out' }).click()
      const expected = (key, options) => {
        const payments = Payments.getInstance({ nvmApiKey: key, ...options })
        return { environment: payments.environment, backend: payments.backendUrl }
      }

      const sandboxKey = makeKey('sandbox')
      await signIn(sandboxKey, 'local')
      const sandbox = await shown()
      assert.equal(sandbox.environment, `${expected(sandboxKey).environment} · the key's sandbox: prefix wins over the picker (local)`)
      assert.equal(sandbox.backend, expected(sandboxKey).backend)
      assert.equal(sandbox.address, ACCOUNT)
      await signOut()

      const bareKey = makeKey('acme')
      await signIn(bareKey, 'live')
      assert.deepEqual(await shown(), { environment: `${expected(bareKey, { environment: 'live' }).environment} · from the picker`, backend: expected(bareKey, { environment: 'live' }).backend, address: ACCOUNT })
      await signOut()
      await signIn(bareKey, 'custom', 'https://backend.example.com/nvm')
      assert.deepEqual(await shown(), { environment: 'custom · from the picker', backend: 'https://backend.example.com/nvm/', address: ACCOUNT })
      await signOut()

      await signIn('local:not-a-jwt', 'local')
      const error = card.locator('[data-slot="out"] .error')
      await error.waitFor()
      let refusal
      try {
        Payments.getInstance({ nvmApiKey: 'local:not-a-jwt' })
      } catch (caught) {
        refusal = caught
      }
      assert.equal(await error.locator('.code-badge').textContent(), refusal.code)
      assert.ok((await error.textContent()).includes(refusal.message))
      assert.equal(await card.locator('.who').isVisible(), false, 'still signed out')

      await run(tab, card.getByRole('button', { name: 'New local account' }), '[data-session="subscriber"] [data-slot="out"]')
      const fresh = await shown()
      assert.match(fresh.address, /^0x[0-9a-f]{40}$/)
      assert.notEqual(fresh.address, world.accounts.subscriber.address)
      assert.equal(fresh.backend, demo.nvm.url)
      await run(tab, tab.getByRole('button', { name: 'Check balance' }), '#s-credits-out')
      assert.equal(await figure(tab), '0', 'a new account has bought nothing')
    } finally {
      await tab.close()
    }
  })

  test('phone width (375 px): both tabs fit without sideways scrolling; screenshots', async () => {
    const phone = await openPage(PHONE)
    try {
      const overflow = () => phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
      assert.equal(await overflow(), 0)
      await phone.getByRole('button', { name: 'Use the local demo subscriber' }).click()
      await phone.locator('[data-session="subscriber"] .who').waitFor()
      await run(phone, phone.getByRole('button', { name: 'Check balance' }), '#s-credits-out')
      const answer = await ask(phone)
      assert.match(await answer.locator('.answer').textContent(), /paid agent/)
      assert.equal(await overflow(), 0)
      await phone.screenshot({ path: join(ARTIFACTS, 'demo-subscriber-phone.png'), fullPage: true })

      await phone.getByRole('tab', { name: /Builder/ }).click()
      await phone.getByRole('button', { name: 'Use the local demo builder' }).click()
      await phone.locator('[data-session="builder"] .who').waitFor()
      await run(phone, phone.getByRole('button', { name: 'List my plans' }), '#b-plans-out')
      assert.equal(await overflow(), 0)
      await phone.evaluate(() => window.scrollTo(0, 0))
      await phone.screenshot({ path: join(ARTIFACTS, 'demo-builder-phone.png'), fullPage: true })
    } finally {
      await phone.close()
    }
  })

  test('no console errors: only the failed responses the tests asked for (the agent\'s 402s, the refused orders)', () => {
    const unexpected = problems.filter(({ text, url }) => {
      const failed = /^Failed to load resource: the server responded with a status of (\d+)/.exec(text)
      return !(failed && expectedFailures.some((e) => url === e.url && Number(failed[1]) === e.status))
    })
    assert.deepEqual(unexpected, [])
  })
})

describe('scripts/demo.sh, the README\'s "run the demo"', () => {
  let ports, db, dir
  /** The demo.sh processes still running. */
  const running = new Set()
  // demo.sh stops its services itself on SIGTERM (they run in their own sessions, out of reach
  // of a process-group kill): if this test process ends first, tell it to.
  process.once('exit', () => running.forEach((child) => child.kill('SIGTERM')))

  before(async () => {
    ports = { NVM_LOCAL_PORT: await freePort(), NVM_AGENT_PORT: await freePort(), NVM_MCP_PORT: await freePort(), NVM_DEMO_PORT: await freePort() }
    dir = await mkdtemp(join(tmpdir(), 'nvm-demo-'))
    db = join(dir, 'state.sqlite')
  })
  after(async () => {
    for (const child of running) {
      child.kill('SIGTERM')
      await new Promise((ok) => child.once('exit', ok))
    }
    await rm(dir, { recursive: true, force: true })
  })

  /** Runs demo.sh (on the existing build) until it prints its URL, or until it exits. */
  function runDemo() {
    const env = { ...process.env, ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])), NVM_LOCAL_DB: db, NVM_DEMO_SKIP_BUILD: '1' }
    const child = spawn(join(ROOT, 'scripts/demo.sh'), [], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
    running.add(child)
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    const exited = new Promise((ok) =>
      child.once('exit', (code, signal) => {
        running.delete(child)
        ok({ code, signal })
      }),
    )
    const demo = {
      exited,
      output: () => ({ stdout, stderr }),
      /** Sends `signal` (SIGINT is Ctrl-C) and resolves to the exit status. */
      async stop(signal = 'SIGINT') {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal)
        return exited
      },
    }
    const ready = new Promise((ok, fail) => {
      child.stdout.on('data', () => stdout.includes('Ctrl-C') && ok(demo))
      exited.then((status) => fail(new Error(`demo.sh exited (${JSON.stringify(status)}) before printing its URL:\n${stdout}\n${stderr}`)))
    })
    return { demo, ready }
  }

  const refused = (port) =>
    fetch(`http://127.0.0.1:${port}/`).then(
      () => false,
      () => true,
    )
  /** Processes whose command line mentions one of the demo's ports or its state file. */
  const strays = () => execFileSync('ps', ['-eo', 'args=']).toString().split('\n').filter((line) => line.includes(db) || Object.values(ports).some((p) => line.includes(`127.0.0.1:${p}`) || line.includes(`--port ${p}`)))

  test('starts nvm-local, the paid agent and the page, prints one URL; Ctrl-C stops all of it; a rerun reuses the state, SIGTERM stops it too', async () => {
    const first = runDemo()
    const demo = await first.ready
    const page = `http://127.0.0.1:${ports.NVM_DEMO_PORT}/`
    const { stdout } = demo.output()
    assert.deepEqual(stdout.match(/https?:\/\/\S+/g), [page], 'exactly one URL, the page')
    assert.match(stdout, /Ctrl-C stops the demo/)

    const html = await fetch(page)
    assert.equal(html.status, 200)
    assert.match(await html.text(), /<title>nvm-x402 demo/)
    const backendUrl = `http://127.0.0.1:${ports.NVM_LOCAL_PORT}/`
    const agentUrl = `http://127.0.0.1:${ports.NVM_AGENT_PORT}/tasks`
    const mcpUrl = `http://127.0.0.1:${ports.NVM_MCP_PORT}/mcp`
    assert.deepEqual(await (await fetch(`${page}config.json`)).json(), { backendUrl, agentUrl, mcpUrl })
    assert.equal((await fetch(`${page}pkg/index.js`)).status, 200)

    // The agent is the Worker configured from nvm-local's world: a subscriber pays it.
    const world = await (await fetch(`${backendUrl}local/v1/demo`)).json()
    assert.equal(world.agent.url, agentUrl)
    const payments = Payments.getInstance({ nvmApiKey: world.accounts.subscriber.apiKey, backendUrl })
    await payments.plans.orderPlan(world.plans.free.planId)
    const answer = await payments.queryAgent({ agentUrl, prompt: 'are you there?', planId: world.plans.free.planId, agentId: world.agent.agentId })
    assert.match(answer.answer, /are you there\?/)
    // The MCP server is the MCP Worker configured from the world's MCP agent: its echo tool is paid.
    assert.equal(world.mcpAgent.url, mcpUrl)
    const echoed = await payments.mcp.callTool({ url: mcpUrl, name: 'echo', arguments: { text: 'over MCP' }, planId: world.plans.free.planId, agentId: world.mcpAgent.agentId })
    assert.deepEqual(echoed.result.content, [{ type: 'text', text: 'over MCP' }])
    assert.equal(echoed.paymentResponse.success, true)
    assert.ok(strays().length > 0, 'the check below can see the demo')

    assert.deepEqual(await demo.stop('SIGINT'), { code: 130, signal: null })
    for (const port of Object.values(ports)) assert.equal(await refused(port), true, `port ${port} is free again`)
    assert.deepEqual(strays(), [], 'no process left behind')

    // Again, on the same state: same world, and the subscriber kept what it bought.
    const second = await runDemo().ready
    const again = await (await fetch(`${backendUrl}local/v1/demo`)).json()
    assert.deepEqual(again, world)
    const balance = await payments.plans.getPlanBalance(world.plans.free.planId)
    assert.equal(BigInt(balance.balance), BigInt(world.plans.free.credits) - 2n, 'one HTTP answer and one MCP answer')
    assert.deepEqual(await second.stop('SIGTERM'), { code: 143, signal: null })
    for (const port of Object.values(ports)) assert.equal(await refused(port), true)
    assert.deepEqual(strays(), [])
  })

  test('a port in use: it says which and how to pick another, and starts nothing', async () => {
    const squatter = http.createServer((req, res) => res.end('busy'))
    await new Promise((ok) => squatter.listen(ports.NVM_DEMO_PORT, '127.0.0.1', ok))
    try {
      const { demo, ready } = runDemo()
      await assert.rejects(ready, /exited/)
      const status = await demo.exited
      assert.notEqual(status.code, 0)
      assert.match(demo.output().stderr, new RegExp(`port ${ports.NVM_DEMO_PORT} \\(for the demo page\\) is in use.*NVM_DEMO_PORT`))
      assert.equal(await refused(ports.NVM_LOCAL_PORT), true, 'nvm-local was not started')
    } finally {
      await new Promise((ok) => squatter.close(ok))
    }
  })
})
