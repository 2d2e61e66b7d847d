// A paid MCP server on Cloudflare Workers, gated by nvm-x402, on the official MCP
// SDK's v2 line (@modelcontextprotocol/server).
//   POST /mcp    MCP over HTTP (createMcpHandler): 2026-07-28 clients (stateless,
//                server/discover) and 2025-era clients (stateless), with two tools:
//                  echo {text}  paid: 1 credit of NVM_PLAN_ID, answers its text
//                  ping         free
//   GET  /health free
//   GET  /.well-known/oauth-protected-resource[/mcp], /.well-known/oauth-authorization-server,
//        /.well-known/openid-configuration: OAuth discovery (which authorization server)
// Configuration comes only from Worker vars/secrets: NVM_API_KEY (the agent
// builder's key, a secret), NVM_AGENT_ID, NVM_PLAN_ID, NVM_BACKEND_URL (optional:
// the backend the key's prefix picks is used when it is empty).
import { McpServer, createMcpHandler } from '@modelcontextprotocol/server'
import { z } from 'zod'
import { Payments } from 'nvm-x402/mcp'

/** The host of this server's logical URLs (mcp://nvm-demo/tools/echo): what agents register as endpoints. */
const SERVER_NAME = 'nvm-demo'

// One client and one MCP handler per isolate: each plan's scheme is looked up once, not per call.
let payments
let handler

function paymentsFor(env) {
  for (const name of ['NVM_API_KEY', 'NVM_AGENT_ID', 'NVM_PLAN_ID']) {
    if (!env[name]) throw new Error(`Set the ${name} variable (wrangler dev --var ${name}:... or wrangler secret put ${name})`)
  }
  if (!payments) {
    payments = Payments.getInstance({ nvmApiKey: env.NVM_API_KEY, backendUrl: env.NVM_BACKEND_URL || undefined })
    payments.mcp.configure({ agentId: env.NVM_AGENT_ID, serverName: SERVER_NAME, planId: env.NVM_PLAN_ID })
  }
  return payments
}

/** The MCP handler: createMcpHandler asks the factory for a fresh server per request. */
function handlerFor(payments) {
  handler ??= createMcpHandler(() => {
    const server = new McpServer({ name: SERVER_NAME, version: '1.0.0' })
    payments.mcp.attach(server).registerTool(
      'echo',
      { title: 'Echo', description: 'Answers its text (1 credit)', inputSchema: z.object({ text: z.string() }) },
      async ({ text }) => ({ content: [{ type: 'text', text }] }),
      { credits: 1n },
    )
    server.registerTool('ping', { title: 'Ping', description: 'Free: answers pong' }, async () => ({ content: [{ type: 'text', text: 'pong' }] }))
    return server
  })
  return handler
}

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'POST, GET, OPTIONS',
  'access-control-allow-headers': 'content-type, accept, authorization, payment-signature, mcp-protocol-version, mcp-session-id, mcp-method, mcp-name',
  'access-control-expose-headers': 'mcp-session-id',
}

function withCors(response) {
  const out = new Response(response.body, response)
  for (const [name, value] of Object.entries(CORS)) out.headers.set(name, value)
  return out
}

export default {
  async fetch(request, env) {
    const { pathname } = new URL(request.url)
    if (request.method === 'OPTIONS') return new Response(null, { status: 204, headers: CORS })
    if (request.method === 'GET' && pathname === '/health') return withCors(Response.json({ ok: true }))
    // How MCP clients learn who authorizes them (the official SDK's OAuth discovery documents),
    // and the MCP revisions this server (the SDK's v2 line) speaks.
    const discovered = paymentsFor(env).mcp.discovery(request, { tools: ['echo', 'ping'], protocolVersions: ['2026-07-28', '2025-11-25'] })
    if (discovered) return discovered
    if (pathname !== '/mcp') return withCors(Response.json({ error: 'Not found' }, { status: 404 }))
    return withCors(await handlerFor(paymentsFor(env)).fetch(request))
  },
}
