// The calls every matrix project makes through the package it bundled or
// imported (copied into each project as src/checks.js by run.mjs), through its
// entries: nvm-x402 (the client), nvm-x402/agent (the HTTP paywall),
// nvm-x402/mcp (the MCP paywall), nvm-x402/a2a (the A2A paywall) and
// nvm-x402/a2a-client (the A2A client) and nvm-x402/mpp (the MPP buyer and codec). No call reaches the network: the
// client's fetch throws, the paywall's route fixes its scheme, so the 402 needs
// no backend, the MCP discovery documents are built from the key alone, and the
// A2A paywall answers its card and what its task store alone decides.
const KEY = 'local:eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIweGFiYyJ9.c2ln'

const offline = {
  nvmApiKey: KEY,
  fetch: () => {
    throw new Error('the matrix checks make no network call')
  },
}

export async function checks(nvm, agent, mcp, a2a, a2aClient, mpp) {
  const payments = nvm.Payments.getInstance(offline)
  const paywall = agent.Payments.getInstance(offline).paywall({ agentId: 'agent-1', routes: { 'POST /tasks': { planId: '7', scheme: 'nvm:erc4337', credits: 2 } } })
  const response = await paywall.handle(new Request('http://127.0.0.1:8787/tasks', { method: 'POST' }), () => new Response('paid'))
  const required = nvm.buildPaymentRequired('7', { endpoint: 'https://agent.example/tasks', agentId: 'agent-1', httpVerb: 'POST' })
  const server = mcp.Payments.getInstance(offline)
  server.mcp.configure({ agentId: 'agent-1', serverName: 'matrix', planId: '7' })
  const discovery = server.mcp.discovery(new Request('http://127.0.0.1:8788/.well-known/oauth-protected-resource'))
  const notInEntry = (f) => {
    try {
      f()
    } catch (e) {
      return { isPaymentsError: e instanceof nvm.PaymentsError, code: e.code, hint: e.hint }
    }
  }
  const agentCard = a2a.buildPaymentAgentCard({ name: 'matrix', url: 'https://agent.example/a2a', capabilities: {} }, { agentId: 'agent-1', planId: '7', credits: 1, paymentType: 'fixed' })
  const a2aServer = a2a.Payments.getInstance(offline).a2a.paywall({ agentCard, executor: { execute() {} } })
  const rpc = async (method, params) => (await a2aServer.fetch(new Request('https://agent.example/a2a', { method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) }))).json()
  const a2aPayments = a2aClient.Payments.getInstance(offline)
  let error
  try {
    nvm.Payments.getInstance({ nvmApiKey: 'not-a-key' })
  } catch (e) {
    error = { isPaymentsError: e instanceof nvm.PaymentsError, code: e.code }
  }
  return {
    environment: payments.environment,
    backendUrl: payments.backendUrl,
    decoded: nvm.decodeAccessToken(nvm.encodeAccessToken({ planId: '7', nested: { a: [1, 2] } })),
    notAToken: nvm.decodeAccessToken('%%%'),
    header: nvm.encodePaymentHeader(required),
    roundTrip: nvm.decodePaymentHeader(nvm.encodePaymentHeader(required)),
    paywall: { status: response.status, paymentRequired: nvm.decodePaymentHeader(response.headers.get('payment-required')), body: await response.json() },
    mcpDiscovery: { status: discovery.status, resource: (await discovery.json()).resource },
    // Each entry's paywall is only in its own core, with a PaymentsError (one class for all entries) elsewhere.
    paywallInClient: notInEntry(() => payments.paywall({ agentId: 'agent-1' })),
    mcpInAgent: notInEntry(() => agent.Payments.getInstance(offline).mcp.configure({ agentId: 'agent-1' })),
    a2a: {
      extensions: agentCard.capabilities.extensions.map((e) => e.uri),
      card: (await (await a2aServer.fetch(new Request('https://agent.example/.well-known/agent-card.json'))).json()).name,
      unknownTask: (await rpc('tasks/get', { id: 'none' })).error.code,
      v1Name: (await rpc('SendMessage', {})).error.code,
      client: { environment: a2aPayments.environment, getClient: typeof a2aPayments.a2a.getClient },
      paywallInClient: notInEntry(() => a2aPayments.paywall({ agentId: 'agent-1' })),
    },
    mpp: (() => {
      const challenge = mpp.parseChallengeHeader('Payment id="c1", realm="r", method="nevermined", intent="charge", request="eyJjcmVkaXRzIjoiMiIsInBsYW5JZCI6IjcifQ"')
      const credential = mpp.buildCredentialHeader(challenge, { accessToken: 'token' })
      return { request: challenge.request, id: mpp.extractCredentialChallengeId(credential), fetch: typeof mpp.Payments.getInstance(offline).mpp.fetch, inClient: typeof nvm.parseChallengeHeader }
    })(),
    error,
    constant: String(nvm.ONE_DAY_DURATION),
  }
}
