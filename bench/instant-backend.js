// The instant backend bench/compare.mjs (in-process and in its Worker) and
// bench/ab.mjs measure the gates against, and the ids both use. No imports:
// the Worker bundles it, ab.mjs loads it beside two builds of the package.
export const NETWORK = 'eip155:84532'
export const PLAN = '1234567890'
export const AGENT = 'bench-agent'
export const VERIFY_PATH = '/api/v1/x402/verify'
export const SETTLE_PATH = '/api/v1/x402/settle'

/** The backend URL the gates are given: only `instantFetch` answers it. */
export const INSTANT_BACKEND = 'https://instant.backend.invalid/'
const INSTANT_HOST = new URL(INSTANT_BACKEND).hostname

/**
 * A `fetch` that answers x402's facilitator API (`/supported`, `/verify`,
 * `/settle`) and Nevermined's x402 API (verify, settle) at `INSTANT_BACKEND` at
 * once, with real Responses; anything else goes to `fallback`. The gates' own
 * CPU is then what the process spends: a loopback backend would add its own
 * work (in-process), or the subrequests' (on workerd about 2.8 ms each, far more
 * than either gate, and as noisy).
 */
export function instantFetch(fallback) {
  const answers = {
    '/supported': { kinds: [{ x402Version: 2, scheme: 'exact', network: NETWORK }], extensions: [], signers: {} },
    '/verify': { isValid: true, payer: '0x00000000000000000000000000000000000000bb' },
    '/settle': { success: true, transaction: '0x01', network: NETWORK, payer: '0x00000000000000000000000000000000000000bb' },
    [VERIFY_PATH]: { isValid: true, payer: '0xbb', network: NETWORK, agentRequestId: 'r' },
    [SETTLE_PATH]: { success: true, payer: '0xbb', transaction: '0x01', network: NETWORK, creditsRedeemed: '1', remainingBalance: '1000000' },
  }
  const texts = new Map(Object.entries(answers).map(([path, json]) => [path, JSON.stringify(json)]))
  return async (input, init) => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url)
    const text = url.hostname === INSTANT_HOST ? texts.get(url.pathname) : undefined
    if (text === undefined) return fallback(input, init)
    return new Response(text, { headers: { 'content-type': 'application/json' } })
  }
}
