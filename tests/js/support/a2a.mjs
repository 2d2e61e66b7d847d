// Test support for the A2A paywall: what the official A2A JS client 1.x is
// given (its v0.3 compatibility switched on: the paywall speaks A2A 0.3), a
// message in its shape, and where a task's payment state is.
import { ClientFactory, DefaultAgentCardResolver, JsonRpcTransportFactory } from '@a2a-js/sdk/client'

/** The in-band payment's state key. */
export const STATUS = 'x402.payment.status'

/** The official client's v0.3 compatibility. */
export const legacy = { legacyCompat: { enabled: true } }

/** A v1.0 message (the official client's shape; it sends it as A2A 0.3), paying `taskId` with `payload` when given. */
export const message = (text, { taskId, payload, id = crypto.randomUUID() } = {}) => ({
  messageId: id,
  role: 1,
  parts: [{ content: { $case: 'text', value: text } }],
  ...(taskId ? { taskId } : {}),
  ...(payload ? { metadata: { [STATUS]: 'payment-submitted', 'x402.payment.payload': payload } } : {}),
})

/** A task's status message metadata (the payment state). */
export const meta = (task) => task.status.message.metadata

/** The official client for the agent at `baseUrl` (A2A 0.3 JSON-RPC), through `fetchImpl` when given. */
export function officialClient(baseUrl, fetchImpl) {
  const options = { ...legacy, fetchImpl }
  return new ClientFactory({ transports: [new JsonRpcTransportFactory(options)], cardResolver: new DefaultAgentCardResolver(options) }).createFromUrl(baseUrl)
}
