// Every URL decision of the package agrees with the WHATWG parser that fetch
// uses (issue #9, item 5): on a corpus of host-confusion tricks, a backend URL
// is accepted exactly when `new URL` reads it as https, or http to this
// machine, and is then called at the host `new URL` names.
import test from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Payments } from 'nvm-x402'
import { KEY, paymentsError } from '../support/nvm.mjs'
import { ROOT } from '../support/servers.mjs'

const { urls } = JSON.parse(readFileSync(join(ROOT, 'tests/vectors/urls.json'), 'utf8'))

/** The reference: what fetch would do with an API key sent to `text`. */
function reference(text) {
  let url
  try {
    url = new URL(text)
  } catch {
    return { ok: false }
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { ok: false }
  // We also refuse credentials, a query or a fragment in a backend URL (nothing legitimate has them).
  if (url.username || url.password || url.search || url.hash || text.includes('?') || text.includes('#')) return { ok: false }
  const loopback = url.hostname === 'localhost' || /^127\.\d+\.\d+\.\d+$/.test(url.hostname) || url.hostname === '[::1]'
  return { ok: url.protocol === 'https:' || loopback, url }
}

/** Whether percent-decoding leaves something that is not ASCII (IDNA: we refuse rather than map). */
const needsIdna = (text) => /[^\x00-\x7f]/.test(decodeURIComponentLoose(text))
function decodeURIComponentLoose(text) {
  return text.replace(/%([0-9a-f]{2})/gi, (_, h) => String.fromCharCode(parseInt(h, 16)))
}

test('backendUrl: accepted exactly where new URL reads https or loopback http, and stored as new URL reads it', () => {
  let accepted = 0
  for (const text of urls) {
    const expected = reference(text)
    let ours
    try {
      ours = { ok: true, payments: Payments.getInstance({ nvmApiKey: KEY, backendUrl: text }) }
    } catch (error) {
      ours = { ok: false, code: error.code }
    }
    if (expected.ok) {
      if (!ours.ok && needsIdna(text)) continue // the documented difference: fail closed
      assert.ok(ours.ok, `${JSON.stringify(text)}: new URL reads ${expected.url?.href}, we refused (${ours.code})`)
      const stored = new URL(ours.payments.backendUrl)
      assert.equal(stored.host, expected.url.host, JSON.stringify(text))
      assert.equal(stored.protocol, expected.url.protocol, JSON.stringify(text))
      accepted++
    } else {
      assert.ok(!ours.ok, `${JSON.stringify(text)}: accepted as ${ours.payments?.backendUrl}, but fetch would send the key to ${reference(text).url?.host ?? 'nowhere'}`)
    }
  }
  assert.ok(accepted > 30, `only ${accepted} corpus URLs were accepted`)
})

test('the audit case: a backslash before @ sends the key to evil.example, so it is refused', async () => {
  assert.equal(new URL('http://evil.example\\@127.0.0.1/').host, 'evil.example')
  await paymentsError(() => Payments.getInstance({ nvmApiKey: KEY, backendUrl: 'http://evil.example\\@127.0.0.1/' }), { code: 'insecure_transport', message: /evil\.example/ })
})
