// nvm-x402/mcp's OAuth builders (getOAuthUrls, buildProtectedResourceMetadata,
// buildMcpProtectedResourceMetadata, buildAuthorizationServerMetadata,
// buildOidcConfiguration, buildServerInfoResponse), written from what the
// official SDK's tests/unit/mcp/oauth_metadata_builders.test.ts asserts; and
// that payments.mcp.discovery() serves the same documents.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  Payments,
  buildAuthorizationServerMetadata,
  buildMcpProtectedResourceMetadata,
  buildOidcConfiguration,
  buildProtectedResourceMetadata,
  buildServerInfoResponse,
  getOAuthUrls,
} from 'nvm-x402/mcp'
import * as client from 'nvm-x402'
import { offlineKey } from '../support/gate.mjs'

const baseConfig = {
  baseUrl: 'http://localhost:3000',
  agentId: 'did:nv:agent123',
  environment: 'staging_sandbox',
  serverName: 'test-mcp-server',
  tools: ['weather.today', 'weather.forecast'],
  resources: ['weather://today/{city}'],
  prompts: ['weather.ensureCity'],
}
const DEFAULT_SCOPES = ['openid', 'profile', 'credits', 'mcp:read', 'mcp:write', 'mcp:tools']

test('only nvm-x402/mcp exports the builders', () => {
  assert.equal(client.buildProtectedResourceMetadata, undefined)
  assert.equal(client.getOAuthUrls, undefined)
})

test('buildProtectedResourceMetadata: the resource, the backend as authorization server, the scopes', () => {
  const metadata = buildProtectedResourceMetadata(baseConfig)
  assert.equal(metadata.resource, 'http://localhost:3000')
  assert.deepEqual(metadata.authorization_servers, ['https://api.sandbox.nevermined.dev'])
  assert.ok(!metadata.authorization_servers.includes(baseConfig.baseUrl))
  assert.ok(!metadata.authorization_servers.includes(getOAuthUrls(baseConfig.environment).issuer))
  assert.deepEqual(metadata.bearer_methods_supported, ['header'])
  assert.equal(metadata.resource_documentation, 'http://localhost:3000/')
  for (const scope of DEFAULT_SCOPES) assert.ok(metadata.scopes_supported.includes(scope), scope)
  const custom = buildProtectedResourceMetadata({ ...baseConfig, scopes: ['custom:scope1', 'custom:scope2'] })
  assert.deepEqual(custom.scopes_supported, ['custom:scope1', 'custom:scope2'])
})

test('buildMcpProtectedResourceMetadata: the /mcp resource, its capabilities, scopes required as supported', () => {
  const metadata = buildMcpProtectedResourceMetadata(baseConfig)
  assert.equal(metadata.resource, 'http://localhost:3000/mcp')
  assert.deepEqual(metadata.authorization_servers, ['https://api.sandbox.nevermined.dev'])
  assert.deepEqual(metadata.bearer_methods_supported, ['header'])
  assert.deepEqual(metadata.mcp_capabilities.tools, ['weather.today', 'weather.forecast'])
  assert.equal(metadata.mcp_capabilities.protocol_version, '2024-11-05')
  assert.ok(metadata.scopes_required.length > 0)
  assert.deepEqual(metadata.scopes_supported, metadata.scopes_required)
  assert.equal(buildMcpProtectedResourceMetadata({ ...baseConfig, protocolVersion: '2024-12-01' }).mcp_capabilities.protocol_version, '2024-12-01')
})

test('authorization_servers is the backend of every environment, never the web app nor the server', () => {
  for (const [environment, backend, frontend] of [
    ['staging_sandbox', 'https://api.sandbox.nevermined.dev', 'https://nevermined.dev'],
    ['staging_live', 'https://api.live.nevermined.dev', 'https://nevermined.dev'],
    ['sandbox', 'https://api.sandbox.nevermined.app', 'https://nevermined.app'],
    ['live', 'https://api.live.nevermined.app', 'https://nevermined.app'],
  ]) {
    const cfg = { baseUrl: 'http://localhost:3000', environment }
    for (const md of [buildProtectedResourceMetadata(cfg), buildMcpProtectedResourceMetadata(cfg)]) {
      assert.deepEqual(md.authorization_servers, [backend], environment)
      assert.ok(!md.authorization_servers.includes(frontend) && !md.authorization_servers.includes('http://localhost:3000'))
    }
  }
  // A tokenUri override that is undefined or no URL: the environment's.
  for (const tokenUri of [undefined, 'not a url']) {
    const md = buildProtectedResourceMetadata({ ...baseConfig, oauthUrls: { tokenUri } })
    assert.deepEqual(md.authorization_servers, ['https://api.sandbox.nevermined.dev'], String(tokenUri))
  }
  // A tokenUri override that is a URL: its origin.
  const moved = buildProtectedResourceMetadata({ ...baseConfig, oauthUrls: { tokenUri: 'https://auth.example:8443/oauth/token' } })
  assert.deepEqual(moved.authorization_servers, ['https://auth.example:8443'])
})

test('buildAuthorizationServerMetadata: the endpoints, PKCE, scopes, client_secret_post, custom URLs', () => {
  const metadata = buildAuthorizationServerMetadata(baseConfig)
  for (const field of ['issuer', 'authorization_endpoint', 'token_endpoint', 'jwks_uri']) assert.equal(typeof metadata[field], 'string', field)
  assert.equal(metadata.registration_endpoint, 'http://localhost:3000/register')
  assert.deepEqual(metadata.response_types_supported, ['code'])
  assert.ok(metadata.grant_types_supported.includes('authorization_code') && metadata.grant_types_supported.includes('refresh_token'))
  assert.deepEqual(metadata.code_challenge_methods_supported, ['S256'])
  assert.ok(metadata.scopes_supported.includes('openid') && metadata.scopes_supported.includes('credits'))
  assert.ok(metadata.token_endpoint_auth_methods_supported.includes('client_secret_post'))
  const oauthUrls = {
    issuer: 'https://custom-issuer.com',
    authorizationUri: 'https://custom-issuer.com/oauth/authorize',
    tokenUri: 'https://custom-api.com/oauth/token',
    jwksUri: 'https://custom-api.com/.well-known/jwks.json',
    userinfoUri: 'https://custom-api.com/oauth/userinfo',
  }
  const custom = buildAuthorizationServerMetadata({ ...baseConfig, oauthUrls })
  assert.equal(custom.issuer, oauthUrls.issuer)
  assert.equal(custom.authorization_endpoint, oauthUrls.authorizationUri)
  assert.equal(custom.token_endpoint, oauthUrls.tokenUri)
  assert.equal(custom.jwks_uri, oauthUrls.jwksUri)
})

test('buildOidcConfiguration: the endpoints, openid always among the scopes (once), auth methods, algorithms, claims', () => {
  const config = buildOidcConfiguration(baseConfig)
  for (const field of ['issuer', 'authorization_endpoint', 'token_endpoint', 'jwks_uri', 'userinfo_endpoint']) assert.equal(typeof config[field], 'string', field)
  assert.equal(config.registration_endpoint, 'http://localhost:3000/register')
  const added = buildOidcConfiguration({ ...baseConfig, scopes: ['profile', 'credits'] }).scopes_supported
  assert.ok(['openid', 'profile', 'credits'].every((s) => added.includes(s)))
  const kept = buildOidcConfiguration({ ...baseConfig, scopes: ['openid', 'profile'] }).scopes_supported
  assert.equal(kept.filter((s) => s === 'openid').length, 1)
  assert.ok(config.token_endpoint_auth_methods_supported.includes('none') && config.token_endpoint_auth_methods_supported.includes('client_secret_post'))
  assert.ok(config.id_token_signing_alg_values_supported.includes('RS256') && config.id_token_signing_alg_values_supported.includes('HS256'))
  for (const claim of ['sub', 'iss', 'aud', 'exp', 'iat', 'name', 'email']) assert.ok(config.claims_supported.includes(claim), claim)
})

test('buildServerInfoResponse: name, version, endpoints, OAuth documents, capabilities, client_id, scopes', () => {
  const info = buildServerInfoResponse(baseConfig)
  assert.equal(info.name, 'test-mcp-server')
  assert.equal(info.version, '1.0.0')
  assert.equal(info.endpoints.mcp, 'http://localhost:3000/mcp')
  assert.equal(info.endpoints.health, 'http://localhost:3000/health')
  assert.equal(info.endpoints.register, 'http://localhost:3000/register')
  assert.equal(info.oauth.authorization_server_metadata, 'http://localhost:3000/.well-known/oauth-authorization-server')
  assert.equal(info.oauth.protected_resource_metadata, 'http://localhost:3000/.well-known/oauth-protected-resource')
  assert.equal(info.oauth.openid_configuration, 'http://localhost:3000/.well-known/openid-configuration')
  assert.deepEqual(info.tools, ['weather.today', 'weather.forecast'])
  assert.deepEqual(info.resources, ['weather://today/{city}'])
  assert.deepEqual(info.prompts, ['weather.ensureCity'])
  const custom = buildServerInfoResponse(baseConfig, { version: '2.0.0', description: 'Custom MCP server' })
  assert.equal(custom.version, '2.0.0')
  assert.equal(custom.description, 'Custom MCP server')
  assert.equal(info.oauth.client_id, 'did:nv:agent123')
  assert.ok(Array.isArray(info.oauth.scopes) && info.oauth.scopes.length > 0)
  // Without an agentId (optional under the plan-centric model) there is no client_id.
  const { agentId, ...noAgent } = baseConfig
  assert.ok(!('client_id' in buildServerInfoResponse(noAgent).oauth), agentId)
})

test('getOAuthUrls: each environment, partial and complete overrides', () => {
  for (const environment of ['staging_sandbox', 'live']) {
    const urls = getOAuthUrls(environment)
    assert.equal(typeof urls.issuer, 'string')
    assert.ok(urls.authorizationUri.includes('/oauth/authorize'))
    assert.ok(urls.tokenUri.includes('/oauth/token'))
    assert.ok(urls.jwksUri.includes('/.well-known/jwks.json'))
    assert.ok(urls.userinfoUri.includes('/oauth/userinfo'))
  }
  const partial = getOAuthUrls('staging_sandbox', { issuer: 'https://custom-issuer.com' })
  assert.equal(partial.issuer, 'https://custom-issuer.com')
  assert.equal(partial.tokenUri, getOAuthUrls('staging_sandbox').tokenUri)
  const customUrls = {
    issuer: 'https://custom-issuer.com',
    authorizationUri: 'https://custom-issuer.com/auth',
    tokenUri: 'https://custom-api.com/token',
    jwksUri: 'https://custom-api.com/jwks',
    userinfoUri: 'https://custom-api.com/userinfo',
  }
  assert.deepEqual(getOAuthUrls('staging_sandbox', customUrls), customUrls)
})

test('custom has no URLs of its own: the builders need them all, and say so', () => {
  const partial = { ...baseConfig, environment: 'custom', oauthUrls: { tokenUri: 'https://api.example/oauth/token' } }
  assert.throws(() => buildAuthorizationServerMetadata(partial), (e) => e instanceof client.PaymentsError && e.code === 'validation' && /oauthUrls\.issuer/.test(e.message) && /NVM_BACKEND_URL/.test(e.hint))
  assert.throws(() => getOAuthUrls('custom'), (e) => e.code === 'validation')
  const urls = { issuer: 'https://app.example', authorizationUri: 'https://app.example/a', tokenUri: 'https://api.example/t', jwksUri: 'https://api.example/j', userinfoUri: 'https://api.example/u' }
  assert.deepEqual(buildProtectedResourceMetadata({ ...baseConfig, environment: 'custom', oauthUrls: urls }).authorization_servers, ['https://api.example'])
})

test('discovery() serves the builders\' documents for the client\'s environment, without a registration endpoint', async () => {
  const payments = Payments.getInstance({ nvmApiKey: offlineKey().replace(/^local:/, 'live:') })
  payments.mcp.configure({ agentId: 'agent-mcp', serverName: 'weather', planId: '1' })
  const options = { tools: ['echo'], scopes: ['credits', 'mcp:tools'] }
  const config = { baseUrl: 'https://mcp.example', environment: 'live', ...options }
  for (const [path, builder] of [
    ['/.well-known/oauth-protected-resource', buildProtectedResourceMetadata],
    ['/.well-known/oauth-protected-resource/mcp', buildMcpProtectedResourceMetadata],
    ['/.well-known/oauth-authorization-server', buildAuthorizationServerMetadata],
    ['/.well-known/openid-configuration', buildOidcConfiguration],
  ]) {
    const served = await payments.mcp.discovery(new Request(`https://mcp.example${path}`), options).json()
    const { registration_endpoint: registration, ...built } = builder(config)
    assert.deepEqual(served, built, path)
    assert.equal('registration_endpoint' in served, false, path)
    if (path.includes('authorization') || path.includes('openid')) assert.equal(registration, 'https://mcp.example/register')
  }
})
