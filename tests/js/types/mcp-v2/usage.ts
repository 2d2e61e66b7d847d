// The MCP paywall over the official MCP SDK's v2 line (@modelcontextprotocol/server),
// strict: the README's v2 snippet, handlers typed from the schema and from the
// server (`ctx` is v2's ServerContext), and wrong usages rejected.
import { McpServer, ResourceTemplate, createMcpHandler } from '@modelcontextprotocol/server'
import { McpServer as McpServerV1 } from '@modelcontextprotocol/sdk/server/mcp.js'
import { z } from 'zod'
import { Payments } from 'nvm-x402/mcp'

interface Env { NVM_API_KEY: string; NVM_AGENT_ID: string; NVM_PLAN_ID: string }

/** README, "Agent: a paid MCP server in a Worker" (the v2 server). */
export function readmeMcpV2(env: Env): { fetch: (request: Request) => Promise<Response> } {
  const payments = Payments.getInstance({ nvmApiKey: env.NVM_API_KEY })
  payments.mcp.configure({ agentId: env.NVM_AGENT_ID, serverName: 'my-server', planId: env.NVM_PLAN_ID })
  return createMcpHandler(() => {
    const server = new McpServer({ name: 'my-server', version: '1.0.0' })
    payments.mcp.attach(server).registerTool('echo', { inputSchema: z.object({ text: z.string() }) },
      async ({ text }) => ({ content: [{ type: 'text', text }] }), { credits: 1n })
    return server
  })
}

export function typed(): void {
  const payments = Payments.getInstance({ nvmApiKey: 'k' })
  const server = new McpServer({ name: 's', version: '1' })
  const paid = payments.mcp.attach(server)
  paid.registerTool('sum', { inputSchema: z.object({ a: z.number(), b: z.number().optional() }) }, async ({ a, b }, ctx, context) => {
    // v2's ctx, typed by the server: its request, its abort signal, its HTTP Request.
    const signal: AbortSignal = ctx.mcpReq.signal
    const method: string = ctx.mcpReq.method
    const request: Request | undefined = ctx.http?.req
    const plan: string = context.planId
    // @ts-expect-error b may be undefined
    const strict: number = b
    void [signal, method, request, plan, strict]
    return { content: [{ type: 'text' as const, text: String(a + (b ?? 0)) }] }
  }, { credits: (c) => BigInt(c.args.a) })
  // @ts-expect-error v2's ctx has no v1 requestInfo
  paid.registerTool('old', { inputSchema: z.object({ t: z.string() }) }, async ({ t }, ctx) => ({ content: [{ type: 'text' as const, text: t + String(ctx.requestInfo) }] }))
  // @ts-expect-error the schema says text is a string
  paid.registerTool('wrong', { inputSchema: z.object({ text: z.string() }) }, async ({ text }: { text: number }) => ({ content: [{ type: 'text' as const, text: String(text) }] }))
  paid.registerResource('report', new ResourceTemplate('reports://{id}', { list: undefined }), {}, async (uri, variables, ctx) => ({ contents: [{ uri: uri.href, text: `${String(variables.id)} ${ctx.mcpReq.method}` }] }), { credits: 2n })
  paid.registerPrompt('summary', { argsSchema: z.object({ topic: z.string() }) }, async ({ topic }) => ({ messages: [{ role: 'user' as const, content: { type: 'text' as const, text: topic } }] }))

  // A v1 server's handlers get v1's extra.
  const v1 = payments.mcp.attach(new McpServerV1({ name: 's', version: '1' }))
  v1.registerTool('echo', { inputSchema: { text: z.string() } }, async ({ text }, extra) => {
    const id: string | number = extra.requestId
    void id
    return { content: [{ type: 'text' as const, text }] }
  })
}
