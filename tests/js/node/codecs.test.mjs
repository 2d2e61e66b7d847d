// The pure codecs: access tokens, PaymentRequired, the payment headers
// (against the x402 v2 HTTP spec vectors) and redaction.
import test from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { PaymentsError, buildPaymentRequired, buildPaymentRequiredForPlans, decodeAccessToken, decodePaymentHeader, detectAccessTokenVersion, encodeAccessToken, encodePaymentHeader, isAccessTokenAlreadyUsed, isSingleUseAccessToken, redactToken, tryDecodeAccessToken } from 'nvm-x402'
import * as agent from 'nvm-x402/agent'
import * as a2aClient from 'nvm-x402/a2a-client'
import { ROOT } from '../support/servers.mjs'
import { backendFor, clientFor, paymentsError } from '../support/nvm.mjs'

const VECTORS = JSON.parse(readFileSync(join(ROOT, 'tests/vectors/x402-v2-http-spec.json'), 'utf8'))

// A token whose JSON (non-ASCII and '?>' included) encodes differently in the
// standard and URL-safe alphabets, and needs padding.
const SAMPLE = {
  x402Version: 2,
  accepted: { scheme: 'nvm:erc4337', network: 'eip155:84532', planId: '123', extra: { version: '1', agentId: 'agent-1', httpVerb: 'POST' } },
  payload: { signature: '0xabc', authorization: { from: '0xsub', sessionKeysProvider: 'zerodev', sessionKeys: [{ id: 'k?>', data: 'ü€~~~' }], nonce: 'n-1' } },
  extensions: {},
}
const SAMPLE_JSON = JSON.stringify(SAMPLE)
const STD_PADDED = Buffer.from(SAMPLE_JSON).toString('base64')
const URL_UNPADDED = Buffer.from(SAMPLE_JSON).toString('base64url')

test('the sample exercises both alphabets and padding', () => {
  assert.match(STD_PADDED, /[+/]/)
  assert.match(STD_PADDED, /=$/)
  assert.match(URL_UNPADDED, /[-_]/)
})

test('encodeAccessToken: unpadded base64url of the compact JSON, key order kept', () => {
  const token = encodeAccessToken(SAMPLE)
  assert.equal(token, URL_UNPADDED)
  assert.doesNotMatch(token, /[=+/]/)
  const reordered = { extensions: {}, x402Version: 2 }
  assert.equal(encodeAccessToken(reordered), Buffer.from(JSON.stringify(reordered)).toString('base64url'))
})

test('encodeAccessToken: bigints become decimal strings; a non-object is a validation error', async () => {
  assert.deepEqual(decodeAccessToken(encodeAccessToken({ accepted: { planId: 2n ** 200n } })), { accepted: { planId: (2n ** 200n).toString() } })
  for (const value of [undefined, null, 'x', 5, [1]]) await paymentsError(() => encodeAccessToken(value), { code: 'validation' })
})

test('decodeAccessToken: padded/unpadded, standard/url-safe variants all decode to the object', () => {
  const variants = [URL_UNPADDED, STD_PADDED, STD_PADDED.replace(/=+$/, ''), URL_UNPADDED + '='.repeat((4 - (URL_UNPADDED.length % 4)) % 4)]
  assert.equal(new Set(variants).size, 4)
  for (const variant of variants) assert.deepEqual(decodeAccessToken(variant), SAMPLE, variant)
  assert.equal(JSON.stringify(decodeAccessToken(URL_UNPADDED)), SAMPLE_JSON, 'key order survives')
  assert.equal(encodeAccessToken(decodeAccessToken(STD_PADDED)), URL_UNPADDED, 'a decode/encode round trip is stable')
})

const b64 = (text) => Buffer.from(text).toString('base64url')
const HUGE_VALID = b64(JSON.stringify({ pad: 'x'.repeat(64 * 1024) }))

// [input, tryDecodeAccessToken reason]
const NOT_TOKENS = [
  [123, 'token_not_string'],
  [null, 'token_not_string'],
  [undefined, 'token_not_string'],
  [{ accepted: {} }, 'token_not_string'],
  [['e30'], 'token_not_string'],
  [true, 'token_not_string'],
  ['', 'token_empty'],
  [' ', 'token_not_base64'],
  ['\t\n', 'token_not_base64'],
  [' e30', 'token_not_base64'],
  ['e30 ', 'token_not_base64'],
  ['e30\n', 'token_not_base64'],
  [`${URL_UNPADDED.slice(0, 10)} ${URL_UNPADDED.slice(10)}`, 'token_not_base64'],
  ['!!!!', 'token_not_base64'],
  ['e', 'token_not_base64'],
  ['e30===', 'token_not_base64'],
  ['Bearer e30', 'token_not_base64'],
  [Buffer.from([0xff, 0xfe, 0x00]).toString('base64url'), 'token_not_utf8'],
  [b64('{not json'), 'token_not_json'],
  [b64('{"a":1}x'), 'token_not_json'],
  [b64('123'), 'token_not_object'],
  [b64('"str"'), 'token_not_object'],
  [b64('[1,2]'), 'token_not_object'],
  [b64('null'), 'token_not_object'],
  ['A'.repeat(64 * 1024 + 1), 'token_too_long'],
  [HUGE_VALID, 'token_too_long'],
]

test('decodeAccessToken never throws: null for non-strings, garbage, whitespace, non-objects and huge input', () => {
  for (const [input] of NOT_TOKENS) {
    let out
    assert.doesNotThrow(() => {
      out = decodeAccessToken(input)
    }, String(input).slice(0, 30))
    assert.equal(out, null, String(input).slice(0, 30))
  }
  assert.equal(decodeAccessToken(), null)
  assert.deepEqual(decodeAccessToken('e30'), {})
})

test('decodeAccessToken and tryDecodeAccessToken never throw, even for values JSON cannot serialise', () => {
  const circular = { accepted: {} }
  circular.self = circular
  const hostile = { toJSON() { throw new Error('no') } }
  for (const input of [circular, hostile, Symbol('t'), () => 'e30', 10n]) {
    assert.equal(decodeAccessToken(input), null, typeof input)
    assert.deepEqual(tryDecodeAccessToken(input).reason, 'token_not_string', typeof input)
  }
})

test('decodeAccessToken and tryDecodeAccessToken never throw on strings with lone surrogates (audit #9.8)', () => {
  for (const input of ['\ud800', '\udfff', `e30\ud800`, `${URL_UNPADDED}\udc00`, '\ud800\ud800']) {
    assert.equal(decodeAccessToken(input), null, JSON.stringify(input))
    assert.deepEqual(tryDecodeAccessToken(input), { ok: false, reason: 'token_not_base64', message: tryDecodeAccessToken(input).message })
    assert.equal(typeof tryDecodeAccessToken(input).message, 'string')
  }
  assert.deepEqual(decodeAccessToken('e30'), {}, 'and the next call still works')
})

test('decodeAccessToken: deeply nested JSON is refused, not a stack overflow', () => {
  const deep = b64(`{"a":${'['.repeat(10_000)}1${']'.repeat(10_000)}}`)
  assert.equal(decodeAccessToken(deep), null)
  assert.equal(tryDecodeAccessToken(deep).reason, 'token_not_json')
})

test('tryDecodeAccessToken: {ok:true, token} or {ok:false, reason, message}', () => {
  assert.deepEqual(tryDecodeAccessToken(URL_UNPADDED), { ok: true, token: SAMPLE })
  for (const [input, reason] of NOT_TOKENS) {
    const out = tryDecodeAccessToken(input)
    assert.equal(out.ok, false)
    assert.equal(out.reason, reason, String(input).slice(0, 30))
    assert.equal(typeof out.message, 'string')
    assert.ok(out.message.length > 0)
    assert.deepEqual(Object.keys(out), ['ok', 'reason', 'message'])
    if (typeof input === 'string' && input.length > 10) assert.ok(!out.message.includes(input), 'the message does not echo the input')
  }
})

test('buildPaymentRequired: defaults, absent fields omitted (not null), extra.version "1"', () => {
  assert.equal(
    JSON.stringify(buildPaymentRequired('123', { endpoint: '/x' })),
    '{"x402Version":2,"resource":{"url":"/x"},"accepts":[{"scheme":"nvm:erc4337","network":"eip155:84532","planId":"123","extra":{"version":"1"}}],"extensions":{}}',
  )
  assert.deepEqual(buildPaymentRequired('7'), { x402Version: 2, resource: { url: '' }, accepts: [{ scheme: 'nvm:erc4337', network: 'eip155:84532', planId: '7', extra: { version: '1' } }], extensions: {} })
  assert.deepEqual(buildPaymentRequired(7n), buildPaymentRequired('7'))
})

test('buildPaymentRequired: every option, in wire order; httpVerb upper-cased; card delegation defaults to stripe', () => {
  const options = { endpoint: 'https://agent.example/tasks', agentId: 'ag', httpVerb: 'post', network: 'eip155:8453', description: 'Tasks', mimeType: 'application/json', scheme: 'nvm:erc4337' }
  assert.equal(
    JSON.stringify(buildPaymentRequired('9', options)),
    JSON.stringify({
      x402Version: 2,
      resource: { url: options.endpoint, description: options.description, mimeType: options.mimeType },
      accepts: [{ scheme: options.scheme, network: options.network, planId: '9', extra: { version: '1', agentId: options.agentId, httpVerb: 'POST' } }],
      extensions: {},
    }),
  )
  assert.deepEqual(buildPaymentRequired('9', { scheme: 'nvm:card-delegation' }).accepts[0], { scheme: 'nvm:card-delegation', network: 'stripe', planId: '9', extra: { version: '1' } })
  assert.deepEqual(buildPaymentRequired('9', { agentId: ' ', httpVerb: '', network: '' }).accepts[0], { scheme: 'nvm:erc4337', network: 'eip155:84532', planId: '9', extra: { version: '1' } })
})

test('buildPaymentRequiredForPlans: one accepts entry per plan, in order', async () => {
  const ids = ['1', 2, 3n]
  const pr = buildPaymentRequiredForPlans(ids, { endpoint: '/t', agentId: 'a', httpVerb: 'GET' })
  assert.deepEqual(pr.accepts.map((a) => a.planId), ids.map(String))
  for (const entry of pr.accepts) assert.deepEqual(entry.extra, { version: '1', agentId: 'a', httpVerb: 'GET' })
  assert.deepEqual(pr.resource, { url: '/t' })
  assert.deepEqual(buildPaymentRequiredForPlans(['5'], { endpoint: '/t' }), buildPaymentRequired('5', { endpoint: '/t' }))
  await paymentsError(() => buildPaymentRequiredForPlans(['1', ' ']), { code: 'validation' })
  await paymentsError(() => buildPaymentRequired(''), { code: 'validation' })
  await paymentsError(() => buildPaymentRequired('1', { endpoint: 5 }), { code: 'validation' })
})

test('buildPaymentRequiredForPlans([]): one entry with an empty planId (the official SDK\'s), which offers nothing payable', async (t) => {
  const pr = buildPaymentRequiredForPlans([], { endpoint: 'mcp://x' })
  assert.equal(pr.accepts.length, 1)
  assert.equal(pr.accepts[0].planId, '')
  assert.deepEqual(pr.resource, { url: 'mcp://x' })
  // The paying client finds nothing to pay in it, even with anyPlan: no mint, the 402 is the answer.
  const backend = await backendFor(t)
  const agent = async () => new Response('{}', { status: 402, headers: { 'payment-required': encodePaymentHeader(pr) } })
  const paying = clientFor(backend, { fetch: async (input, init) => (input instanceof Request ? agent() : fetch(input, init)) })
  const { response } = await paying.fetch('http://127.0.0.1:9/agent', { method: 'POST' }, { anyPlan: true })
  assert.equal(response.status, 402)
  assert.equal(backend.requests.length, 0, 'nothing minted')
})

test('payment headers: every x402 v2 HTTP spec vector decodes to exactly its JSON and re-encodes to exactly its header', () => {
  assert.ok(VECTORS.cases.length >= 4)
  for (const vector of VECTORS.cases) {
    const decoded = decodePaymentHeader(vector.value)
    assert.deepEqual(decoded, vector.decoded, vector.case)
    assert.equal(JSON.stringify(decoded), JSON.stringify(vector.decoded), `${vector.case}: key order`)
    assert.equal(encodePaymentHeader(decoded), vector.value, vector.case)
    assert.equal(encodePaymentHeader(vector.decoded), vector.value, vector.case)
  }
})

test('payment headers: a PaymentRequired and a settle result round-trip as standard padded base64', () => {
  const pr = buildPaymentRequired('1', { endpoint: 'https://agent.example/ü?q=1', httpVerb: 'POST' })
  const header = encodePaymentHeader(pr)
  assert.equal(header, Buffer.from(JSON.stringify(pr)).toString('base64'))
  assert.deepEqual(decodePaymentHeader(header), pr)
  assert.deepEqual(decodePaymentHeader(header.replace(/=+$/, '')), pr, 'unpadded is accepted too')
  const receipt = { success: true, transaction: '0x1', network: 'eip155:84532', creditsRedeemed: 2n }
  assert.deepEqual(decodePaymentHeader(encodePaymentHeader(receipt)), { ...receipt, creditsRedeemed: '2' })
})

test('decodePaymentHeader throws validation for anything that is not base64 of a JSON object', async () => {
  for (const header of ['', ' e30=', 'MTIz', b64('[1]'), '!!!', 'A'.repeat(64 * 1024 + 1)]) {
    const error = await paymentsError(() => decodePaymentHeader(header), { code: 'validation' })
    assert.match(error.message, /^Invalid payment header/)
  }
  for (const header of [undefined, null, 5, {}]) await paymentsError(() => decodePaymentHeader(header), { code: 'validation', message: /must be a string/ })
  await paymentsError(() => encodePaymentHeader(), { code: 'validation' })
})

test('redactToken: at most the first 6 and last 4 characters; short or non-string secrets fully hidden', () => {
  for (const secret of [URL_UNPADDED, 'sandbox:' + 'x'.repeat(100) + 'tail', 'abcdefghijklmnopqrst']) {
    assert.equal(redactToken(secret), `${secret.slice(0, 6)}…${secret.slice(-4)}`)
  }
  for (const secret of ['', 'short', 'abcdefghijklmnopqrs', undefined, null, 42]) assert.equal(redactToken(secret), '[redacted]')
  const emoji = '😀'.repeat(25)
  assert.equal(redactToken(emoji), `${'😀'.repeat(6)}…${'😀'.repeat(4)}`)
})

// payments-py's v3 helpers (payments_py.x402.token, payments_py.x402.errors).
const withNonce = (nonce) => encodeAccessToken({ ...SAMPLE, payload: { ...SAMPLE.payload, authorization: { ...SAMPLE.payload.authorization, nonce } } })

test('detectAccessTokenVersion / isSingleUseAccessToken: v3 exactly when payload.authorization.nonce is a string with more than whitespace', () => {
  const minted = withNonce('0x' + 'ab'.repeat(32)) // what the backend mints: 0x and 32 random bytes
  for (const token of [minted, Buffer.from(JSON.stringify(decodeAccessToken(minted))).toString('base64')]) {
    assert.equal(detectAccessTokenVersion(token), 3)
    assert.equal(isSingleUseAccessToken(token), true)
  }
  const { nonce, ...withoutNonce } = SAMPLE.payload.authorization
  const v2 = encodeAccessToken({ ...SAMPLE, payload: { ...SAMPLE.payload, authorization: withoutNonce } })
  for (const token of [v2, withNonce(''), withNonce('  \t\n'), withNonce(7), withNonce(null), withNonce({ value: nonce })]) {
    assert.equal(detectAccessTokenVersion(token), 2, decodeAccessToken(token).payload.authorization.nonce)
    assert.equal(isSingleUseAccessToken(token), false)
  }
})

test('the v3 helpers are nvm-x402\'s (the other entries\' cores leave them out)', () => {
  for (const entry of [agent, a2aClient]) {
    for (const name of ['detectAccessTokenVersion', 'isSingleUseAccessToken', 'isAccessTokenAlreadyUsed']) assert.equal(entry[name], undefined, name)
  }
})

test('the v3 helpers never throw: anything undecodable is a reusable (v2) token', () => {
  const circular = {}
  circular.self = circular
  for (const input of [undefined, null, '', 'garbage', 'MTIz', ' e30', 42, 10n, {}, circular, Symbol('t'), () => 'e30', '\ud800', 'e30\udfff']) {
    assert.equal(detectAccessTokenVersion(input), 2, typeof input)
    assert.equal(isSingleUseAccessToken(input), false, typeof input)
    assert.equal(isAccessTokenAlreadyUsed(input), false, typeof input)
  }
})

test('isAccessTokenAlreadyUsed: the backend refusing a single-use token settled before (BCK.X402.0059), by its code', async (t) => {
  const backend = await backendFor(t)
  backend.respond('POST', '/api/v1/x402/settle', { status: 402, json: { code: 'BCK.X402.0059', message: 'A single-use (v3) token was already settled.' } })
  const payments = clientFor(backend)
  const refused = await paymentsError(payments.facilitator.settlePermissions({ paymentRequired: buildPaymentRequired('123', { endpoint: '/x' }), x402AccessToken: withNonce('0x1'), maxAmount: 1n }), { code: 'BCK.X402.0059' })
  assert.equal(isAccessTokenAlreadyUsed(refused), true)
  assert.match(refused.hint, /mint a new token/)
  // By the code, as payments-py's: an error from another copy of the package, or a plain object, too.
  assert.equal(isAccessTokenAlreadyUsed({ code: 'BCK.X402.0059' }), true)
  for (const other of [new PaymentsError({ code: 'BCK.X402.0005', message: 'invalid' }), { code: 'bck.x402.0059' }, { details: { code: 'BCK.X402.0059' } }, new Error('BCK.X402.0059'), 'BCK.X402.0059']) {
    assert.equal(isAccessTokenAlreadyUsed(other), false, JSON.stringify(other))
  }
})
