// Type definitions for `nvm-x402/mcp` (and `nvm-x402/mcp/asset`): an MCP
// server's tools, resources and prompts. The shared declarations are in
// common.d.ts, the data types in wire-types.d.ts; this file declares what this
// entry's core carries: the MCP paywall, and none of the subscriber's or
// builder's calls (`nvm-x402`).
import type { McpServerAPI, PaymentsBase, PaymentsClass, ResolvedScheme } from './common.js'

export * from './common.js'

/** A Nevermined client for an MCP server: `payments.mcp.configure` / `withPaywall` / `attach` / `discovery`, verify and settle. */
export const Payments: PaymentsClass<Payments>
export interface Payments extends PaymentsBase {
  readonly mcp: McpServerAPI
}

/** The plan's scheme and network, cached per plan for 5 minutes. */
export function resolveScheme(payments: Payments, planId: string): Promise<ResolvedScheme>
