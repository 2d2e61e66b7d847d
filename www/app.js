// The demo page: loads the nvm-x402 package (/pkg/index.js), learns
// where the backend and the agent are (/config.json, written by the demo's
// server), and wires the Subscriber and Builder tabs and the shop (pay once).
import { $, errorView } from './ui.js'
import { localCall, mountSession } from './session.js'
import { mountSubscriber } from './subscriber.js'
import { mountBuilder } from './builder.js'
import { mountShop } from './shop.js'

const DEFAULTS = { backendUrl: 'http://127.0.0.1:3001/', agentUrl: 'http://127.0.0.1:8787/tasks', mcpUrl: 'http://127.0.0.1:8788/mcp' }

async function loadConfig() {
  try {
    const response = await fetch('/config.json', { cache: 'no-store' })
    if (response.ok) return { ...DEFAULTS, ...(await response.json()) }
  } catch {
    // served without the demo server: the usual ports
  }
  return DEFAULTS
}

/** Tabs with arrow-key navigation; `#builder` in the URL opens the Builder tab. */
function mountTabs() {
  const tabs = [...document.querySelectorAll('[role="tab"]')]
  const select = (tab, focus = false) => {
    for (const t of tabs) {
      const on = t === tab
      t.setAttribute('aria-selected', String(on))
      t.tabIndex = on ? 0 : -1
      document.getElementById(t.getAttribute('aria-controls')).hidden = !on
    }
    if (focus) tab.focus()
    history.replaceState(null, '', tab.id === 'tab-builder' ? '#builder' : location.pathname)
  }
  tabs.forEach((tab, i) => {
    tab.addEventListener('click', () => select(tab))
    tab.addEventListener('keydown', (event) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key]
      if (step) select(tabs[(i + step + tabs.length) % tabs.length], true)
    })
  })
  if (location.hash === '#builder') select($('#tab-builder'))
}

/** Buttons that need a signed-in role are disabled (with a reason) until then. */
function syncButtons(role, signedIn) {
  for (const button of document.querySelectorAll(`[data-needs-session="${role}"]`)) {
    if (button.getAttribute('aria-busy') === 'true') continue
    button.disabled = !signedIn
    button.title = signedIn ? '' : `Sign in as a ${role} first`
  }
}

async function checkAgent(agentUrl) {
  const status = $('#agent-status')
  try {
    const response = await fetch(new URL('/health', agentUrl), { cache: 'no-store' })
    const ok = response.ok && (await response.json()).ok === true
    status.textContent = ok ? 'online' : `answers HTTP ${response.status}`
    status.className = `status ${ok ? 'ok' : 'bad'}`
  } catch {
    status.textContent = 'not reachable'
    status.className = 'status bad'
  }
}

async function main() {
  mountTabs()
  const config = await loadConfig()
  $('#cfg-backend').textContent = config.backendUrl
  $('#cfg-agent').textContent = config.agentUrl
  checkAgent(config.agentUrl)

  let nvm
  try {
    nvm = await import('/pkg/index.js')
  } catch (error) {
    $('#main').prepend(errorView(Object.assign(new Error(`The nvm-x402 package did not load (${error.message}). Build it with scripts/build.sh.`), { code: 'not_built' }), 'Package missing'))
    return
  }
  // The seeded world of nvm-local names the demo plans and agent; elsewhere, enter them by hand.
  const world = await localCall(config, 'local/v1/demo').catch(() => null)

  const sessions = { subscriber: null, builder: null }
  const subscriber = mountSubscriber({ nvm, config, world, getSession: () => sessions.subscriber })
  const builder = mountBuilder({ nvm, getSession: () => sessions.builder })
  const tabs = { subscriber, builder }
  const cards = {}
  for (const role of ['subscriber', 'builder']) {
    syncButtons(role, false)
    cards[role] = mountSession(document.querySelector(`[data-session="${role}"]`), {
      role,
      nvm,
      config,
      onChange(session) {
        sessions[role] = session
        syncButtons(role, session !== null)
        tabs[role].sessionChanged()
      },
    })
  }
  // After the sign-in cards: a return from the order confirmation page is read with them.
  mountShop({ nvm, config, world, getBuyer: () => cards.subscriber.browser(), getMerchant: () => sessions.builder })
  // For the devtools console: the package and the signed-in clients.
  window.nvmDemo = { nvm, sessions }
  document.body.dataset.ready = 'true'
}

main()
