// Type definitions for `nvm-x402/mcp` (and `nvm-x402/mcp/asset`): an MCP
// server's tools, resources and prompts. The shared declarations are in
// common.d.ts, the data types in wire-types.d.ts; this file declares what this
// entry's core carries: the MCP paywall, and none of the subscriber's or
// builder's calls (`nvm-x402`).
import type { EnvironmentName, McpServerAPI, PaymentsBase, PaymentsClass, ResolvedScheme } from './common.js'

export * from './common.js'

/** A Nevermined client for an MCP server: `payments.mcp.configure` / `withPaywall` / `attach` / `discovery`, verify and settle. */
export const Payments: PaymentsClass<Payments>
export interface Payments extends PaymentsBase {
  readonly mcp: McpServerAPI
}

/** The plan's scheme and network, cached per plan for 5 minutes. */
export function resolveScheme(payments: Payments, planId: string): Promise<ResolvedScheme>

// ---- the official SDK's OAuth builders: the documents `payments.mcp.discovery()` serves ----

/** Where an environment's OAuth lives: the web app issues and authorizes, the backend has the rest. */
export interface OAuthUrls {
  issuer: string
  authorizationUri: string
  tokenUri: string
  jwksUri: string
  userinfoUri: string
}

/** What the builders describe: an MCP server at `baseUrl`, authorized in `environment`. */
export interface OAuthConfig {
  /** The server's public URL (its origin, or where it is mounted). */
  baseUrl: string
  /** `client_id` in the server info (optional). */
  agentId?: string
  /** An unknown name is `sandbox`, as the official's; `custom` needs every `oauthUrls` field. */
  environment: EnvironmentName
  /** Replaces the environment's URLs. */
  oauthUrls?: Partial<OAuthUrls>
  /** Default: openid, profile, credits, mcp:read, mcp:write, mcp:tools (`buildOidcConfiguration` always adds `openid`). */
  scopes?: string[]
  /** The server info's `name` (default `MCP Server`). */
  serverName?: string
  tools?: string[]
  resources?: string[]
  prompts?: string[]
  /**
   * `mcp_capabilities.protocol_version`: default the first of `protocolVersions` negotiated
   * with `initialize` (`2025-11-25`; the official says `2024-11-05`).
   */
  protocolVersion?: string
  /** The MCP revisions the server speaks (`mcp_capabilities.protocol_versions`; default `['2026-07-28', '2025-11-25']`; not in the official SDK). */
  protocolVersions?: string[]
}

/** RFC 9728: `/.well-known/oauth-protected-resource`. */
export interface ProtectedResourceMetadata {
  resource: string
  /** The backend's origin (it serves the RFC 8414 metadata), never this server nor the web app. */
  authorization_servers: string[]
  scopes_supported: string[]
  bearer_methods_supported: string[]
  resource_documentation?: string
}

/** `/.well-known/oauth-protected-resource/mcp`. */
export interface McpProtectedResourceMetadata extends ProtectedResourceMetadata {
  scopes_required?: string[]
  mcp_capabilities?: { tools?: string[]; protocol_version?: string; protocol_versions?: string[] }
}

/** RFC 8414: `/.well-known/oauth-authorization-server`. */
export interface AuthorizationServerMetadata {
  issuer: string
  authorization_endpoint: string
  token_endpoint: string
  /** `<baseUrl>/register` (`discovery()` leaves it out: it serves no `POST /register`). */
  registration_endpoint?: string
  jwks_uri: string
  response_types_supported: string[]
  grant_types_supported: string[]
  code_challenge_methods_supported: string[]
  scopes_supported: string[]
  token_endpoint_auth_methods_supported: string[]
  subject_types_supported: string[]
}

/** OpenID Connect discovery: `/.well-known/openid-configuration`. */
export interface OidcConfiguration extends AuthorizationServerMetadata {
  userinfo_endpoint?: string
  id_token_signing_alg_values_supported?: string[]
  claims_supported?: string[]
}

/** The official router's answer at `/`. */
export interface ServerInfoResponse {
  name: string
  version: string
  description: string
  endpoints: { mcp: string; health: string; register: string }
  oauth: {
    authorization_server_metadata: string
    protected_resource_metadata: string
    openid_configuration: string
    authorization_endpoint: string
    token_endpoint: string
    jwks_uri: string
    registration_endpoint: string
    /** The config's `agentId`, when it has one. */
    client_id?: string
    scopes: string[]
  }
  tools: string[]
  resources: string[]
  prompts: string[]
}

/** The environment's OAuth URLs, each replaced by its override. */
export function getOAuthUrls(environment: EnvironmentName, overrides?: Partial<OAuthUrls>): OAuthUrls
export function buildProtectedResourceMetadata(config: OAuthConfig): ProtectedResourceMetadata
export function buildMcpProtectedResourceMetadata(config: OAuthConfig): McpProtectedResourceMetadata
export function buildAuthorizationServerMetadata(config: OAuthConfig): AuthorizationServerMetadata
export function buildOidcConfiguration(config: OAuthConfig): OidcConfiguration
/**
 * An Express middleware (the official's) for an OAuth-protected MCP endpoint: a request with
 * `Authorization: Bearer <token>` goes on (the token itself is the paywall's to check); any other
 * gets 401 `{error: 'unauthorized', error_description}` and, when the URL can be built safely,
 * `WWW-Authenticate: Bearer resource_metadata="<origin><resourceMetadataPath>"` (plus
 * `error="invalid_request"` for a malformed credential). The origin is `baseUrl` when given, else the
 * request's `X-Forwarded-Host`/`Host` and `X-Forwarded-Proto`/protocol (a host that is not a plain name
 * or IP literal gets no challenge). Pin `baseUrl` behind a proxy you don't control.
 */
export function createRequireAuthMiddleware(options?: { baseUrl?: string; resourceMetadataPath?: string }): (
  req: { headers: Record<string, string | string[] | undefined>; protocol?: string; get?(name: string): string | undefined },
  res: { setHeader(name: string, value: string): unknown; status(code: number): { json(body: unknown): unknown } },
  next: () => void,
) => void
export function buildServerInfoResponse(config: OAuthConfig, options?: { version?: string; description?: string }): ServerInfoResponse
