// The calls every matrix project makes through the package it bundled or
// imported (copied into each project as src/checks.js by run.mjs). No call
// reaches the network: the client's fetch throws, and the paywall's route
// fixes its scheme, so the 402 needs no backend.
const KEY = 'local:eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIweGFiYyJ9.c2ln'

export async function checks(nvm) {
  const payments = nvm.Payments.getInstance({
    nvmApiKey: KEY,
    fetch: () => {
      throw new Error('the matrix checks make no network call')
    },
  })
  const paywall = payments.paywall({ agentId: 'agent-1', routes: { 'POST /tasks': { planId: '7', scheme: 'nvm:erc4337', credits: 2 } } })
  const response = await paywall.handle(new Request('http://127.0.0.1:8787/tasks', { method: 'POST' }), () => new Response('paid'))
  const required = nvm.buildPaymentRequired('7', { endpoint: 'https://agent.example/tasks', agentId: 'agent-1', httpVerb: 'POST' })
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
    error,
    constant: String(nvm.ONE_DAY_DURATION),
  }
}
