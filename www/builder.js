// The Builder tab: register an agent with its plan in one step, create a plan,
// list my plans — each through the nvm-x402 package and its price/credits helpers.
import { $, act, cloneTemplate, copyButton, facts, fromUnits, h, idCode, noticeView, okView, short, toUnits } from './ui.js'

/** USDC (6 decimals) on the network each environment pays on. */
const USDC = { mainnet: '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913', testnet: '0x036CbD53842c5426634e7929541eC2318f3dCF7e' }

/** Mounts a plan's fields into `host`; returns `read(session)` giving what the register calls take. */
function mountPlanFields(host, prefix, nvm) {
  const { fragment, part } = cloneTemplate('plan-fields-template', prefix)
  host.replaceChildren(fragment)
  const pricing = part('pricing')
  const limitRadios = [...host.querySelectorAll(`input[name="${prefix}-limit"]`)]
  const limit = () => limitRadios.find((r) => r.checked).value
  const sync = () => {
    const free = pricing.value === 'free'
    part('amount-field').hidden = free
    part('receiver-field').hidden = free
    part('currency').textContent = pricing.value === 'crypto' ? 'USDC' : 'USD'
    part('credits-fields').hidden = limit() !== 'credits'
    part('time-fields').hidden = limit() !== 'time'
  }
  pricing.addEventListener('change', sync)
  for (const radio of limitRadios) radio.addEventListener('change', sync)
  sync()

  const invalid = (message) => new nvm.PaymentsError({ code: 'validation', message })
  const count = (input, what) => {
    if (!/^\d+$/.test(input.value.trim()) || BigInt(input.value.trim()) < 1n) throw invalid(`${what} must be a whole number of at least 1`)
    return BigInt(input.value.trim())
  }

  return function read(session) {
    const name = part('name').value.trim()
    if (!name) throw invalid('Give the plan a name')
    const receiver = part('receiver').value.trim() || session.address
    let price
    let priceText = 'free'
    if (pricing.value === 'free') {
      price = nvm.getFreePriceConfig()
    } else {
      const units = toUnits(part('amount').value, 6)
      if (units === null || units === 0n) throw invalid('Enter a price like 5 or 1.50')
      if (!receiver) throw invalid('Enter the address that gets paid')
      if (pricing.value === 'fiat') {
        price = nvm.getFiatPriceConfig(units, receiver)
        priceText = `$${fromUnits(units, 6)} by card`
      } else {
        const live = session.environment === 'live' || session.environment === 'staging_live'
        price = nvm.getCryptoPriceConfig(units, receiver, live ? USDC.mainnet : USDC.testnet)
        priceText = `${fromUnits(units, 6)} USDC`
      }
    }
    let credits
    let accessText
    if (limit() === 'time') {
      const days = count(part('days'), 'Days')
      credits = nvm.getExpirableDurationConfig(days * nvm.ONE_DAY_DURATION)
      accessText = `${days} day${days === 1n ? '' : 's'} of access`
    } else {
      const granted = count(part('credits'), 'Credits granted')
      const perRequest = count(part('per-request'), 'Credits per request')
      credits = nvm.getFixedCreditsConfig(granted, perRequest)
      accessText = `${granted} credits, ${perRequest} per request`
    }
    return { metadata: { name }, price, credits, accessLimit: limit(), summary: `${priceText} · ${accessText}` }
  }
}

/** What a plan of `getPlans` looks like in the table. */
function planRow(plan) {
  const price = plan.registry?.price ?? {}
  const amounts = (price.amounts ?? []).map((a) => BigInt(a))
  const total = amounts.reduce((a, b) => a + b, 0n)
  const kind = total === 0n ? 'free' : price.isCrypto === false ? 'fiat' : 'crypto'
  const priceText = kind === 'free' ? 'Free' : kind === 'fiat' ? `$${fromUnits(total, 6)}` : `${fromUnits(total, 6)} USDC`
  const credits = plan.registry?.credits ?? {}
  const accessLimit = plan.metadata?.plan?.accessLimit ?? plan.accessLimit ?? 'credits'
  const days = Number(credits.durationSecs ?? 0) / 86400
  const access = accessLimit === 'time' ? (days ? `${days} day${days === 1 ? '' : 's'}` : 'unlimited time') : `${credits.amount ?? '?'} credits · ${credits.minAmount ?? credits.maxAmount ?? 1}/request`
  const id = plan.planId ?? plan.id
  return h(
    'tr',
    {},
    h('td', {}, h('strong', {}, plan.metadata?.main?.name ?? plan.name ?? '(unnamed)'), h('br'), h('code', { title: id, class: 'muted' }, short(id, 10, 6))),
    h('td', { 'data-label': 'Price' }, h('span', { class: `tag ${kind}` }, priceText)),
    h('td', { 'data-label': 'Access' }, access),
    h('td', { 'data-label': 'Created', class: 'muted' }, plan.createdAt ? new Date(plan.createdAt).toLocaleDateString() : ''),
  )
}

/** Wires the Builder tab. `getSession()` is the signed-in builder (or null). */
export function mountBuilder({ nvm, getSession }) {
  const readRegisterPlan = mountPlanFields($('[data-plan-fields="b-reg"]'), 'b-reg', nvm)
  const readNewPlan = mountPlanFields($('[data-plan-fields="b-new"]'), 'b-new', nvm)

  function need() {
    const session = getSession()
    if (!session) throw new nvm.PaymentsError({ code: 'validation', message: 'Sign in first' })
    return session
  }

  const created = (what, pairs, summary) =>
    okView(what, facts(pairs.map(([label, value]) => [label, value ? h('span', {}, idCode(value), ' ', copyButton(value, 'Copy')) : undefined])), h('p', { class: 'muted small' }, summary))

  $('#b-register-form').addEventListener('submit', (event) => {
    event.preventDefault()
    act($('#b-register'), $('#b-register-out'), async () => {
      const session = need()
      const name = $('#b-agent-name').value.trim()
      const endpoint = $('#b-agent-endpoint').value.trim()
      if (!name) throw new nvm.PaymentsError({ code: 'validation', message: 'Give the agent a name' })
      if (!endpoint) throw new nvm.PaymentsError({ code: 'validation', message: 'Enter the agent\'s paid endpoint URL' })
      const plan = readRegisterPlan(session)
      const description = $('#b-agent-description').value.trim() || undefined
      const { agentId, planId, txHash } = await session.payments.agents.registerAgentAndPlan(
        { name, description },
        { endpoints: [{ [$('#b-agent-verb').value]: endpoint }] },
        plan.metadata,
        plan.price,
        plan.credits,
        plan.accessLimit,
      )
      return created(`Registered “${name}” with plan “${plan.metadata.name}”`, [['Agent id', agentId], ['Plan id', planId], ['Transaction', txHash]], plan.summary)
    }, { what: 'Registering' })
  })

  $('#b-plan-form').addEventListener('submit', (event) => {
    event.preventDefault()
    act($('#b-create-plan'), $('#b-plan-out'), async () => {
      const session = need()
      const plan = readNewPlan(session)
      const { planId } = await session.payments.plans.registerPlan(plan.metadata, plan.price, plan.credits, plan.accessLimit)
      return created(`Created plan “${plan.metadata.name}”`, [['Plan id', planId]], plan.summary)
    }, { what: 'Creating the plan' })
  })

  $('#b-list-plans').addEventListener('click', (event) =>
    act(event.currentTarget, $('#b-plans-out'), async () => {
      const { plans = [], total } = await need().payments.plans.getPlans({ sortBy: 'created', sortOrder: 'desc' })
      if (!plans.length) return noticeView('No plans yet', h('p', {}, 'Register an agent with a plan, or create a plan.'))
      return [
        h('p', { class: 'muted small' }, `${total ?? plans.length} plan${(total ?? plans.length) === 1 ? '' : 's'}`),
        h('div', { class: 'table-wrap' }, h('table', { 'aria-label': 'My plans' }, h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Plan'), h('th', { scope: 'col' }, 'Price'), h('th', { scope: 'col' }, 'Access'), h('th', { scope: 'col' }, 'Created'))), h('tbody', {}, plans.map(planRow)))),
      ]
    }, { what: 'Listing plans' }),
  )

  return {
    sessionChanged() {
      for (const id of ['#b-register-out', '#b-plan-out', '#b-plans-out']) $(id).replaceChildren()
    },
  }
}
