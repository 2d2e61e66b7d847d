// nvm-x402's Payments (scripts/build.sh exports it from this entry in place of core.js's):
// getBrowserInstance, a web page's sign-in and card setup. This only reads and writes
// location, history and the storages; the core decides (src/protocol/signin.rs).
import { Payments as Base } from './core.js'
import { callSync } from './nvm_x402.js'
import { PaymentsError } from './errors.js'
import { ensureSync } from './loader.js'
import { toJson } from './wire.js'

const SIGN_IN = 'nvm-x402.signIn.state'
const CARD = 'nvm-x402.cardSetup.state'
const KEY = 'nvm-x402.apiKey'

const core = (name, ...args) => {
  ensureSync()
  return JSON.parse(callSync(name, toJson(args)))
}
const fail = (e) => e && new PaymentsError(e)
// What either app's return brings back (src/protocol/signin.rs RETURNED), for when the core can't say.
const RETURNED = ['nvmState', 'nvmApiKey', 'accountAddress', 'state', 'paymentMethodId', 'delegationId']
const newState = () => Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('')

export class Payments extends Base {
  static getInstance(options) {
    return new Payments(options)
  }

  /** A web page's client, signed in with Nevermined instead of a pasted key. */
  static getBrowserInstance(options) {
    const { fetch, ...json } = options ?? {}
    const session = globalThis.sessionStorage
    const saved = { sessionStorage: session?.getItem(KEY), localStorage: globalThis.localStorage?.getItem(KEY) }
    const next = newState()
    let landing
    try {
      landing = core('signInLanding', json, location.href, session?.getItem(SIGN_IN), saved, next, session?.getItem(CARD))
    } catch (error) {
      // No decision was made (bad options, a core that can't load): a key or card that came
      // back must still leave the address bar and this history entry at once, refused.
      const url = new URL(location.href)
      for (const name of RETURNED) url.searchParams.delete(name)
      if (url.href !== location.href) history.replaceState(history.state, '', url.href)
      session?.removeItem(SIGN_IN)
      session?.removeItem(CARD)
      throw error
    }
    const keep = landing.keyStorage && globalThis[landing.keyStorage]
    if (landing.url) history.replaceState(history.state, '', landing.url)
    if (landing.signInStateUsed) session.removeItem(SIGN_IN)
    if (landing.cardStateUsed) session.removeItem(CARD)
    if (landing.storeKey) keep.setItem(KEY, landing.key)
    if (landing.forgetKey) keep.removeItem(KEY)
    const payments = new Payments({ ...options, nvmApiKey: landing.key, isBrowserInstance: true })
    const own = payments[Symbol.for('nvm-x402.core')]
    Object.defineProperty(payments, 'isLoggedIn', { get: () => JSON.parse(own.info()).signedIn, enumerable: true })
    Object.assign(payments, {
      isBrowserInstance: true,
      signInError: fail(landing.signInError),
      cardSetupResult: landing.cardSetup,
      cardSetupError: fail(landing.cardSetupError),
      async setupCard(setup) {
        const state = newState()
        const minted = await payments.widgets.createSelfSession(core('cardSetup', json, setup, null, state))
        const url = core('cardSetup', json, setup, minted, state)
        session.setItem(CARD, state)
        location.assign(url)
      },
      connect() {
        session.setItem(SIGN_IN, next)
        location.assign(landing.signInUrl)
      },
      logout() {
        keep?.removeItem(KEY)
        own.signOut()
      },
    })
    return payments
  }
}
