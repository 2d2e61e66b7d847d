// The Worker of bench/compare.mjs: the apps of bench/compare-apps.js, each
// under its own prefix (/bare, /control, /reference, /ours, /floor), each built once per
// isolate in its own first request (see compare-apps.js). Var: NVM_API_KEY.
import { APPS, app } from '../../compare-apps.js'
import { INSTANT_BACKEND, instantFetch } from '../../instant-backend.js'

// Both gates' backend calls are answered in the isolate (see instantFetch).
globalThis.fetch = instantFetch(globalThis.fetch.bind(globalThis))

const served = {}

export default {
  // `?times=N`: the app serves the request N times over (each a fresh Request with the same
  // method, headers and body; the last answer is returned), so that workerd's own cost of an
  // HTTP request (about 2.3 ms under wrangler dev, and as noisy) is spread over N gated ones.
  async fetch(request, env, ctx) {
    const url = new URL(request.url)
    const name = url.pathname.split('/')[1]
    if (!APPS.includes(name)) return new Response('not found', { status: 404 })
    served[name] ??= app(name, { backendUrl: INSTANT_BACKEND, nvmApiKey: env.NVM_API_KEY, prefixed: true })
    const times = Math.min(1000, Math.max(1, Number(url.searchParams.get('times')) || 1))
    const body = await request.text()
    let response
    for (let i = 0; i < times; i++) {
      if (response) await response.arrayBuffer()
      response = await served[name].fetch(new Request(request.url, { method: request.method, headers: request.headers, body }), env, ctx)
    }
    return response
  },
}
