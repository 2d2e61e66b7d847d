// The official SDK's A2A x402 in-band helpers (X402A2AUtils, the metadata keys, the
// payment stages, the agent-card constants), written from what its
// tests/unit/a2a/x402-a2a.test.ts asserts; in nvm-x402, nvm-x402/a2a and nvm-x402/a2a-client.
import test from 'node:test'
import assert from 'node:assert/strict'
import * as root from 'nvm-x402'
import * as a2a from 'nvm-x402/a2a'
import * as a2aClient from 'nvm-x402/a2a-client'
import * as agent from 'nvm-x402/agent'
import { A2APaymentStatus, X402A2AMetadata, X402A2AUtils, X402_SETTLEMENT_DEFERRED_KEY, decodeAccessToken, encodeAccessToken, x402A2AUtils } from 'nvm-x402'

const emptyTask = () => ({ kind: 'task', id: 't-1', contextId: 'c-1', status: { state: 'submitted' } })
const messageWith = (metadata) => ({ kind: 'message', messageId: 'm-1', role: 'user', parts: [], metadata })

test('the a2a-x402 metadata keys, the payment stages and the card constants are the official values, in the A2A entries and the root', () => {
  assert.deepEqual({ ...X402A2AMetadata }, { STATUS_KEY: 'x402.payment.status', REQUIRED_KEY: 'x402.payment.required', PAYLOAD_KEY: 'x402.payment.payload', RECEIPTS_KEY: 'x402.payment.receipts', ERROR_KEY: 'x402.payment.error' })
  assert.deepEqual(Object.values(A2APaymentStatus), ['payment-required', 'payment-submitted', 'payment-verified', 'payment-rejected', 'payment-completed', 'payment-failed'])
  assert.equal(X402_SETTLEMENT_DEFERRED_KEY, 'x402.payment.settlement')
  assert.equal(root.A2A_X402_EXTENSION_URI, 'https://github.com/google-agentic-commerce/a2a-x402/blob/main/spec/v0.2')
  assert.equal(root.NVM_PAYMENT_EXTENSION_URI, 'urn:nevermined:payment')
  assert.equal(root.AGENT_CARD_WELL_KNOWN_PATH, '.well-known/agent-card.json')
  assert.equal(root.LEGACY_AGENT_CARD_WELL_KNOWN_PATH, '.well-known/agent.json')
  assert.equal(X402A2AUtils.STATUS_KEY, X402A2AMetadata.STATUS_KEY)
  assert.ok(x402A2AUtils instanceof X402A2AUtils)
  for (const entry of [a2a, a2aClient]) {
    for (const name of ['X402A2AUtils', 'x402A2AUtils', 'X402A2AMetadata', 'A2APaymentStatus', 'X402_SETTLEMENT_DEFERRED_KEY', 'A2A_X402_EXTENSION_URI', 'AGENT_CARD_WELL_KNOWN_PATH']) assert.ok(entry[name] !== undefined, name)
  }
  assert.equal(agent.X402A2AUtils, undefined)
})

test('reads: status, payment-required and payload of a task status message', () => {
  for (const utils of [new X402A2AUtils(), new a2a.X402A2AUtils(), new a2aClient.X402A2AUtils()]) {
    const required = { x402Version: 2, resource: { url: '' }, accepts: [], extensions: {} }
    const payload = { x402Version: 2, payload: { signature: '0x1' } }
    const task = { kind: 'task', id: 't', contextId: 'c', status: { state: 'input-required', message: messageWith({ [X402A2AMetadata.STATUS_KEY]: A2APaymentStatus.PAYMENT_REQUIRED, [X402A2AMetadata.REQUIRED_KEY]: required, [X402A2AMetadata.PAYLOAD_KEY]: payload }) } }
    assert.equal(utils.getPaymentStatus(task), 'payment-required')
    // The caller's own objects come back (not copies).
    assert.equal(utils.getPaymentRequirements(task), required)
    assert.equal(utils.getPaymentPayload(task), payload)
  }
})

test('reads: absent, non-object, array, null, oversized or ill-shaped metadata is undefined', () => {
  const utils = new X402A2AUtils()
  assert.equal(utils.getPaymentStatus(emptyTask()), undefined)
  assert.equal(utils.getPaymentStatus(null), undefined)
  assert.equal(utils.getPaymentStatusFromMessage(messageWith({ [X402A2AMetadata.STATUS_KEY]: 7 })), undefined)
  assert.equal(utils.getPaymentPayloadFromMessage(messageWith({})), undefined)
  assert.equal(utils.getPaymentPayloadFromMessage({ metadata: [1] }), undefined)
  for (const value of [[1, 2], null, 'token', { blob: 'x'.repeat(70 * 1024) }]) {
    assert.equal(utils.getPaymentPayloadFromMessage(messageWith({ [X402A2AMetadata.PAYLOAD_KEY]: value })), undefined, JSON.stringify(value)?.slice(0, 40))
  }
  // Just under the limit is read.
  const near = { blob: 'x'.repeat(60 * 1024) }
  assert.equal(utils.getPaymentPayloadFromMessage(messageWith({ [X402A2AMetadata.PAYLOAD_KEY]: near })), near)
  for (const value of [{ foo: 'bar' }, { x402Version: 2, accepts: {} }, { x402Version: '2', accepts: [] }, [], null]) {
    assert.equal(utils.getPaymentRequirementsFromMessage(messageWith({ [X402A2AMetadata.REQUIRED_KEY]: value })), undefined, JSON.stringify(value))
  }
  const ok = { x402Version: 2, resource: { url: '/x' }, accepts: [], extensions: {} }
  assert.deepEqual(utils.getPaymentRequirementsFromMessage(messageWith({ [X402A2AMetadata.REQUIRED_KEY]: ok })), ok)
})

test('writes: input-required with the payment-required; verified; deferred; completed and failed with receipts', () => {
  const utils = new X402A2AUtils()
  const required = { x402Version: 2, resource: { url: '/x' }, accepts: [], extensions: {} }
  const task = utils.createPaymentRequiredTask(emptyTask(), required)
  assert.equal(task.status.state, 'input-required')
  const meta = (t) => t.status.message.metadata
  assert.equal(meta(task)[X402A2AMetadata.STATUS_KEY], 'payment-required')
  assert.deepEqual(meta(task)[X402A2AMetadata.REQUIRED_KEY], required)
  assert.deepEqual(task.status.message.parts, [{ kind: 'text', text: 'Payment is required for this service.' }])
  assert.equal(task.status.message.messageId, 't-1-status')

  const done = utils.recordPaymentSuccess(emptyTask(), { success: true, transaction: '0xabc', network: 'eip155:84532' })
  assert.equal(meta(done)[X402A2AMetadata.STATUS_KEY], 'payment-completed')
  assert.equal(meta(done)[X402A2AMetadata.RECEIPTS_KEY][0].transaction, '0xabc')

  const failed = utils.recordPaymentFailure(emptyTask(), 'EXPIRED_PAYMENT', { success: false, errorReason: 'expired', transaction: '', network: 'eip155:84532' })
  assert.equal(meta(failed)[X402A2AMetadata.STATUS_KEY], 'payment-failed')
  assert.equal(meta(failed)[X402A2AMetadata.ERROR_KEY], 'EXPIRED_PAYMENT')
  assert.equal(meta(failed)[X402A2AMetadata.RECEIPTS_KEY][0].success, false)

  const verified = utils.recordPaymentVerified(emptyTask())
  assert.equal(meta(verified)[X402A2AMetadata.STATUS_KEY], 'payment-verified')
  assert.equal(meta(verified)[X402_SETTLEMENT_DEFERRED_KEY], undefined)
  const deferred = utils.recordPaymentDeferred(emptyTask())
  assert.equal(meta(deferred)[X402A2AMetadata.STATUS_KEY], 'payment-verified')
  assert.equal(meta(deferred)[X402_SETTLEMENT_DEFERRED_KEY], 'deferred')
  assert.equal(meta(deferred)[X402A2AMetadata.RECEIPTS_KEY], undefined)
  // A task without a status gets one; other metadata is kept.
  const bare = { id: 'b' }
  utils.recordPaymentVerified(bare)
  assert.equal(bare.status.state, 'working')
  const kept = { id: 'k', status: { state: 'working', message: messageWith({ other: 1 }) } }
  utils.recordPaymentVerified(kept)
  assert.deepEqual(kept.status.message.metadata, { other: 1, [X402A2AMetadata.STATUS_KEY]: 'payment-verified' })
})

test('a payload read from the metadata re-encodes to a token decodeAccessToken accepts', () => {
  const payload = { x402Version: 2, accepted: { scheme: 'nvm:erc4337', network: 'eip155:84532', planId: 'p', extra: {} }, payload: { signature: '0xsig', authorization: { from: '0xFrom', sessionKeysProvider: 'zerodev', sessionKeys: [] } }, extensions: {} }
  const read = x402A2AUtils.getPaymentPayloadFromMessage(messageWith({ [X402A2AMetadata.PAYLOAD_KEY]: payload }))
  const token = encodeAccessToken(read)
  assert.ok(!token.includes('='))
  assert.deepEqual(decodeAccessToken(token), payload)
})
