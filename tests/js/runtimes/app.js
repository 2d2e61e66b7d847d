// The paid app both runtime servers serve (deno-server.js with Deno.serve,
// bun-server.js with Bun.serve): plain Fetch API, written as a user of either
// runtime writes it, with the package and the MCP SDK from node_modules.
//   POST /tasks   the HTTP paywall (nvm-x402/agent): 1 credit of the plan per answer
//   GET  /health  free
//   POST /mcp     the MCP paywall (nvm-x402/mcp) on the MCP SDK v1's McpServer over
//                 WebStandardStreamableHTTPServerTransport (stateless, JSON answers):
//                 echo {text} paid (1 credit), ping free
//   POST /mcp/v2  the same tools on the MCP SDK v2's McpServer under createMcpHandler
//                 (2026-07-28 clients, and 2025-11-25 ones through its legacy fallback)
// Every refused payment is logged (what a server's log would keep), the token redacted:
// the test reads this output for whole tokens.
import { Payments as AgentPayments, redactToken } from 'nvm-x402/agent'
import { Payments as McpPayments } from 'nvm-x402/mcp'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js'
import { McpServer as McpServerV2, createMcpHandler } from '@modelcontextprotocol/server'
import { z } from 'zod'

const log = (event, fields) => console.log(JSON.stringify({ event, ...fields }))

/** The app's fetch handler for `config`: `{apiKey, backendUrl, agentId, planId, serverName}` (the agent builder's key and agent). */
export function app({ apiKey, backendUrl, agentId, planId, serverName }) {
  const runtime = navigator.userAgent
  const paywall = AgentPayments.getInstance({ nvmApiKey: apiKey, backendUrl }).paywall({
    agentId,
    routes: { 'POST /tasks': { planId, credits: 1 } },
    onPaymentError: (error, request) =>
      log('http.refused', { path: new URL(request.url).pathname, code: error.code, message: error.message, token: redactToken(request.headers.get('payment-signature') ?? '') }),
  })
  const payments = McpPayments.getInstance({ nvmApiKey: apiKey, backendUrl })
  payments.mcp.configure({ agentId, serverName, planId, onPaymentError: (error, call) => log('mcp.refused', { tool: call.name, code: error.code, message: error.message }) })

  /** The tools, on a v1 or v2 McpServer (the v2 line takes a whole zod schema, v1 a shape). */
  const withTools = (server, inputSchema) => {
    payments.mcp.attach(server).registerTool('echo', { description: 'Answers its text (1 credit)', inputSchema }, async ({ text }) => ({ content: [{ type: 'text', text }] }), { credits: 1n })
    server.registerTool('ping', { description: 'Free: answers pong' }, async () => ({ content: [{ type: 'text', text: 'pong' }] }))
    return server
  }
  /** v1: a new server per request (stateless Streamable HTTP keeps nothing between calls). */
  const mcpServer = () => withTools(new McpServer({ name: serverName, version: '1.0.0' }), { text: z.string() })
  /** v2: createMcpHandler makes a server per request from the factory. */
  const mcpV2 = createMcpHandler(() => withTools(new McpServerV2({ name: serverName, version: '2.0.0' }), z.object({ text: z.string() })))

  const tasks = async (request) => {
    const { prompt } = await request.json()
    return Response.json({ answer: `You asked: ${prompt}`, runtime })
  }

  return async (request) => {
    const { pathname } = new URL(request.url)
    if (request.method === 'GET' && pathname === '/health') return Response.json({ ok: true, runtime })
    if (pathname === '/mcp/v2') return mcpV2.fetch(request)
    if (pathname === '/mcp') {
      const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true })
      await mcpServer().connect(transport)
      return transport.handleRequest(request)
    }
    return paywall.handle(request, (paid) => (pathname === '/tasks' ? tasks(paid) : Response.json({ error: 'Not found' }, { status: 404 })))
  }
}
