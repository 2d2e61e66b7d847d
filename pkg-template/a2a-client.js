// The paying A2A client, payments.a2a.getClient({agentBaseUrl, planId, ...}):
// the official client's names. The core reads the agent card, decides what may
// be paid and writes every message (src/client/a2a.rs, paying.rs); this only
// hands it the calls. Only nvm-x402/a2a-client carries it: its core is
// nvm-x402's paying client (no registration) with the A2A client.
import { Payments as Base } from './core.js'

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
    const getClient = async ({ agentBaseUrl, headers, ...options } = {}) => {
      const { answer: card } = await pay('a2a-card', new Request(agentBaseUrl), options)
      const send = async (kind, params) => (await pay(kind, new Request(card.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers } }), { ...options, agentId: card.agentId, params })).answer
      return {
        sendA2AMessage: (params) => send('a2a', params),
        async *sendA2AMessageStream(params) {
          yield* await send('a2a-stream', params)
        },
      }
    }
    this.a2a = Object.freeze({ ...this.a2a, getClient })
  }
}
