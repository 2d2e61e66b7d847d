// The sign-in card of a role (subscriber or builder): for the subscriber first
// "Sign in with Nevermined" (the package's browser instance: the environment's
// web app, nvm-local's /login for local), then an API key (pasted, the seeded
// demo account of nvm-local, or a new local account); the environment picker,
// and who is signed in. It owns that role's Payments client.
import { act, cloneTemplate, errorView, facts, h, okView } from './ui.js'

/** Prefixes the package recognises (backend-api.md: "Environments and keys"). */
const KNOWN_PREFIXES = { sandbox: 'sandbox', live: 'live', 'sandbox-staging': 'staging_sandbox', 'live-staging': 'staging_live', local: 'local' }

const ROLE_TEXT = {
  subscriber: { title: 'Sign in as a subscriber', sub: 'Sign in with your Nevermined account, or use an API key (pasted, or the seeded subscriber of nvm-local).', demo: 'Use the local demo subscriber' },
  builder: { title: 'Sign in as a builder', sub: 'Paste an API key, or use the seeded builder of nvm-local (it owns the demo plans and agent).', demo: 'Use the local demo builder' },
}

/**
 * Sign in with Nevermined keeps the key in this tab's sessionStorage (the
 * package's `keyStorage: 'sessionStorage'`): a reload stays signed in, closing
 * the tab or Sign out forgets it. The package's default, memory, would sign a
 * reload out; a demo is easier to follow this way. The environment the
 * sign-in was started for is kept next to it, so the return is read for it.
 */
const KEY_STORAGE = 'sessionStorage'
const SIGN_IN_ENVIRONMENT = 'nvm-demo.signInEnvironment'

/** nvm-local's local-only endpoints (the only calls the page makes without the package). */
export async function localCall(config, path, body) {
  const init = body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }
  let response
  try {
    response = await fetch(new URL(path, config.backendUrl), init)
  } catch (cause) {
    throw Object.assign(new Error(`nvm-local is not reachable at ${config.backendUrl} (start it with scripts/demo.sh)`), { code: 'network_error', cause })
  }
  const json = await response.json().catch(() => null)
  if (!response.ok) throw Object.assign(new Error(json?.message ?? `nvm-local answered HTTP ${response.status}`), { code: json?.code ?? `http_${response.status}`, httpStatus: response.status })
  return json
}

/**
 * Mounts the sign-in card of `role` into `host`. `nvm` is the package;
 * `onChange(session | null)` is called on sign-in and sign-out, where a
 * session is `{payments, address, environment, backendUrl, key, why}` (`key`
 * null when signed in with Nevermined: the package keeps it). Returns
 * `{browser()}`: the subscriber's browser instance (signed in or not), or null.
 */
export function mountSession(host, { role, nvm, config, onChange }) {
  const text = ROLE_TEXT[role]
  const { fragment, part } = cloneTemplate('session-template', role)
  part('title').textContent = text.title
  part('sub').textContent = text.sub
  part('demo').textContent = text.demo
  const card = fragment.querySelector('[data-role-card]')
  card.setAttribute('aria-labelledby', `${role}-h`)
  host.replaceChildren(fragment)

  const key = part('key')
  const env = part('env')
  const customUrl = part('custom-url')
  const out = part('out')
  let session = null
  let revealed = false

  env.addEventListener('change', () => (part('custom').hidden = env.value !== 'custom'))
  part('show-key').addEventListener('click', (event) => {
    const show = key.type === 'password'
    key.type = show ? 'text' : 'password'
    event.currentTarget.setAttribute('aria-pressed', String(show))
    event.currentTarget.textContent = show ? 'Hide' : 'Show'
  })

  /** A client for the key: the key's prefix picks the environment; nvm-local is wherever this demo runs it. */
  function connect(apiKey) {
    const options = { nvmApiKey: apiKey, environment: env.value }
    if (env.value === 'custom') {
      if (!customUrl.value.trim()) throw new nvm.PaymentsError({ code: 'validation', message: 'Enter the backend URL of the custom environment' })
      options.backendUrl = customUrl.value.trim()
    }
    let payments = nvm.Payments.getInstance(options)
    if (payments.environment === 'local' && payments.backendUrl !== config.backendUrl && !options.backendUrl) {
      payments = nvm.Payments.getInstance({ ...options, backendUrl: config.backendUrl })
    }
    const prefix = apiKey.includes(':') ? apiKey.slice(0, apiKey.indexOf(':')).toLowerCase() : ''
    const fromPrefix = prefix in KNOWN_PREFIXES
    return {
      payments,
      key: apiKey,
      address: payments.accountAddress,
      environment: payments.environment,
      backendUrl: payments.backendUrl,
      why: fromPrefix
        ? KNOWN_PREFIXES[prefix] === env.value
          ? `from the key's ${prefix}: prefix`
          : `the key's ${prefix}: prefix wins over the picker (${env.value})`
        : 'from the picker',
    }
  }

  function render() {
    const signedIn = session !== null
    part('form').hidden = signedIn
    part('who').hidden = !signedIn
    if (!signedIn) return
    part('address').textContent = session.address ?? '(the key names no account)'
    part('address').title = session.address ?? ''
    part('environment').replaceChildren(h('strong', {}, session.environment), h('span', { class: 'muted' }, ` · ${session.why}`))
    part('backend').textContent = session.backendUrl
    part('how').textContent = session.key === null ? `with Nevermined · the key is kept in this tab's ${KEY_STORAGE}` : 'with an API key · kept in this page only'
    part('key-row').hidden = session.key === null
    part('add-card').hidden = session.key !== null
    part('card-hint').hidden = session.key !== null
    if (session.key !== null) part('key-shown').textContent = revealed ? session.key : nvm.redactToken(session.key)
  }

  /** Signs in with `apiKey`; throws the package's error for a bad key. */
  function signIn(apiKey) {
    session = connect(apiKey.trim())
    key.value = ''
    key.type = 'password'
    revealed = false
    part('reveal-key').setAttribute('aria-pressed', 'false')
    part('reveal-key').textContent = 'Reveal'
    render()
    onChange(session)
  }

  part('form').addEventListener('submit', (event) => {
    event.preventDefault()
    out.replaceChildren()
    try {
      signIn(key.value)
    } catch (error) {
      out.replaceChildren(errorView(error, 'Sign-in failed'))
    }
  })
  part('demo').addEventListener('click', (event) =>
    act(event.currentTarget, out, async () => {
      const world = await localCall(config, 'local/v1/demo')
      env.value = 'local'
      signIn(world.accounts[role].apiKey)
    }, { what: 'Demo sign-in' }),
  )
  part('new-account').addEventListener('click', (event) =>
    act(event.currentTarget, out, async () => {
      const name = `${role}-${crypto.randomUUID().slice(0, 8)}`
      const account = await localCall(config, 'local/v1/accounts', { name })
      env.value = 'local'
      signIn(account.apiKey)
    }, { what: 'Creating an account' }),
  )
  part('reveal-key').addEventListener('click', (event) => {
    revealed = !revealed
    event.currentTarget.setAttribute('aria-pressed', String(revealed))
    event.currentTarget.textContent = revealed ? 'Hide' : 'Reveal'
    render()
  })
  part('sign-out').addEventListener('click', () => {
    if (session?.key === null) browser.logout() // every later call of that client: not_logged_in, nothing sent
    session = null
    render()
    onChange(null)
    key.focus()
  })
  // ---- Sign in with Nevermined (the subscriber's first choice) ----
  let browser = null // the package's browser instance
  let browserEnvironment = null

  /** A browser instance for `environment`; on a return from the web app it takes the key (or refuses it) and cleans the address bar. */
  function browserInstance(environment) {
    const options = { returnUrl: location.origin + location.pathname, environment, keyStorage: KEY_STORAGE }
    if (environment === 'local') options.backendUrl = config.backendUrl
    if (environment === 'custom') options.backendUrl = customUrl.value.trim()
    browser = nvm.Payments.getBrowserInstance(options)
    browserEnvironment = environment
    return browser
  }

  if (role === 'subscriber') {
    part('nevermined').hidden = false
    part('or').hidden = false
    part('sign-in').classList.remove('btn-primary')
    const hint = () => {
      const where = env.value === 'local' ? `nvm-local's sign-in page (${new URL('login', config.backendUrl).href})` : env.value === 'custom' ? "the custom environment's web app" : `the Nevermined web app (${env.value})`
      part('connect-hint').textContent = `You choose an account on ${where} and come back here signed in; no key to paste. The key stays in this tab's ${KEY_STORAGE} until you sign out or close the tab.`
    }
    env.addEventListener('change', hint)
    const started = sessionStorage.getItem(SIGN_IN_ENVIRONMENT)
    if (started && [...env.options].some((o) => o.value === started)) env.value = started
    hint()
    try {
      browserInstance(env.value)
      if (browser.signInError) out.replaceChildren(errorView(browser.signInError, 'Sign in with Nevermined: the return was refused'))
      if (browser.cardSetupError) out.append(errorView(browser.cardSetupError, 'Adding a card: the return was refused'))
      const card = browser.cardSetupResult
      if (card) out.append(okView('Card added', facts([['Card', h('code', { 'data-card': 'paymentMethodId' }, card.paymentMethodId)], ['Delegation', h('code', { 'data-card': 'delegationId' }, card.delegationId)]]), h('p', { class: 'small' }, 'The delegation pays card plans: Get access token (step 5) uses it.')))
      if (browser.isLoggedIn) {
        session = { payments: browser, key: null, address: browser.accountAddress, environment: browser.environment, backendUrl: browser.backendUrl, why: 'chosen at sign-in', cardSetup: card ?? null }
        onChange(session)
      }
    } catch (error) {
      out.replaceChildren(errorView(error, 'Sign in with Nevermined is unavailable'))
    }
    part('card-hint').textContent = "Add a card: enroll a test card and set its spending limit on the embed app's card page (nvm-local's /cards/setup for local), and come back here with the card and its delegation."
    part('add-card').addEventListener('click', (event) => act(event.currentTarget, out, () => browser.setupCard(), { what: 'Adding a card' }))
    part('connect').addEventListener('click', () => {
      out.replaceChildren()
      try {
        if (!browser || browserEnvironment !== env.value || env.value === 'custom') browserInstance(env.value)
        sessionStorage.setItem(SIGN_IN_ENVIRONMENT, env.value)
        browser.connect()
      } catch (error) {
        out.replaceChildren(errorView(error, 'Sign in with Nevermined failed'))
      }
    })
  }
  render()
  return { browser: () => browser }
}
