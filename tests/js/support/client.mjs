// Test support for the paying client and the demo page: the demo's world (a
// live nvm-local, the Cloudflare Worker example on workerd as its seeded agent,
// optionally a counting proxy between clients and nvm-local), fresh nvm-local
// accounts, and a fetch that records what a client sends. Everything started
// here is stopped by the `stop()` it returns.
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { ROOT, freePort, startNvmLocal, startWrangler } from './servers.mjs'
import { startCountingProxy } from './gate.mjs'

export const EXAMPLE = join(ROOT, 'examples/cloudflare-worker')
export const MCP_EXAMPLE = join(ROOT, 'examples/mcp-worker')

/** The backend path that mints access tokens (one call = one mint). */
export const MINT = '/api/v1/x402/permissions'

/**
 * nvm-local (in memory) whose seeded agent is the Worker example, running on
 * workerd with the builder's key, the agent and the free plan — the world
 * `scripts/demo.sh` starts. With `proxy: true`, `backendUrl` is a counting
 * proxy to nvm-local (`proxy.callsTo(MINT)` counts mints); the Worker talks to
 * nvm-local directly, so the proxy sees only the clients' calls. With `mcp:
 * true`, the MCP Worker example runs too, as the seeded MCP agent (`mcpUrl`).
 */
export async function startDemoWorld({ proxy: withProxy = false, mcp = false } = {}) {
  const stops = []
  const stop = async () => {
    for (const fn of stops.reverse()) await fn()
  }
  try {
    const port = await freePort()
    const mcpPort = await freePort()
    const nvm = await startNvmLocal({ args: ['--agent-url', `http://127.0.0.1:${port}`, '--mcp-url', `http://127.0.0.1:${mcpPort}`] })
    stops.push(nvm.stop)
    const { world } = nvm
    const worker = await startWrangler({
      cwd: EXAMPLE,
      port,
      vars: { NVM_API_KEY: world.accounts.builder.apiKey, NVM_AGENT_ID: world.agent.agentId, NVM_PLAN_ID: world.plans.free.planId, NVM_BACKEND_URL: nvm.url },
    })
    stops.push(worker.stop)
    assert.equal(world.agent.url, `${worker.url}tasks`, 'the seeded agent is this Worker')
    let mcpWorker
    if (mcp) {
      mcpWorker = await startWrangler({
        cwd: MCP_EXAMPLE,
        port: mcpPort,
        vars: { NVM_API_KEY: world.accounts.builder.apiKey, NVM_AGENT_ID: world.mcpAgent.agentId, NVM_PLAN_ID: world.plans.free.planId, NVM_BACKEND_URL: nvm.url },
      })
      stops.push(mcpWorker.stop)
      assert.equal(world.mcpAgent.url, `${mcpWorker.url}mcp`, 'the seeded MCP agent is this Worker')
    }
    let proxy
    if (withProxy) {
      proxy = await startCountingProxy(nvm.url)
      stops.push(proxy.close)
    }
    return { nvm, world, worker, mcpWorker, proxy, backendUrl: proxy?.url ?? nvm.url, agentUrl: world.agent.url, mcpUrl: mcpWorker && world.mcpAgent.url, stop }
  } catch (error) {
    await stop()
    throw error
  }
}

let accounts = 0

/** A new nvm-local account (no credits, no delegation): `{name, address, apiKey}`. */
export async function newAccount(nvm, role = 'client') {
  const name = `${role}-${process.pid}-${++accounts}`
  const response = await fetch(`${nvm.url}local/v1/accounts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name }) })
  assert.equal(response.status, 201)
  return response.json()
}

/**
 * A fetch for `Payments({fetch})` that records every request the client
 * sends — `{method, url, origin, token}` (`token`: its payment-signature, or
 * null) — before passing it on. `route(url)` may rewrite where it really goes.
 */
export function recordingFetch({ route = (url) => url } = {}) {
  const sent = []
  return {
    sent,
    /** The requests sent to `origin` (an agent), in order. */
    to: (origin) => sent.filter((r) => r.origin === new URL(origin).origin),
    fetch: async (input, init) => {
      const request = new Request(input, init)
      const url = new URL(request.url)
      sent.push({ method: request.method, url: request.url, origin: url.origin, token: request.headers.get('payment-signature') })
      const target = route(request.url)
      if (target === request.url) return fetch(request)
      const body = request.method === 'GET' || request.method === 'HEAD' ? undefined : await request.arrayBuffer()
      return fetch(target, { method: request.method, headers: request.headers, body })
    },
  }
}
