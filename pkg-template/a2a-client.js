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
    // The card is read once; each message (message/stream: every event, once the agent sent them all) paid in band.
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
      const send = async (kind, params) => (await pay(kind, new Request(card.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers } }), { ...options, agentId: card.agentId, params })).answer
      return {
        sendA2AMessage: (params) => send('a2a', params),
        async *sendA2AMessageStream(params) {
          yield* await send('a2a-stream', params)
        },
        getA2ATask: (params) => send('a2a-get', params),
        setA2ATaskPushNotificationConfig: (params) => send('a2a-push-set', params),
        getA2ATaskPushNotificationConfig: (params) => send('a2a-push-get', params),
        async *resubscribeA2ATask(params) {
          yield* await send('a2a-resubscribe', params)
        },
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
