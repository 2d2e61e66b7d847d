// The MCP paywall: payments.mcp.configure / withPaywall / attach / discovery, for MCP
// servers on any Fetch-API runtime (Workers, Deno, Bun, Node), on both lines of
// the official MCP SDK: v1's @modelcontextprotocol/sdk McpServer (handlers get
// `extra`) and v2's @modelcontextprotocol/server McpServer, e.g. under
// createMcpHandler (handlers get `ctx`), serving 2025-11-25 and 2026-07-28 clients. A paid call runs through the core as one call (src/gate/mcp.rs,
// McpGate::handle), which asks back for what only JavaScript can do: run the
// handler, price its result, call a hook. What lives here only moves the MCP
// SDK's handler arguments and results and calls user functions; every decision
// (which payment, which plans, verify, settle, what to answer) is the core's.
import { PaymentsError } from './errors.js'
import { ensureSync } from './loader.js'
import { oauthDocument } from './nvm_x402.js'
import { answerOf, callHook, creditsOf, hooksOf, optionsJson, toJson } from './wire.js'

// The official SDK's OAuth builders (nvm-x402/mcp exports them): the documents discovery() serves, built by the core (src/protocol/gate/mcp/oauth.rs).
const oauth = (name) => (...args) => {
  ensureSync()
  return JSON.parse(oauthDocument(name, toJson(args)))
}
export const getOAuthUrls = /* @__PURE__ */ oauth('getOAuthUrls')
export const buildProtectedResourceMetadata = /* @__PURE__ */ oauth('buildProtectedResourceMetadata')
export const buildMcpProtectedResourceMetadata = /* @__PURE__ */ oauth('buildMcpProtectedResourceMetadata')
export const buildAuthorizationServerMetadata = /* @__PURE__ */ oauth('buildAuthorizationServerMetadata')
export const buildOidcConfiguration = /* @__PURE__ */ oauth('buildOidcConfiguration')
export const buildServerInfoResponse = /* @__PURE__ */ oauth('buildServerInfoResponse')
const requireAuth = /* @__PURE__ */ oauth('requireAuth')

/**
 * The official `createRequireAuthMiddleware({baseUrl?, resourceMetadataPath?})`: an Express
 * middleware that lets a request with a Bearer token on (the paywall checks the token) and
 * answers any other 401 `{error: 'unauthorized', error_description}`, with a `WWW-Authenticate`
 * challenge naming the protected-resource metadata when its URL can be built safely. The
 * decision is the core's (src/protocol/gate/mcp/oauth.rs `require_auth`).
 */
export function createRequireAuthMiddleware(options = {}) {
  const settings = { baseUrl: options?.baseUrl, resourceMetadataPath: options?.resourceMetadataPath }
  return function requireAuthMiddleware(req, res, next) {
    const headers = req.headers ?? {}
    const one = (value) => (Array.isArray(value) ? value[0] : value)
    const verdict = requireAuth({
      authorization: one(headers.authorization),
      forwardedHost: one(headers['x-forwarded-host']),
      host: typeof req.get === 'function' ? req.get('host') : one(headers.host),
      forwardedProto: one(headers['x-forwarded-proto']),
      protocol: req.protocol,
    }, settings)
    if (verdict === null) return next()
    if (verdict.challenge) res.setHeader('WWW-Authenticate', verdict.challenge)
    res.status(401).json({ error: 'unauthorized', error_description: verdict.description })
  }
}

/** A JSON-RPC error the MCP SDK sends as is (code, message, data); tool errors become error results. */
function rpcError({ code, message, data }) {
  const error = new Error(message)
  error.name = 'McpError'
  error.code = code
  if (data !== undefined) error.data = data
  return error
}

/**
 * The MCP SDK's per-call context: v1's `extra` (it carries `requestId`, `signal`,
 * `sendNotification`) or v2's `ctx` (it carries `mcpReq`).
 */
const isExtra = (value) => value !== null && typeof value === 'object' && ('mcpReq' in value || 'requestId' in value || 'signal' in value || 'sendNotification' in value)

/**
 * The MCP SDK calls tools and prompts with (args, extra), or (extra) without a
 * schema; resources with (uri, extra) or (uri, variables, extra); a low-level
 * server's request handlers (meta methods) with (request, extra). Both SDK
 * lines: v2 passes its `ctx` where v1 passed `extra`.
 */
function split(kind, args) {
  if (kind === 'resource') return args.length >= 3 ? { input: args[1], extra: args[2] } : { input: {}, extra: args[1] }
  if (kind === 'meta') return { input: {}, extra: args[1] }
  if (args.length >= 2) return { input: args[0], extra: args[1] }
  if (args.length === 1 && isExtra(args[0])) return { input: {}, extra: args[0] }
  return { input: args[0] ?? {}, extra: undefined }
}

/**
 * What a call's context tells the paywall, from either SDK line: the request's
 * `_meta` (v1 `extra._meta`; v2 `ctx.mcpReq._meta`, its `io.modelcontextprotocol/*`
 * envelope lifted out) and the HTTP request behind it (v1 `extra.requestInfo`
 * with `headers` and `url`; v2 `ctx.http.req`, a Request).
 */
function viewOf(extra) {
  const http = extra?.requestInfo ?? extra?.http?.req
  return { meta: extra?._meta ?? extra?.mcpReq?._meta ?? null, headers: paymentHeaders(http?.headers), httpUrl: httpUrlOf(http?.url) }
}

/** The payment headers of the HTTP request behind the call (no-code hosts can only set headers). */
function paymentHeaders(headers) {
  if (!headers || typeof headers !== 'object') return {}
  const read = (name) => (typeof headers.get === 'function' ? headers.get(name) : headers[name])
  const out = {}
  for (const name of ['payment-signature', 'authorization']) {
    const value = read(name)
    if (typeof value === 'string') out[name] = value
  }
  return out
}

/** Origin and path of the MCP endpoint (the fallback resource URL), when the transport tells. */
function httpUrlOf(url) {
  if (!url) return undefined
  try {
    const u = new URL(String(url))
    return u.protocol === 'http:' || u.protocol === 'https:' ? `${u.origin}${u.pathname}` : undefined
  } catch {
    return undefined
  }
}

/** `payments.mcp`'s server half over one core. */
export function mcpServer(core) {
  let gate = null
  let hooks = {}
  /** How long a hook is waited for: the client's backend time limit. */
  const hookMs = JSON.parse(core.info()).timeoutMs

  /** A dynamic price of a result (JSON for the core; a function that throws is `{invalid: 'threw'}`). */
  async function price(credits, context) {
    try {
      return toJson(creditsOf(await credits(context)))
    } catch (error) {
      console.error('nvm-x402 MCP paywall: the credits function threw; nothing is delivered or charged', error)
      return toJson({ invalid: 'threw' })
    }
  }

  /**
   * `configure({agentId?, serverName?, planId? | planIds?, onBeforeVerify?, onAfterVerify?, onAfterSettle?, onPaymentError?})`:
   * what the paywall charges for, and its hooks (told about the call, `{kind, name, args}`, where the HTTP paywall's get the Request); mistakes throw here.
   */
  function configure(options) {
    gate = core.mcpPaywall(optionsJson(options ?? {}))
    hooks = hooksOf(options)
  }

  /** Wraps a tool, resource or prompt handler: paid calls verify before it runs and settle after. */
  function withPaywall(handler, options = {}) {
    const { kind = 'tool', name, credits, planId, planIds, maxAmount, onRedeemError } = options ?? {}
    if (typeof handler !== 'function') throw new PaymentsError({ code: 'validation', message: 'mcp.withPaywall: the handler must be a function' })
    if (!gate) throw new PaymentsError({ code: 'validation', message: 'mcp.withPaywall: call payments.mcp.configure({ agentId, serverName, planId? }) first' })
    // The core checks the options (kind, name, credits, plans) now, and keeps them for every call.
    const paid = gate.tool(optionsJson({ kind, name, credits, planId, planIds, maxAmount, onRedeemError }))
    return async (...args) => {
      const { input, extra } = split(kind, args)
      const call = { args: input ?? null, ...viewOf(extra) }
      const subject = { kind, name, args: input } // what the hooks are told about
      let ran // the paywall's context the handler was given, once it ran
      let result
      let chunks // a streamed result's chunks, read to the end and held until it is settled
      let thrown
      const exchange = (what, arg) => {
        if (what === 'run') {
          ran = JSON.parse(arg)
          const authResult = { token: ran.token, agentId: ran.agentId, logicalUrl: ran.logicalUrl, httpUrl: ran.httpUrl, planId: ran.planId, subscriberAddress: ran.subscriberAddress, agentRequest: ran.agentRequest }
          const context = { authResult, credits: ran.credits === undefined ? undefined : BigInt(ran.credits), planId: ran.planId, subscriberAddress: ran.subscriberAddress, agentRequest: ran.agentRequest }
          return (async () => {
            try {
              result = await handler(...args, context)
              chunks = await chunksOf(result)
              if (chunks) result = chunks // (what a credits function is told)
              return 200
            } catch (error) {
              thrown = { error } // charged nothing; it goes to the MCP SDK as is
              return 0
            }
          })()
        }
        if (what === 'price') return price(credits, { args: input, result, request: { authHeader: `Bearer ${ran.token}`, logicalUrl: ran.logicalUrl, toolName: name } })
        return callHook(hooks, what, subject, arg, 'MCP paywall', hookMs)
      }
      const out = await answerOf(gate.handle(paid, toJson(call), exchange))
      // (The core says "threw" only when the handler did; should that ever not hold, an error, not undefined.)
      if (out.action === 'threw') throw thrown ? thrown.error : rpcError({ code: -32603, message: 'The paywall could not run the handler' })
      if (out.action === 'deliver') {
        if (chunks) return replay([...chunks, { _meta: out.meta }]) // the official SDK's last chunk
        const content = result !== null && typeof result === 'object' ? result : {}
        return { ...content, _meta: { ...(content._meta ?? {}), ...out.meta } }
      }
      if (out.action === 'refuse' && out.result) return chunks ? replay([out.result]) : out.result
      throw rpcError(out.error)
    }
  }

  /** `attach(server)`: `registerTool / registerResource / registerPrompt` as the McpServer's, each paid (options: credits, planId, maxAmount). */
  function attach(server) {
    if (!server || typeof server.registerTool !== 'function') throw new PaymentsError({ code: 'validation', message: 'mcp.attach: pass an McpServer (it has registerTool, registerResource, registerPrompt)' })
    return Object.freeze({
      registerTool: (name, config, handler, options) => server.registerTool(name, config, withPaywall(handler, { ...options, kind: 'tool', name })),
      registerResource: (name, template, config, handler, options) => server.registerResource(name, template, config, withPaywall(handler, { ...options, kind: 'resource', name })),
      registerPrompt: (name, config, handler, options) => server.registerPrompt(name, config, withPaywall(handler, { ...options, kind: 'prompt', name })),
    })
  }

  /**
   * `discovery(request, {baseUrl?, tools?, scopes?, protocolVersion?})`: the
   * OAuth discovery document a GET asks for (`/.well-known/oauth-protected-resource`,
   * `.../oauth-protected-resource/mcp`, `/.well-known/oauth-authorization-server`,
   * `/.well-known/openid-configuration`) as a Response, or null for any other request.
   */
  function discovery(request, options = {}) {
    if (!gate) throw new PaymentsError({ code: 'validation', message: 'mcp.discovery: call payments.mcp.configure({ agentId, serverName, planId? }) first' })
    if (request.method !== 'GET' && request.method !== 'HEAD') return null
    const url = new URL(request.url)
    const { baseUrl = url.origin, ...rest } = options ?? {}
    const doc = gate.discovery(url.pathname, String(baseUrl), toJson(rest))
    if (doc === undefined) return null
    const headers = { 'content-type': 'application/json', 'cache-control': 'public, max-age=3600', 'access-control-allow-origin': '*' }
    return new Response(request.method === 'HEAD' ? null : doc, { status: 200, headers })
  }

  return { configure, withPaywall, attach, discovery }
}

/**
 * A streamed result (an AsyncIterable, as the official SDK allows): its chunks,
 * read to the end before the core settles, so none leaves unpaid; a stream that
 * throws is a handler that threw. Null for any other result.
 */
async function chunksOf(result) {
  if (result === null || typeof result !== 'object' || typeof result[Symbol.asyncIterator] !== 'function') return null
  const chunks = []
  for await (const chunk of result) chunks.push(chunk)
  return chunks
}

/** Held chunks as the AsyncIterable the caller of a streamed handler reads. */
async function* replay(chunks) {
  yield* chunks
}
