// The Subscriber tab: balance, orders (crypto and card), payment methods,
// delegations, access tokens, and asking the paid agent — each through the
// nvm-x402 package.
import { $, act, copyButton, facts, fromUnits, h, idCode, jsonDetails, noticeView, okView, short, toggle } from './ui.js'

/** Describes a plan of the demo world for the picker. */
function planLabel(plan) {
  if (plan.billing === 'pay-as-you-go') return `${plan.name} — ${fromUnits(plan.price, 6)} USDC a request`
  const price = plan.price === '0' || !plan.price ? 'free' : `$${fromUnits(plan.price, 6)} by card`
  return `${plan.name} — ${plan.credits} credits, ${price}`
}

/**
 * Wires the Subscriber tab. `getSession()` is the signed-in subscriber (or
 * null); `world` is nvm-local's demo world (or null away from nvm-local).
 */
export function mountSubscriber({ nvm, config, world, getSession }) {
  const planPick = $('#s-plan-pick')
  const planId = $('#s-plan-id')
  const agentUrl = $('#s-agent-url')
  const agentId = $('#s-agent-id')
  const balanceFigure = $('#s-balance')
  const balanceMeta = $('#s-balance-meta')
  const delegations = {} // provider -> delegationId, created on this page

  // ---- plan and agent ----
  const plans = world ? Object.values(world.plans) : []
  planPick.replaceChildren(...plans.map((p) => h('option', { value: p.planId }, planLabel(p))), h('option', { value: '' }, 'Another plan (enter its id)'))
  /** A listed plan fills in (and locks) the id; "another plan" lets you type one. */
  const syncPlan = (focus) => {
    if (planPick.value) planId.value = planPick.value
    planId.readOnly = planPick.value !== ''
    if (!planPick.value && focus) planId.focus()
  }
  planPick.addEventListener('change', () => {
    syncPlan(true)
    resetBalance()
  })
  planId.addEventListener('input', () => resetBalance())
  agentUrl.value = config.agentUrl
  agentId.value = world?.agent?.agentId ?? ''
  if (plans.length) planPick.value = plans[0].planId
  syncPlan(false)

  const setFigure = (value) => {
    balanceFigure.textContent = value ?? '—'
    balanceFigure.dataset.empty = String(value === undefined)
  }

  function resetBalance() {
    setFigure(undefined)
    $('#s-credits-out').replaceChildren()
    balanceMeta.textContent = getSession() ? 'Check the balance of this plan.' : 'Sign in, then check the balance.'
  }

  /** The session and the chosen plan, or a validation error the page shows. */
  function need() {
    const session = getSession()
    if (!session) throw new nvm.PaymentsError({ code: 'validation', message: 'Sign in first' })
    const plan = planId.value.trim()
    if (!plan) throw new nvm.PaymentsError({ code: 'validation', message: 'Choose a plan, or enter its id' })
    return { payments: session.payments, plan, session }
  }

  function showBalance(balance) {
    setFigure(balance.balance)
    balanceMeta.replaceChildren(
      h('strong', {}, balance.planName ?? 'Plan'),
      ` · ${balance.isSubscriber ? 'subscribed' : 'not subscribed yet'} · holder `,
      idCode(balance.holderAddress),
    )
  }

  async function refreshBalance() {
    const { payments, plan } = need()
    const balance = await payments.plans.getPlanBalance(plan)
    showBalance(balance)
    return balance
  }

  // ---- credits ----
  const creditsOut = $('#s-credits-out')
  $('#s-check-balance').addEventListener('click', (event) => act(event.currentTarget, creditsOut, async () => {
    await refreshBalance()
  }, { what: 'Checking the balance' }))

  /** Orders the plan: crypto (credits at once) or card (a checkout page in a new tab). */
  async function order({ card }) {
    const { payments, plan } = need()
    if (card) {
      const { result } = await payments.plans.orderFiatPlan(plan)
      window.open(result.checkoutLink, '_blank', 'noopener')
      return noticeView(
        'Checkout opened in a new tab',
        h('p', {}, 'Pay there with the test card, then come back and check the balance. ', h('a', { href: result.checkoutLink, target: '_blank', rel: 'noopener' }, 'Open the checkout page')),
        facts([['Session', idCode(result.stripeCheckoutSessionId)], ['Expires', result.linkExpiresAt ? new Date(result.linkExpiresAt).toLocaleString() : undefined]]),
      )
    }
    const ordered = await payments.plans.orderPlan(plan)
    const balance = await refreshBalance()
    // A plan already held is bought again: say so, with what was held before.
    const title = ordered.alreadySubscribed ? `Ordered again — ${ordered.balanceBefore} credits before, ${balance.balance} now` : `Ordered — ${balance.balance} credits now`
    return okView(title, facts([['Plan', balance.planName], ['Transaction', ordered.txHash ? idCode(ordered.txHash) : undefined]]))
  }
  $('#s-order').addEventListener('click', (event) => act(event.currentTarget, creditsOut, () => order({ card: false }), { what: 'Ordering the plan' }))
  $('#s-order-card').addEventListener('click', (event) => act(event.currentTarget, creditsOut, () => order({ card: true }), { what: 'Ordering with a card' }))

  $('#s-list-methods').addEventListener('click', (event) => act(event.currentTarget, $('#s-methods-out'), async () => {
    const methods = await need().payments.delegation.listPaymentMethods()
    if (!methods.length) return noticeView('No payment methods', h('p', {}, 'Add a card first (step 1, signed in with Nevermined), or enrol one in the Nevermined app.'))
    return h(
      'ul',
      { class: 'list', 'aria-label': 'Payment methods' },
      methods.map((m) => {
        const wallet = m.type === 'crypto_wallet'
        return h(
          'li',
          {},
          h('span', { class: `glyph${wallet ? ' wallet' : ''}`, 'aria-hidden': 'true' }, wallet ? 'ETH' : (m.brand ?? 'card').toUpperCase().slice(0, 4)),
          h('span', { class: 'grow' }, h('strong', {}, wallet ? 'Crypto wallet' : `${m.brand ?? 'Card'} •••• ${m.last4 ?? ''}`), h('br'), h('span', { class: 'muted small' }, wallet ? short(m.id, 10, 8) : `expires ${String(m.expMonth).padStart(2, '0')}/${m.expYear}`)),
          h('span', { class: 'tag' }, m.provider ?? m.type),
        )
      }),
    )
  }, { what: 'Listing payment methods' }))

  // ---- delegation and access token ----
  async function createDelegation(payments, provider) {
    const limit = Math.round(Number($('#s-del-limit').value) * 100)
    const hours = Number($('#s-del-hours').value)
    if (!(limit > 0) || !(hours > 0)) throw new nvm.PaymentsError({ code: 'validation', message: 'Enter a spending limit and a duration above zero' })
    const payload = { provider, spendingLimitCents: limit, durationSecs: Math.round(hours * 3600) }
    if (provider !== 'erc4337') {
      const card = (await payments.delegation.listPaymentMethods()).find((m) => m.type !== 'crypto_wallet' && (!m.provider || m.provider === provider))
      if (!card) throw new nvm.PaymentsError({ code: 'validation', message: `No ${provider} card enrolled to delegate` })
      payload.providerPaymentMethodId = card.id
    }
    const created = await payments.delegation.createDelegation(payload)
    delegations[provider] = created.delegationId
    return { created, payload }
  }
  const delegationView = ({ created, payload }, title = 'Delegation created') =>
    okView(
      title,
      facts([
        ['Delegation', h('code', {}, created.delegationId)],
        ['Pays from', payload.provider === 'erc4337' ? 'crypto wallet (erc4337)' : `card ${short(payload.providerPaymentMethodId)} (${payload.provider})`],
        ['Spending limit', `$${(payload.spendingLimitCents / 100).toFixed(2)}`],
        ['Status', created.status],
        ['Expires', created.expiresAt ? new Date(created.expiresAt).toLocaleString() : undefined],
      ]),
    )
  $('#s-delegation-form').addEventListener('submit', (event) => {
    event.preventDefault()
    act($('#s-create-delegation'), $('#s-delegation-out'), async () => delegationView(await createDelegation(need().payments, $('#s-del-provider').value)), { what: 'Creating the delegation' })
  })

  $('#s-token-form').addEventListener('submit', (event) => {
    event.preventDefault()
    act($('#s-get-token'), $('#s-token-out'), async () => {
      const { payments, plan } = need()
      const { scheme, network } = await payments.resolveScheme(plan)
      const provider = scheme === 'nvm:card-delegation' ? network : 'erc4337'
      const shown = []
      if (!delegations[provider]) {
        shown.push(delegationView(await createDelegation(payments, provider), `No delegation for ${provider} yet: created one`))
      }
      const version = Number($('#s-token-version').value)
      const options = { scheme, network, delegationConfig: { delegationId: delegations[provider] }, tokenVersion: version }
      if (version === 3) Object.assign(options, { resource: { url: agentUrl.value.trim() }, httpVerb: 'POST' })
      const { accessToken } = await payments.x402.getX402AccessToken(plan, agentId.value.trim() || undefined, options)
      shown.push(tokenView(accessToken, version))
      return shown
    }, { what: 'Getting an access token' })
  })

  /** The decoded token with its secrets (signature, card JWT, session keys) redacted. */
  function redactDecoded(decoded) {
    const copy = structuredClone(decoded)
    const p = copy?.payload
    if (!p) return copy
    if (typeof p.signature === 'string') p.signature = nvm.redactToken(p.signature)
    if (typeof p.token === 'string') p.token = nvm.redactToken(p.token)
    const hide = (value) => (typeof value === 'string' && value.length > 12 ? nvm.redactToken(value) : Array.isArray(value) ? value.map(hide) : value && typeof value === 'object' ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === 'id' ? v : hide(v)])) : value)
    if (p.authorization?.sessionKeys) p.authorization.sessionKeys = hide(p.authorization.sessionKeys)
    return copy
  }

  function tokenView(token, version) {
    const decoded = nvm.decodeAccessToken(token)
    const box = okView(`Access token v${version}`)
    const body = h('div')
    const draw = (reveal) => {
      body.replaceChildren(
        h('div', { class: 'token-line' }, h('code', { 'data-token': reveal ? 'revealed' : 'redacted' }, reveal ? token : nvm.redactToken(token)), reveal ? copyButton(token) : null),
        facts([
          ['Scheme', decoded?.accepted?.scheme],
          ['Network', decoded?.accepted?.network],
          ['Plan', idCode(decoded?.accepted?.planId)],
          ['Agent', decoded?.accepted?.extra?.agentId ? idCode(decoded.accepted.extra.agentId) : undefined],
          ['Paid by', decoded?.payload?.authorization?.from ? idCode(decoded.payload.authorization.from) : undefined],
          ['Single use', decoded?.payload?.authorization?.nonce ? 'yes (v3 nonce)' : 'no — reusable'],
        ]),
        jsonDetails(reveal ? 'Decoded token' : 'Decoded token (secrets redacted)', reveal ? decoded : redactDecoded(decoded), true),
      )
    }
    draw(false)
    box.querySelector('.result-title').append(toggle('Reveal', 'Hide', draw))
    box.append(body)
    return box
  }

  // ---- ask the agent ----
  const askOut = $('#s-ask-out')
  $('#s-ask-form').addEventListener('submit', (event) => {
    event.preventDefault()
    act($('#s-ask'), askOut, ask, { what: 'Asking the agent' })
  })

  async function ask() {
    const { payments, plan } = need()
    $('#s-credits-out').replaceChildren() // an earlier order's result no longer matches the balance
    const prompt = $('#s-prompt').value.trim()
    if (!prompt) throw new nvm.PaymentsError({ code: 'validation', message: 'Write a prompt first' })
    const url = agentUrl.value.trim()
    const agent = agentId.value.trim() || undefined
    const mode = document.querySelector('input[name="s-mode"]:checked').value
    if (mode === 'mcp') return askMcp(payments, plan, prompt)
    if (mode === 'query') {
      let answer
      try {
        answer = await payments.queryAgent({ agentUrl: url, prompt, planId: plan, agentId: agent })
      } catch (error) {
        if (error.code !== 'payment_required') throw error
        return paymentRequiredView({ status: error.httpStatus ?? 402, reason: error.message, required: error.details })
      }
      const balance = await refreshBalance()
      return okView('The agent answered', h('p', { class: 'answer' }, answerText(answer)), facts([['Credits left', `${balance.balance}`]]), jsonDetails('Answer (JSON)', answer))
    }
    const { response, paymentResponse } = await payments.fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt }) }, { planIds: [plan], agentId: agent })
    const body = await response.json().catch(() => null)
    if (response.status === 402) {
      const header = response.headers.get('payment-required')
      let required = null
      try {
        required = header ? nvm.decodePaymentHeader(header) : null
      } catch {
        required = null
      }
      return paymentRequiredView({ status: 402, reason: body?.message ?? body?.error ?? 'Payment required', required })
    }
    if (!response.ok) {
      throw Object.assign(new Error(body?.error ?? body?.message ?? `The agent answered HTTP ${response.status}`), { code: `http_${response.status}`, httpStatus: response.status })
    }
    if (paymentResponse?.remainingBalance !== undefined) {
      setFigure(paymentResponse.remainingBalance)
    }
    return okView(
      'The agent answered',
      h('p', { class: 'answer' }, answerText(body)),
      paymentResponse
        ? [
            facts([
              ['Credits spent', paymentResponse.creditsRedeemed],
              ['Credits left', h('strong', { 'data-remaining': paymentResponse.remainingBalance }, paymentResponse.remainingBalance)],
              ['Transaction', paymentResponse.transaction ? idCode(paymentResponse.transaction) : undefined],
              ['Network', paymentResponse.network],
            ]),
            jsonDetails('Decoded payment-response', paymentResponse),
          ]
        : h('p', { class: 'muted small' }, 'No payment-response: this answer was free.'),
    )
  }

  /** The MCP Worker's paid `echo` tool through payments.mcp.callTool: the token goes in params._meta["x402/payment"]. */
  async function askMcp(payments, plan, prompt) {
    const url = config.mcpUrl
    const agent = world?.mcpAgent?.agentId
    let answer
    try {
      answer = await payments.mcp.callTool({ url, name: 'echo', arguments: { text: prompt }, planId: plan, agentId: agent })
    } catch (error) {
      if (error.code !== 'payment_required') throw error
      return paymentRequiredView({ status: error.httpStatus ?? 402, reason: error.message, required: error.details })
    }
    const { result, paymentResponse } = answer
    if (paymentResponse?.remainingBalance !== undefined) setFigure(paymentResponse.remainingBalance)
    const text = (result.content ?? []).map((c) => c.text ?? '').join('\n')
    return okView(
      'The MCP tool answered',
      h('p', { class: 'answer' }, text),
      facts([
        ['Server', h('code', {}, url)],
        ['Credits spent', paymentResponse?.creditsRedeemed],
        ['Credits left', paymentResponse?.remainingBalance],
      ]),
      jsonDetails('MCP result (JSON)', result),
    )
  }

  const answerText = (answer) => (typeof answer?.answer === 'string' ? answer.answer : typeof answer === 'string' ? answer : JSON.stringify(answer))

  /** A 402: status, reason, the decoded payment-required, and "order more". */
  function paymentRequiredView({ status, reason, required }) {
    const out = h('div', { class: 'out', 'aria-live': 'polite' })
    const more = h('button', { type: 'button', class: 'btn btn-primary' }, 'Order more credits')
    more.addEventListener('click', () =>
      act(more, out, async () => {
        const { payments, plan } = need()
        const { scheme } = await payments.resolveScheme(plan)
        return order({ card: scheme === 'nvm:card-delegation' })
      }, { what: 'Ordering more' }),
    )
    const plansAccepted = required?.accepts?.map((a) => a.planId).filter(Boolean) ?? []
    return h(
      'div',
      { class: 'pay-required', role: 'alert' },
      h('div', { class: 'result-title' }, h('span', { class: 'status-badge' }, String(status)), 'Payment required'),
      h('p', {}, reason),
      facts([
        ['Accepts plan', plansAccepted.length ? plansAccepted.map((p) => idCode(p)) : undefined],
        ['Resource', required?.resource?.url ? h('code', {}, required.resource.url) : undefined],
      ]),
      required ? jsonDetails('Decoded payment-required', required) : null,
      h('div', { class: 'actions' }, more),
      out,
    )
  }

  return {
    /** Called when the subscriber signs in or out. */
    sessionChanged() {
      resetBalance()
      for (const id of ['#s-credits-out', '#s-methods-out', '#s-delegation-out', '#s-token-out', '#s-ask-out']) $(id).replaceChildren()
      for (const key of Object.keys(delegations)) delete delegations[key]
      // A card added with Sign in with Nevermined (setupCard) comes with its delegation.
      const card = getSession()?.cardSetup
      if (card) delegations.stripe = card.delegationId
    },
  }
}
