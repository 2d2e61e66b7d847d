// The Worker of bench/compare.mjs: the apps of bench/compare-apps.js, each
// under its own prefix (/bare, /control, /reference, /ours, /floor), each built once per
// isolate in its own first request (see compare-apps.js). Vars: NVM_API_KEY,
// BACKEND_URL (the instant backend, serving both the x402 facilitator API and
// Nevermined's).
import { APPS, app } from '../../compare-apps.js'

const served = {}

export default {
  fetch(request, env, ctx) {
    const name = new URL(request.url).pathname.split('/')[1]
    if (!APPS.includes(name)) return new Response('not found', { status: 404 })
    served[name] ??= app(name, { backendUrl: env.BACKEND_URL, nvmApiKey: env.NVM_API_KEY, prefixed: true })
    return served[name].fetch(request, env, ctx)
  },
}
