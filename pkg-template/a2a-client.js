// The paying A2A client, payments.a2a.getClient({agentBaseUrl, planId, ...}):
// the official client's names. The core reads the agent card, decides what may
// be paid and writes every message (src/client/a2a.rs, paying.rs); this only
// hands it the calls. Only nvm-x402/a2a-client carries it: its core is
// nvm-x402's paying client (no registration) with the A2A client.
import { Payments as Base } from './core.js'
import { PaymentsError } from './errors.js'

/** How many clients getClient keeps (per Payments instance), the oldest forgotten first. */
const CLIENTS_KEPT = 16

/**
 * getClient's key: its options as JSON (bigints marked), or undefined when they hold
 * a value JSON can't tell apart (a function, a signal, a class instance): such a call
 * gets a client of its own.
 */
const keyOf = (options) => {
  try {
    return JSON.stringify(options, (_key, value) => {
      if (typeof value === 'bigint') return `${value}n`
      if (typeof value === 'function' || (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) !== Object.prototype)) throw 0
      return value
    })
  } catch {}
}

/**
 * A stream call's events: each as the core hands it over (the agent sent it), then the rest
 * of its answer (a message's last event, with paymentResponse); its error after the events
 * that came before it. The call's courier is paying()'s (`send`, `held`: core.js) with one
 * more ask: `send('[...events]')` hands over the events that came (JSON) and reads the last
 * response's body on (its next piece of text, null once it ended). A caller that stops
 * iterating cancels the body, and the courier refuses every ask after it: the call ends
 * there, an error no one reads (nothing more is sent, nor paid).
 */
async function* events(send, kind, params) {
  const queue = []
  let wake, end, reader, stopped
  const stop = () => {
    if (stopped) throw new Error('The caller stopped reading the stream')
  }
  const streamed = (send, held) => async (what) => {
    if (what === 'discard') reader?.cancel().catch(() => {})
    else stop()
    if (what[0] !== '[') return (reader = undefined), send(what)
    queue.push(...JSON.parse(what))
    wake?.()
    const { done, value } = await (reader ??= held().body.pipeThrough(new TextDecoderStream()).getReader()).read()
    stop()
    return done ? null : value
  }
  send(kind, params, streamed)
    .then((rest) => (end = { rest }), (error) => (end = { error }))
    .then(() => wake?.())
  try {
    while (queue.length || !end) {
      if (queue.length) yield queue.shift()
      else await new Promise((resolve) => (wake = resolve))
    }
  } finally {
    stopped = !end
    reader?.cancel().catch(() => {})
  }
  if (end.error) throw end.error
  yield* end.rest
}

/** A Nevermined client that pays A2A agents (`payments.a2a.getClient`), and the subscriber's calls. */
export class Payments extends Base {
  /** Same as `new Payments(options)`; the official SDK's spelling. */
  static getInstance(options) {
    return new Payments(options)
  }

  constructor(options) {
    super(options)
    // This entry's core.js hands over the paying loop there (scripts/build.sh): pay(kind, request, options).
    const pay = this[Symbol.for('nvm-x402.core')]
    // The card is read once; each message paid in band (message/stream: its events yielded as they come).
    const create = async ({ agentBaseUrl, headers, agentCardPath, ...options }) => {
      const read = async (path) => (await pay('a2a-card', new Request(agentBaseUrl), { ...options, agentCardPath: path })).answer
      let card = await read(agentCardPath)
      if (card.cause) {
        // The card could not be fetched there: the legacy path, said aloud (as the official client does).
        const cause = new PaymentsError(card.cause)
        console.warn(`[PaymentsA2A] agent card not found at '${card.from}', falling back to '${card.to}':`, cause.message)
        try {
          card = await read(card.to)
        } catch (error) {
          error.cause = cause
          throw error
        }
      }
      // Every call goes to the card's url, the origin the core checked; tasks/* (push configs too) carry no token.
      const send = async (kind, params, streamed) => (await pay(kind, new Request(card.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers } }), { ...options, agentId: card.agentId, params }, streamed)).answer
      return {
        sendA2AMessage: (params) => send('a2a', params),
        sendA2AMessageStream: (params) => events(send, 'a2a-stream', params),
        getA2ATask: (params) => send('a2a-get', params),
        setA2ATaskPushNotificationConfig: (params) => send('a2a-push-set', params),
        getA2ATaskPushNotificationConfig: (params) => send('a2a-push-get', params),
        resubscribeA2ATask: (params) => events(send, 'a2a-resubscribe', params),
        clearToken: () => void pay('a2a-clear', new Request(card.url), { agentId: card.agentId }).catch(() => {}),
      }
    }
    // The same options get the same client, as the official registry's (agentBaseUrl, agentId,
    // planId) do. Kept: at most CLIENTS_KEPT, the oldest forgotten first. Safe: the key is
    // the caller's own options, whole (a client is only ever handed to options it was made
    // for, so each call is checked as before: its plans, maxCredits, the card's origin); a
    // forgotten client costs one card fetch; a failed one is not kept.
    const clients = new Map()
    const getClient = (options = {}) => {
      const key = keyOf(options)
      let client = clients.get(key)
      if (key === undefined || !client) {
        client = create(options)
        if (key !== undefined) {
          clients.set(key, client)
          if (clients.size > CLIENTS_KEPT) clients.delete(clients.keys().next().value)
          client.catch(() => clients.get(key) === client && clients.delete(key))
        }
      }
      return client
    }
    this.a2a = Object.freeze({ ...this.a2a, getClient })
  }
}
