// The MCP paywall: payments.mcp.configure / withPaywall / attach / discovery, for MCP
// servers on any Fetch-API runtime (the official @modelcontextprotocol/sdk
// McpServer over WebStandardStreamableHTTPServerTransport, on Workers, Deno,
// Bun, Node). What lives here only moves the MCP SDK's handler arguments and
// results and calls user functions (the handler, a credits function); every
// decision (which payment, which plans, verify, settle, what to answer) is
// made in Rust (src/gate/mcp.rs, src/protocol/gate/mcp.rs).
import { PaymentsError } from './errors.js'
import { creditsOf, rethrow, toJson } from './wire.js'

const KINDS = ['tool', 'resource', 'prompt', 'meta']

/** A JSON-RPC error the MCP SDK sends as is (code, message, data); tool errors become error results. */
function rpcError({ code, message, data }) {
  const error = new Error(message)
  error.name = 'McpError'
  error.code = code
  if (data !== undefined) error.data = data
  return error
}

/** The MCP SDK's `extra` (it carries `requestId`, `signal`, `sendNotification`). */
const isExtra = (value) => value !== null && typeof value === 'object' && ('requestId' in value || 'signal' in value || 'sendNotification' in value)

/**
 * The MCP SDK calls tools and prompts with (args, extra), or (extra) without a
 * schema; resources with (uri, extra) or (uri, variables, extra); a low-level
 * server's request handlers (meta methods) with (request, extra).
 */
function split(kind, args) {
  if (kind === 'resource') return args.length >= 3 ? { input: args[1], extra: args[2] } : { input: {}, extra: args[1] }
  if (kind === 'meta') return { input: {}, extra: args[1] }
  if (args.length >= 2) return { input: args[0], extra: args[1] }
  if (args.length === 1 && isExtra(args[0])) return { input: {}, extra: args[0] }
  return { input: args[0] ?? {}, extra: undefined }
}

/** The payment headers of the HTTP request behind the call (no-code hosts can only set headers). */
function paymentHeaders(extra) {
  const headers = extra?.requestInfo?.headers
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
function httpUrlOf(extra) {
  const url = extra?.requestInfo?.url
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

  const step = async (run) => {
    try {
      return JSON.parse(await run())
    } catch (error) {
      throw rethrow(error)
    }
  }

  /** `configure({agentId?, serverName?, planId? | planIds?})`: what the paywall charges for; mistakes throw here. */
  function configure(options) {
    try {
      gate = core.mcpPaywall(toJson(options ?? {}))
    } catch (error) {
      throw rethrow(error)
    }
  }

  /** Wraps a tool, resource or prompt handler: paid calls verify before it runs and settle after. */
  function withPaywall(handler, options = {}) {
    const { kind = 'tool', name, credits, planId, planIds, maxAmount } = options ?? {}
    if (typeof handler !== 'function') throw new PaymentsError({ code: 'validation', message: 'mcp.withPaywall: the handler must be a function' })
    if (!KINDS.includes(kind)) throw new PaymentsError({ code: 'validation', message: 'mcp.withPaywall: kind must be "tool", "resource", "prompt" or "meta"' })
    if (typeof name !== 'string' || name === '') throw new PaymentsError({ code: 'validation', message: 'mcp.withPaywall: options.name is required (it names the logical URL)' })
    if (!gate) throw new PaymentsError({ code: 'validation', message: 'mcp.withPaywall: call payments.mcp.configure({ agentId, serverName, planId? }) first' })
    const dynamic = typeof credits === 'function'
    if (!dynamic && credits !== undefined && !['bigint', 'number', 'string'].includes(typeof credits)) {
      throw new PaymentsError({ code: 'validation', message: 'mcp.withPaywall: credits must be a number, a bigint or a function' })
    }
    return async (...args) => {
      const { input, extra } = split(kind, args)
      const call = { kind, name, args: input ?? null, meta: extra?._meta ?? null, headers: paymentHeaders(extra), httpUrl: httpUrlOf(extra), planId, planIds, credits: dynamic ? undefined : credits, creditsDynamic: dynamic, maxAmount }
      const begin = await step(() => gate.begin(toJson(call)))
      if (begin.action === 'refuse' && begin.result) return begin.result
      if (begin.action !== 'proceed') throw rpcError(begin.error)
      const { context: c, ticket } = begin
      const authResult = { token: ticket.token, agentId: c.agentId, logicalUrl: c.logicalUrl, httpUrl: c.httpUrl, planId: c.planId, subscriberAddress: c.subscriberAddress, agentRequest: c.agentRequest }
      const context = { authResult, credits: c.credits === undefined ? undefined : BigInt(c.credits), planId: c.planId, subscriberAddress: c.subscriberAddress, agentRequest: c.agentRequest }
      // A handler that throws is charged nothing: its error goes to the MCP SDK as is.
      const result = await handler(...args, context)
      let amount = null
      if (dynamic) {
        try {
          amount = creditsOf(await credits({ args: input, result, request: { authHeader: `Bearer ${ticket.token}`, logicalUrl: c.logicalUrl, toolName: name } }))
        } catch (error) {
          console.error('nvm-x402 MCP paywall: the credits function threw; nothing is delivered or charged', error)
          amount = { invalid: 'threw' }
        }
      }
      const finish = await step(() => gate.finish(kind, toJson(ticket), toJson(amount)))
      if (finish.action === 'deliver') {
        const paid = result !== null && typeof result === 'object' ? result : {}
        return { ...paid, _meta: { ...(paid._meta ?? {}), ...finish.meta } }
      }
      if (finish.action === 'refuse' && finish.result) return finish.result
      throw rpcError(finish.error)
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
    let doc
    try {
      doc = gate.discovery(url.pathname, String(baseUrl), toJson(rest))
    } catch (error) {
      throw rethrow(error)
    }
    if (doc === undefined) return null
    const headers = { 'content-type': 'application/json', 'cache-control': 'public, max-age=3600', 'access-control-allow-origin': '*' }
    return new Response(request.method === 'HEAD' ? null : doc, { status: 200, headers })
  }

  return { configure, withPaywall, attach, discovery }
}
