// A web page of the test's own that signs in with Nevermined (Payments.getBrowserInstance
// against nvm-local, which plays the web and embed apps), opened in headless Chromium:
// shared by tests/js/browser/signin.test.mjs and cards.test.mjs.
import { ROOT, startStatic, startNvmLocal, launchChromium } from './servers.mjs'

/**
 * The page: a browser instance kept as `window.payments`, and what it read on load as
 * `window.ready`. `returnUrl`: an expression (default: this page, `?tab=pay`).
 */
export const signInPage = (nvm, keyStorage, returnUrl = "location.origin + location.pathname + '?tab=pay'") => `<!doctype html><meta charset="utf-8"><title>shop</title><script type="module">
  import { Payments } from '/pkg/index.js'
  const payments = Payments.getBrowserInstance({ returnUrl: ${returnUrl}, environment: 'local', backendUrl: ${JSON.stringify(nvm)}, keyStorage: ${JSON.stringify(keyStorage)} })
  window.payments = payments
  window.ready = { loggedIn: payments.isLoggedIn, isBrowserInstance: payments.isBrowserInstance, address: payments.accountAddress ?? null, signInError: payments.signInError?.code ?? null, cardSetup: payments.cardSetupResult ?? null, cardSetupError: payments.cardSetupError?.code ?? null, href: location.href }
</script>`

/**
 * nvm-local (with `nvmArgs`), a static site serving `pages` (path -> HTML, given nvm-local's
 * URL) beside the repository, and a Chromium tab; all stopped after `t`. `seen`: every request
 * the tab makes to nvm-local. `load(url)` / `landed()`: the page's `window.ready`.
 * `signIn(account)`: connect() -> nvm-local's page -> the account's button -> back.
 */
export async function signInTab(t, { nvmArgs = [], pages }) {
  const nvm = await startNvmLocal({ args: nvmArgs })
  t.after(() => nvm.stop())
  const site = await startStatic(ROOT, Object.fromEntries(Object.entries(pages).map(([path, page]) => [path, { type: 'text/html', body: page(nvm.url) }])))
  t.after(() => site.close())
  const chromium = await launchChromium()
  t.after(() => chromium.close())
  const tab = await chromium.context.newPage()
  const seen = []
  tab.on('request', (r) => r.url().startsWith(nvm.url) && seen.push(`${r.method()} ${r.url()}`))
  const landed = async () => {
    await tab.waitForFunction(() => window.ready !== undefined, null, { timeout: 15_000 })
    return tab.evaluate(() => window.ready)
  }
  const load = async (url) => {
    await tab.goto(url)
    return landed()
  }
  const signIn = async (account) => {
    await tab.evaluate(() => window.payments.connect())
    await tab.waitForURL((u) => u.href.startsWith(`${nvm.url}login?`))
    const text = await tab.textContent('main')
    await Promise.all([tab.waitForURL((u) => u.href.startsWith(site.url)), tab.click(`button[data-account="${account}"]`)])
    return { pageText: text, ready: await landed() }
  }
  return { nvm, site, chromium, tab, seen, load, landed, signIn }
}
