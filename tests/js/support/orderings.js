// The loading orderings of issue #20, as one portable module (no Node built-ins:
// it runs in Node, Deno, Bun and Chromium). `runOrdering(entry, kind, ordering)`
// takes an entry's module namespace in a realm where nothing has loaded its core
// yet, builds two objects of that entry (A and B, each with its own key, plans,
// agent and routes) in the given order of `ready()`, synchronous first use and
// concurrent `ready()` calls, then drives each one and reports what it did: what
// reached the backend (a recording fetch, so the key each call carried is seen),
// what each paywall answered without a token, with the other's token and with
// its own, and how many instances of the core the realm made. The tests assert
// on the report (tests/js/node/orderings.test.mjs, tests/js/browser/orderings.test.mjs).

/** The orderings: when `ready()` is called, when it settles, and when the objects are built. */
export const ORDERINGS = {
  'ready-first': async (ready, a, b) => {
    await ready()
    return [a(), b()]
  },
  'sync-first': async (ready, a, b) => {
    const first = a()
    await ready()
    return [first, b()]
  },
  // The audit's case: a fire-and-forget ready() and the first object built before it settles.
  'ready-pending': async (ready, a, b) => {
    const pending = ready()
    const first = a()
    await pending
    return [first, b()]
  },
  'ready-pending-both': async (ready, a, b) => {
    const pending = ready()
    const built = [a(), b()]
    await pending
    return built
  },
  'two-ready': async (ready, a, b) => {
    const one = ready()
    const two = ready()
    const first = a()
    await Promise.all([one, two])
    return [first, b()]
  },
  'two-ready-settled': async (ready, a, b) => {
    await Promise.all([ready(), ready()])
    return [a(), b()]
  },
}

const NETWORK = 'eip155:84532'

/** Unpadded base64url of compact JSON, without Buffer. */
function b64url(value) {
  const bytes = new TextEncoder().encode(JSON.stringify(value))
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/** A `local:` API key whose `sub` is `address`. */
const keyOf = (address) => `local:${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url({ sub: address, o11y: 'orderings' })}.c2lnbmF0dXJl`

/** A v2 access token for `planId` (the recording backend checks nothing). */
const tokenFor = (planId) =>
  b64url({ x402Version: 2, accepted: { scheme: 'nvm:erc4337', network: NETWORK, planId, extra: { version: '1' } }, payload: { signature: '0xsig', authorization: { from: '0x00000000000000000000000000000000000000cc', sessionKeys: [] } }, extensions: {} })

/** The two objects' configurations: nothing is shared between A and B. */
export const SIDES = {
  a: { address: '0x00000000000000000000000000000000000000a1', planId: '1111', agentId: 'agent-a', path: '/a', server: 'server-a', credits: 1 },
  b: { address: '0x00000000000000000000000000000000000000b2', planId: '2222', agentId: 'agent-b', path: '/b', server: 'server-b', credits: 2 },
}
for (const side of Object.values(SIDES)) side.key = keyOf(side.address)

/** A backend in a fetch: records every call (URL, Authorization, body) and answers as a permissive Nevermined would. */
function recordingFetch() {
  const calls = []
  const json = (value) => new Response(JSON.stringify(value), { status: 200, headers: { 'content-type': 'application/json' } })
  const fetch = async (input, init = {}) => {
    const request = new Request(input, init)
    const body = request.method === 'GET' || request.method === 'HEAD' ? '' : await request.text()
    const url = new URL(request.url)
    const call = { method: request.method, path: url.pathname, authorization: request.headers.get('authorization'), body: body ? JSON.parse(body) : null }
    calls.push(call)
    if (call.path.endsWith('/x402/verify')) return json({ isValid: true, payer: '0x00000000000000000000000000000000000000cc', agentRequestId: 'req-1' })
    if (call.path.endsWith('/x402/settle')) return json({ success: true, payer: '0x00000000000000000000000000000000000000cc', transaction: '0xtx', network: NETWORK, creditsRedeemed: call.body.maxAmount, remainingBalance: '5' })
    const balance = call.path.match(/\/plans\/(\d+)\/balance\/(0x[0-9a-f]+)$/)
    if (balance) return json({ planId: balance[1], planName: 'p', planType: 'credits', holderAddress: balance[2], balance: '5', creditsContract: '0x', isSubscriber: true, pricePerCredit: 0 })
    const plan = call.path.match(/\/protocol\/plans\/(\d+)$/)
    if (plan) return json({ id: plan[1], registry: { price: { isCrypto: true } } })
    if (call.path.endsWith('/protocol/plans')) return json({ total: 0, page: 1, offset: 10, plans: [] })
    return new Response(JSON.stringify({ code: 'BCK.TEST.0404', message: `no answer for ${call.path}`, httpStatus: 404 }), { status: 404, headers: { 'content-type': 'application/json' } })
  }
  return { fetch, calls }
}

/** Counts the instances of this realm's cores (the glue's imports: a `./nvm_x402_bg.js` namespace), sync and async. */
function countInstances() {
  const counter = { count: 0 }
  const { Instance, instantiate, instantiateStreaming } = WebAssembly
  const ours = (imports) => imports !== null && typeof imports === 'object' && './nvm_x402_bg.js' in imports
  function Counted(module, imports) {
    if (ours(imports)) counter.count++
    return new Instance(module, imports)
  }
  Counted.prototype = Instance.prototype
  WebAssembly.Instance = Counted
  WebAssembly.instantiate = (source, imports, ...rest) => {
    if (ours(imports)) counter.count++
    return instantiate(source, imports, ...rest)
  }
  if (instantiateStreaming) {
    WebAssembly.instantiateStreaming = (source, imports, ...rest) => {
      if (ours(imports)) counter.count++
      return instantiateStreaming(source, imports, ...rest)
    }
  }
  return counter
}

/** What `action` throws, as `{code}` (a PaymentsError) or `{error}`; undefined when it doesn't. */
async function thrown(action) {
  try {
    await action()
    return undefined
  } catch (e) {
    return e?.code ? { code: e.code } : { error: String(e?.message ?? e) }
  }
}

/** Decodes a `payment-required` header (standard base64 of JSON). */
const header = (value) => (value ? JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(value), (c) => c.charCodeAt(0)))) : null)

/** The calls `action` made through the recording fetch, and its result. */
async function during(backend, action) {
  const from = backend.calls.length
  const result = await action()
  return { result, calls: backend.calls.slice(from) }
}

/** A subscriber client: its address, and the key and holder its backend calls carried. */
async function driveClient(backend, payments) {
  const plans = await during(backend, () => payments.plans.getPlans())
  const out = { accountAddress: payments.accountAddress, environment: payments.environment, bearer: plans.calls.map((c) => c.authorization) }
  if (payments.plans.getPlanBalance) {
    const balance = await during(backend, () => payments.plans.getPlanBalance('77').catch((e) => ({ code: e.code })))
    out.balanceHolder = balance.result.holderAddress ?? balance.result.code
  }
  return out
}

/** An HTTP paywall: tokenless requests to its route (three), its route with the other side's token, the other side's route, and a paid request. */
async function drivePaywall(backend, paywall, side, other) {
  let handled = 0
  const handler = () => {
    handled++
    return new Response('paid content')
  }
  const request = (path, token) => new Request(`http://127.0.0.1:8787${path}`, { method: 'POST', headers: token ? { 'payment-signature': token } : {} })
  const unpaid = []
  for (let i = 0; i < 3; i++) {
    const response = await paywall.handle(request(side.path), handler)
    const required = header(response.headers.get('payment-required'))
    unpaid.push({ status: response.status, planId: required?.accepts?.[0]?.planId ?? null, agentId: required?.accepts?.[0]?.extra?.agentId ?? null })
  }
  const handledUnpaid = handled
  const wrongPlan = await during(backend, () => paywall.handle(request(side.path, tokenFor(other.planId)), handler))
  const notMine = await paywall.handle(request(other.path), handler)
  const paid = await during(backend, () => paywall.handle(request(side.path, tokenFor(side.planId)), handler))
  const verify = paid.calls.find((c) => c.path.endsWith('/x402/verify'))
  return {
    unpaid,
    handledUnpaid,
    wrongPlan: { status: wrongPlan.result.status, backendCalls: wrongPlan.calls.length },
    otherRoute: { status: notMine.status, body: await notMine.text() },
    paid: { status: paid.result.status, body: await paid.result.text(), bearer: verify?.authorization ?? null, planId: verify?.body?.paymentRequired?.accepts?.[0]?.planId ?? null, agentId: verify?.body?.paymentRequired?.accepts?.[0]?.extra?.agentId ?? null, maxAmount: verify?.body?.maxAmount ?? null },
  }
}

/** An MCP server's paid tool: unpaid (its PaymentRequired), the other side's payment, and its own. */
async function driveMcp(backend, payments, side, other, decodeAccessToken) {
  let handled = 0
  const echo = payments.mcp.withPaywall(async ({ text }) => {
    handled++
    return { content: [{ type: 'text', text }] }
  }, { kind: 'tool', name: 'echo', credits: side.credits })
  const unpaid = await echo({ text: 'hi' }, { requestId: 1, _meta: {} })
  const handledUnpaid = handled
  const wrongPlan = await during(backend, () => echo({ text: 'hi' }, { requestId: 2, _meta: { 'x402/payment': decodeAccessToken(tokenFor(other.planId)) } }))
  const paid = await during(backend, () => echo({ text: 'hi' }, { requestId: 3, _meta: { 'x402/payment': decodeAccessToken(tokenFor(side.planId)) } }))
  const verify = paid.calls.find((c) => c.path.endsWith('/x402/verify'))
  return {
    unpaid: { isError: unpaid.isError === true, planId: unpaid.structuredContent?.accepts?.[0]?.planId ?? null, resource: unpaid.structuredContent?.resource?.url ?? null },
    handledUnpaid,
    wrongPlan: { isError: wrongPlan.result.isError === true, planId: wrongPlan.result.structuredContent?.accepts?.[0]?.planId ?? null },
    paid: { text: paid.result.content?.[0]?.text ?? null, bearer: verify?.authorization ?? null, planId: verify?.body?.paymentRequired?.accepts?.[0]?.planId ?? null, maxAmount: verify?.body?.maxAmount ?? null },
  }
}

/**
 * Builds A and B of `entry` (`kind`: 'client', 'agent' or 'mcp') in `ordering`
 * and reports what each did. Call it once per fresh realm: it counts the
 * instances the realm makes.
 */
export async function runOrdering(entry, kind, ordering) {
  const instances = countInstances()
  const backend = recordingFetch()
  const early = {}
  const build = (name) => () => {
    const side = SIDES[name]
    const make = () => {
      const payments = entry.Payments.getInstance({ nvmApiKey: side.key, fetch: backend.fetch })
      if (kind === 'agent') return { payments, paywall: payments.paywall({ agentId: side.agentId, routes: { [`POST ${side.path}`]: { planId: side.planId, credits: side.credits } } }) }
      if (kind === 'mcp') payments.mcp.configure({ agentId: side.agentId, serverName: side.server, planId: side.planId })
      return { payments }
    }
    try {
      return make()
    } catch (error) {
      // The asset entry can't load synchronously: building before ready() settles says so, and is retried after.
      if (error?.code !== 'not_ready') throw error
      early[name] = error.code
      return make
    }
  }
  const built = await ORDERINGS[ordering](entry.ready, build('a'), build('b'))
  const [a, b] = built.map((made) => (typeof made === 'function' ? made() : made))
  const report = { ordering, kind, early, sides: {} }
  for (const [name, made, other] of [['a', a, SIDES.b], ['b', b, SIDES.a]]) {
    const side = SIDES[name]
    const out = { client: await driveClient(backend, made.payments) }
    if (kind === 'agent') out.paywall = await drivePaywall(backend, made.paywall, side, other)
    if (kind === 'mcp') out.mcp = await driveMcp(backend, made.payments, side, other, entry.decodeAccessToken)
    out.notInEntry = await thrown(() => (kind === 'agent' ? made.payments.mcp.configure({ planId: side.planId }) : made.payments.paywall({ routes: {} })))
    report.sides[name] = out
  }
  report.instances = instances.count
  return report
}
