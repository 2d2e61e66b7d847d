// A recording backend for the parity test: answers every call the drivers
// make the way the Nevermined backend would (shapes both SDKs' parsers
// accept), and files each request under the call announced by the last
// POST /__parity/mark. Binds 127.0.0.1 on a free port; close() stops it.
import http from 'node:http'

const RECEIVER = '0x5b38da6a701c568545dcfcb03fcb875f56beddc4'
const PLAN = { id: '101', planId: '101', owner: RECEIVER, registry: { owner: RECEIVER, price: { isCrypto: true, amounts: [], receivers: [] }, credits: { amount: '10', minAmount: '1', maxAmount: '1', durationSecs: '0' } }, metadata: { main: { name: 'Plan' }, plan: { accessLimit: 'credits' } } }
const DELEGATION = { delegationId: 'del-1', id: 'del-1', provider: 'erc4337', providerPaymentMethodId: null, cardId: null, status: 'active', spendingLimitCents: 1000, amountSpentCents: 0, spentCents: 0, remainingBudgetCents: 1000, currency: 'usdc', transactionCount: 0, durationSecs: 3600, expiresAt: '2030-01-01T00:00:00.000Z', createdAt: '2026-01-01T00:00:00.000Z', apiKeyId: null }
const CARD = { id: 'pm_card_1', type: 'card', brand: 'visa', last4: '4242', expMonth: 12, expYear: 2030, provider: 'stripe', alias: 'Test card', status: 'Active', allowedApiKeyIds: null }

// The contracts payments-py's Contracts model requires (every one), at made-up addresses.
const CONTRACTS = Object.fromEntries(['AccessManager', 'AgreementsStore', 'AssetsRegistry', 'DistributePaymentsCondition', 'FiatPaymentTemplate', 'FiatSettlementCondition', 'FixedPaymentTemplate', 'LinearPricing', 'LockPaymentCondition', 'NFT1155Credits', 'NFT1155ExpirableCredits', 'NFT1155ExpirableCreditsV2', 'NVMConfig', 'OneTimeCreatorHook', 'PayAsYouGoTemplate', 'PaymentsVault', 'ProtocolStandardFees', 'TokenUtils', 'TransferCreditsCondition'].map((name, i) => [name, `0x${String(i + 1).padStart(40, '0')}`]))
const AGENT = { id: '201', agentId: '201', name: 'Agent', owner: RECEIVER, metadata: { main: { name: 'Agent' } }, registry: { owner: RECEIVER, plans: ['101'] } }

/** [method, path pattern, status, answer] */
const ROUTES = [
  ['GET', /^\/$/, 200, { name: 'parity', deployment: { version: '1.0.0', chainId: 84532, contracts: CONTRACTS } }],
  ['GET', /^\/api\/v1\/protocol\/agents$/, 200, { total: 1, page: 1, offset: 10, agents: [AGENT] }],
  ['GET', /^\/api\/v1\/protocol\/plans\/[^/]+\/agents$/, 200, { total: 1, page: 1, offset: 10, agents: [AGENT] }],
  ['PUT', /^\/api\/v1\/protocol\/agents\/[^/]+$/, 200, { success: true, message: 'updated' }],
  ['POST', /^\/api\/v1\/protocol\/agents\/[^/]+\/plan\/[^/]+$/, 200, { success: true, txHash: '0x06' }],
  ['DELETE', /^\/api\/v1\/protocol\/agents\/[^/]+\/plan\/[^/]+$/, 200, { success: true, txHash: '0x07' }],
  ['POST', /^\/api\/v1\/protocol\/plans$/, 201, { planId: '101', data: { planId: '101' }, txHash: '0x01' }],
  ['POST', /^\/api\/v1\/protocol\/agents$/, 201, { data: { agentId: '201' }, txHash: '0x02' }],
  ['POST', /^\/api\/v1\/protocol\/agents\/plans$/, 201, { data: { agentId: '201', planId: '101' }, txHash: '0x03' }],
  ['GET', /^\/api\/v1\/protocol\/plans\/[^/]+\/balance\/[^/]+$/, 200, { planId: '101', planName: 'Plan', planType: 'credits', holderAddress: '0x00000000000000000000000000000000000000b0', balance: '10', creditsContract: '0x0000000000000000000000000000000000000c0c', isSubscriber: true, pricePerCredit: 0 }],
  ['POST', /^\/api\/v1\/protocol\/plans\/[^/]+\/order$/, 201, { success: true, txHash: '0x04' }],
  ['GET', /^\/api\/v1\/protocol\/plans\/[^/]+$/, 200, PLAN],
  ['GET', /^\/api\/v1\/protocol\/plans$/, 200, { total: 1, page: 1, offset: 10, plans: [PLAN] }],
  ['GET', /^\/api\/v1\/protocol\/agents\/[^/]+\/plans$/, 200, { total: 1, page: 1, offset: 10, plans: [PLAN] }],
  ['GET', /^\/api\/v1\/protocol\/agents\/[^/]+$/, 200, { id: '201', agentId: '201', owner: RECEIVER, metadata: { main: { name: 'Agent' } }, registry: { owner: RECEIVER, plans: ['101'] } }],
  ['POST', /^\/api\/v1\/fiat\/stripe\/payment$/, 201, { sessionId: 'cs_1', url: 'https://checkout.example/cs_1', clientSecret: 'cs_1_secret' }],
  ['POST', /^\/api\/v1\/delegation\/create$/, 201, { delegationId: 'del-1', delegationToken: 'dtok' }],
  ['GET', /^\/api\/v1\/delegation$/, 200, [DELEGATION]],
  ['GET', /^\/api\/v1\/payment-methods$/, 200, [CARD]],
  ['POST', /^\/api\/v1\/x402\/permissions$/, 201, { accessToken: 'e30', delegationId: 'del-1', tokenVersion: 2 }],
  ['POST', /^\/api\/v1\/x402\/verify$/, 200, { isValid: true, payer: '0x00000000000000000000000000000000000000b0', network: 'eip155:84532', agentRequestId: 'req-1', urlMatching: 'https://agent.example/tasks' }],
  ['POST', /^\/api\/v1\/orders$/, 201, { orderId: 'ord_9f2c1a7e-3b4d-4c8a-9e21-0a5b6c7d8e9f', status: 'requires_payment', clientSecret: 'pi_1_secret_2' }],
  ['GET', /^\/api\/v1\/orders\/[^/]+$/, 200, { id: 'ord_9f2c1a7e-3b4d-4c8a-9e21-0a5b6c7d8e9f', amountMinor: 3437, currency: 'usd', status: 'requires_payment', amountRefundedMinor: 0, description: null, buyerRef: null, paymentIntentId: 'pi_1', expiresAt: null, clientSecret: 'pi_1_secret_2' }],
  ['POST', /^\/api\/v1\/organizations\/account$/, 201, { success: true, walletResult: { hash: 'local:eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIweGFiYyJ9.c2ln', nvmApiKey: 'local:eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIweGFiYyJ9.c2ln', userId: 'us-42', userWallet: '0x00000000000000000000000000000000000000b1', alreadyMember: false, isCustomer: true, customerRecorded: true } }],
  ['POST', /^\/api\/v1\/organizations\/members$/, 200, { members: [], totalResults: 0 }],
  ['GET', /^\/api\/v1\/organizations\/my-memberships$/, 200, []],
  ['GET', /^\/api\/v1\/organizations\/[^/]+\/activity$/, 200, { items: [], total: 0 }],
  ['POST', /^\/api\/v1\/fiat\/stripe\/account$/, 201, { stripeAccountId: 'acct_1', stripeAccountLink: 'https://connect.example/acct_1', userId: 'us-42', userCountryCode: 'ES', linkCreatedAt: 1, linkExpiresAt: 2 }],
  ['POST', /^\/api\/v1\/x402\/settle$/, 200, { success: true, payer: '0x00000000000000000000000000000000000000b0', transaction: '0x05', network: 'eip155:84532', creditsRedeemed: '2', remainingBalance: '8' }],
]

export async function startParityBackend() {
  const calls = new Map()
  let current = '(before any call)'
  const server = http.createServer(async (req, res) => {
    const chunks = []
    for await (const chunk of req) chunks.push(chunk)
    const body = Buffer.concat(chunks).toString('utf8')
    const url = new URL(req.url, 'http://x')
    if (url.pathname === '/__parity/mark') {
      current = JSON.parse(body).id
      calls.set(current, [])
      res.end('{}')
      return
    }
    if (!calls.has(current)) calls.set(current, [])
    calls.get(current).push({ method: req.method, path: url.pathname, query: url.search, headers: req.headers, body })
    const route = ROUTES.find(([m, p]) => m === req.method && p.test(url.pathname))
    const [status, answer] = route ? [route[2], route[3]] : [404, { code: 'BCK.TEST.0404', message: `no answer for ${req.method} ${url.pathname}`, httpStatus: 404 }]
    res.writeHead(status, { 'content-type': 'application/json' })
    res.end(JSON.stringify(answer))
  })
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok))
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    calls,
    close: () => new Promise((ok) => {
      server.close(ok)
      server.closeAllConnections()
    }),
  }
}
