// Type test of the package's declarations, imported by name as an npm user
// does, from each entry. Compiled with `tsc -p tests/js/types` (strict, no
// emit): every correct usage must type-check, and every `@ts-expect-error`
// line must be an error (an unused directive fails the compile). The README's
// examples are here as TypeScript, each against its entry.
import {
  Payments,
  PaymentsError,
  ZeroAddress,
  ONE_DAY_DURATION,
  ONE_MONTH_DURATION,
  buildPaymentRequired,
  buildPaymentRequiredForPlans,
  decodeAccessToken,
  decodePaymentHeader,
  encodeAccessToken,
  encodePaymentHeader,
  fetchWithPayment,
  getCryptoPriceConfig,
  getDynamicCreditsConfig,
  getERC20PriceConfig,
  getExpirableDurationConfig,
  getFiatPriceConfig,
  getFixedCreditsConfig,
  getFreePriceConfig,
  getNativeTokenPriceConfig,
  getNonExpirableDurationConfig,
  getPayAsYouGoCreditsConfig,
  getPayAsYouGoPriceConfig,
  redactToken,
  resolveScheme,
  tryDecodeAccessToken,
} from 'nvm-x402'
import { Payments as AgentPayments, Paywall, redactToken as agentRedactToken } from 'nvm-x402/agent'
import { Payments as McpPayments, buildMcpProtectedResourceMetadata, buildOidcConfiguration, buildServerInfoResponse, getOAuthUrls, type OAuthConfig } from 'nvm-x402/mcp'
import { paywall as honoPaywall } from 'nvm-x402/hono'
import { paymentMiddleware } from 'nvm-x402/express'
import { withPaywall } from 'nvm-x402/next'
import type { ExecutionContextLike } from 'nvm-x402/agent'
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js'
import { Hono } from 'hono'
import { z } from 'zod'
import type {
  AccessTokenResult,
  CreateDelegationResponse,
  DelegationListResponse,
  DelegationSummary,
  EnvironmentName,
  JsonObject,
  JsonValue,
  PaginationOptions,
  PaymentMethodSummary,
  PaymentsErrorCode,
  PaymentsFetch,
  PaymentsOptions,
  PlanBalance,
  PriceConfigResult,
  CreditsConfigResult,
  ResolvedScheme,
  SettlePermissionsResult,
  StartAgentRequest,
  StartProcessingResult,
  TokenDecodeFailure,
  VerifyPermissionsResult,
  X402PaymentAccepted,
  X402PaymentRequired,
  X402SchemeType,
} from 'nvm-x402'
// The names used before the official ones: deprecated aliases, still valid.
import type { Delegation, PaymentRequired, Scheme, SettleResult, VerifyParams, VerifyResult, X402AccessToken } from 'nvm-x402'
import { CURRENT_ORG_ID_HEADER, OrganizationActivityEventType, OrganizationMemberRole } from 'nvm-x402'
import type { CustomerOnboardingResponse, MyMembership, OrganizationActivityPage, PurchasingPower } from 'nvm-x402'

const RECEIVER = '0x1234567890abcdef1234567890ABCDEF12345678'

// ---- the client ------------------------------------------------------------------

const payments: Payments = Payments.getInstance({ nvmApiKey: 'sandbox:eyJ...' })
const options: PaymentsOptions = {
  nvmApiKey: 'local:eyJ...',
  environment: 'staging_sandbox',
  backendUrl: 'http://127.0.0.1:3001',
  organizationId: 'org-1',
  timeoutMs: 5_000,
  fetch: globalThis.fetch,
}
new Payments(options)
// The injected fetch gets (url, init) for backend calls and a Request for agents, and answers a Response.
const logged: PaymentsFetch = async (input, init) => {
  const url: string = typeof input === 'string' ? input : input.url
  return globalThis.fetch(input, init).finally(() => void url)
}
Payments.getInstance({ nvmApiKey: 'k', fetch: logged })
Payments.getInstance({ nvmApiKey: 'k', fetch: (input, init) => globalThis.fetch(input, init) })
// @ts-expect-error a Response-like answer is not enough: an agent's answer is handed back to the caller as a Response
Payments.getInstance({ nvmApiKey: 'k', fetch: async (input: Request | string) => ({ status: 200, text: async () => String(input) }) })
// @ts-expect-error agents are called with a Request, not only a URL string
Payments.getInstance({ nvmApiKey: 'k', fetch: (url: string) => globalThis.fetch(url) })
Payments.getInstance({ nvmApiKey: 'k', environment: 'live-staging' })

// @ts-expect-error nvmApiKey is required
Payments.getInstance({})
// @ts-expect-error options are required
Payments.getInstance()
// @ts-expect-error unknown environment
Payments.getInstance({ nvmApiKey: 'k', environment: 'mars' })
// @ts-expect-error timeoutMs is a number
Payments.getInstance({ nvmApiKey: 'k', timeoutMs: '30' })
// @ts-expect-error fetch must be a function
Payments.getInstance({ nvmApiKey: 'k', fetch: 'fetch' })

const environment: EnvironmentName = payments.environment
const backendUrl: string = payments.backendUrl
const account: string | undefined = payments.accountAddress
// @ts-expect-error the address may be absent
const accountRequired: string = payments.accountAddress
// @ts-expect-error read-only
payments.environment = 'live'

// ---- x402 ------------------------------------------------------------------------

async function x402(): Promise<void> {
  const minted: AccessTokenResult = await payments.x402.getX402AccessToken('123', 'agent-1', { delegationConfig: { delegationId: 'del-1' } })
  const token: string = minted.accessToken
  await payments.x402.getX402AccessToken('123', undefined, {
    scheme: 'nvm:card-delegation',
    network: 'stripe',
    delegationConfig: { delegationId: 'del-1', apiKeyId: 'key-1' },
    tokenVersion: 3,
    resource: { url: 'https://agent.example/tasks', mimeType: 'application/json' },
    httpVerb: 'POST',
  })
  // Deprecated inline fields still type-check (they are marked @deprecated).
  await payments.x402.getX402AccessToken('123', 'a', { delegationConfig: { spendingLimitCents: 1000n, durationSecs: ONE_DAY_DURATION } })

  // @ts-expect-error tokenVersion is 2 or 3
  await payments.x402.getX402AccessToken('123', 'a', { delegationConfig: { delegationId: 'd' }, tokenVersion: 4 })
  // @ts-expect-error delegationConfig is required
  await payments.x402.getX402AccessToken('123', 'a', {})
  // The official SDK's signature: agentId and tokenOptions are optional in the types (without
  // delegationConfig the call throws at run time, before sending anything).
  await payments.x402.getX402AccessToken('123', 'agent-1')
  await payments.x402.getX402AccessToken('123')
  // @ts-expect-error planId is a string
  await payments.x402.getX402AccessToken(123, 'a', { delegationConfig: { delegationId: 'd' } })
  // @ts-expect-error resource needs a url
  await payments.x402.getX402AccessToken('123', 'a', { delegationConfig: { delegationId: 'd' }, resource: { description: 'x' } })

  const paymentRequired: X402PaymentRequired = buildPaymentRequired('123', { endpoint: 'https://agent.example/tasks', agentId: 'a', httpVerb: 'POST' })
  const verified: VerifyPermissionsResult = await payments.facilitator.verifyPermissions({ paymentRequired, x402AccessToken: token, maxAmount: 1n })
  const valid: boolean = verified.isValid
  const reason: string | undefined = verified.invalidReason
  const agentRequest: StartAgentRequest | undefined = verified.agentRequest
  const balance: PlanBalance | undefined = agentRequest?.balance
  // The deprecated names are the same types.
  const old: VerifyResult = verified
  const params: VerifyParams = { paymentRequired: paymentRequired as PaymentRequired, x402AccessToken: token }
  await payments.facilitator.verifyPermissions(params)
  void old
  await payments.facilitator.verifyPermissions({ paymentRequired, x402AccessToken: token, maxAmount: '1' })
  await payments.facilitator.verifyPermissions({ paymentRequired, x402AccessToken: token, maxAmount: 1 })
  // @ts-expect-error maxAmount is a bigint, number or decimal string
  await payments.facilitator.verifyPermissions({ paymentRequired, x402AccessToken: token, maxAmount: true })
  // @ts-expect-error the token is required
  await payments.facilitator.verifyPermissions({ paymentRequired })

  const settled: SettlePermissionsResult = await payments.facilitator.settlePermissions({ paymentRequired, x402AccessToken: token, maxAmount: 2n, agentRequestId: 'r', batch: false, marginPercent: 0.5 })
  const redeemed: string | undefined = settled.creditsRedeemed
  const ok: boolean = settled.success
  // @ts-expect-error batch is a boolean
  await payments.facilitator.settlePermissions({ paymentRequired, x402AccessToken: token, batch: 'yes' })

  const started: StartProcessingResult = await payments.requests.startProcessingRequest('agent-1', token, 'https://agent.example/tasks', 'POST', { credits: 2n })
  const credits: string = started.balance.balance
  const subscriber: boolean = started.balance.isSubscriber
  await payments.requests.startProcessingRequest('agent-1', null, '/tasks', 'GET')
  // @ts-expect-error url and httpVerb are required
  await payments.requests.startProcessingRequest('agent-1', token)

  const scheme: ResolvedScheme = await resolveScheme(payments, '123')
  const name: X402SchemeType = scheme.scheme
  const oldName: Scheme = name
  void oldName
  await payments.resolveScheme('123')
  // @ts-expect-error the first argument is a Payments instance
  await resolveScheme({}, '123')
  void [valid, reason, balance, redeemed, ok, credits, subscriber, name]
}

// ---- plans -------------------------------------------------------------------------

async function plans(): Promise<void> {
  const free: PriceConfigResult = getFreePriceConfig()
  const crypto = getCryptoPriceConfig(10n, RECEIVER, ZeroAddress)
  getNativeTokenPriceConfig(1, RECEIVER)
  getERC20PriceConfig('5', '0x036CbD53842c5426634e7929541eC2318f3dCF7e', RECEIVER)
  const fiat = getFiatPriceConfig(1_000_000n, RECEIVER)
  const amounts: string[] = fiat.amounts
  const fixed: CreditsConfigResult = getFixedCreditsConfig(100n, 1n)
  getDynamicCreditsConfig(100, 1, 5)
  const month = getExpirableDurationConfig(ONE_MONTH_DURATION)
  getNonExpirableDurationConfig()
  const registered: { planId: string } = await payments.plans.registerCreditsPlan({ name: 'Plan', tags: ['a'] }, crypto, fixed)
  await payments.plans.registerTimePlan({ name: 'Time' }, free, month)
  await payments.plans.registerCreditsTrialPlan({ name: 'Trial' }, free, fixed)
  await payments.plans.registerTimeTrialPlan({ name: 'Trial' }, free, month)
  await payments.plans.registerPlan({ name: 'P' }, { amounts: [1n], receivers: [RECEIVER], isCrypto: true }, fixed, 'credits')
  // The same helpers hang off payments.plans.
  payments.plans.getFixedCreditsConfig(10n)

  // @ts-expect-error a plan needs a name
  await payments.plans.registerCreditsPlan({ description: 'no name' }, free, fixed)
  // @ts-expect-error accessLimit is "credits" or "time"
  await payments.plans.registerPlan({ name: 'P' }, free, fixed, undefined, 'forever')
  // The official order (nonce?, accessLimit?, publicationOptions?).
  await payments.plans.registerPlan({ name: 'P' }, free, fixed, 42n, 'time', { organizationId: 'org-1' })
  await payments.agents.registerAgent({ name: 'A' }, undefined, ['1'], { organizationId: 'org-1' })
  // @ts-expect-error the organization id is a string
  await payments.plans.registerCreditsPlan({ name: 'P' }, free, fixed, { organizationId: 7 })
  // @ts-expect-error amounts are bigints, numbers or strings
  getCryptoPriceConfig(true, RECEIVER)
  // @ts-expect-error the receiver is required
  getFiatPriceConfig(1_000_000n)

  const plan: JsonObject = await payments.plans.getPlan(registered.planId)
  const planName: JsonValue | undefined = plan['metadata']
  await payments.plans.getPlans({ page: 1, offset: 10, sortBy: 'created', sortOrder: 'asc' })
  await payments.plans.getPlans({ orgId: 'org-1' })
  // The official SDK's positional form.
  await payments.plans.getPlans(1, 10, 'created', 'desc', 'org-1')
  await payments.plans.getPlans(2)
  // @ts-expect-error sortOrder is asc or desc
  await payments.plans.getPlans({ sortOrder: 'up' })
  // @ts-expect-error sortOrder is asc or desc
  await payments.plans.getPlans(1, 10, 'created', 'up')
  const balance: PlanBalance = await payments.plans.getPlanBalance('1')
  const credits: string = balance.balance
  await payments.plans.getPlanBalance('1', '0xholder')
  const order = await payments.plans.orderPlan('1')
  const success: boolean = order.success
  // What the caller held just before: an order of a plan already held says so.
  const held: boolean | undefined = order.alreadySubscribed
  const before: string | undefined = order.balanceBefore
  void [held, before]
  const checkout = await payments.plans.orderFiatPlan('1')
  const link: string = checkout.result.checkoutLink
  // Epoch milliseconds from the Nevermined backend, ISO 8601 text from nvm-local.
  const expires: number | string | undefined = checkout.result.linkExpiresAt
  const pagination: PaginationOptions = { sortBy: 'name', sortOrder: 'asc', page: 2, offset: 20 }
  await payments.agents.getAgentPlans('agent-1', pagination)
  // @ts-expect-error page is a number
  await payments.agents.getAgentPlans('agent-1', { page: '2' })
  void [amounts, planName, credits, success, link, expires]
}

// ---- agents and delegations --------------------------------------------------------------

async function agentsAndDelegations(): Promise<void> {
  const { agentId }: { agentId: string } = await payments.agents.registerAgent(
    { name: 'Agent', description: 'd' },
    { endpoints: [{ POST: 'https://agent.example/tasks/:id' }, { GET: 'https://agent.example/items' }], agentDefinitionUrl: 'https://agent.example/openapi.json' },
    ['123'],
  )
  await payments.agents.registerAgent({ name: 'Minimal' }, undefined, [])
  const both = await payments.agents.registerAgentAndPlan({ name: 'A' }, undefined, { name: 'P' }, getFreePriceConfig(), getFixedCreditsConfig(1n), 'credits')
  const ids: [string, string, string | undefined] = [both.agentId, both.planId, both.txHash]
  await payments.agents.getAgent(agentId)
  await payments.agents.getAgentPlans(agentId)
  // @ts-expect-error endpoint methods are HTTP verbs
  await payments.agents.registerAgent({ name: 'A' }, { endpoints: [{ FETCH: 'https://agent.example/' }] }, ['1'])
  // @ts-expect-error paymentPlans is a list
  await payments.agents.registerAgent({ name: 'A' }, undefined, '123')

  const created: CreateDelegationResponse = await payments.delegation.createDelegation({ provider: 'erc4337', spendingLimitCents: 1000, durationSecs: 3600n })
  const delegationId: string = created.delegationId
  await payments.delegation.createDelegation({ provider: 'stripe', providerPaymentMethodId: 'pm_1', spendingLimitCents: '500', durationSecs: 60, currency: 'eur', maxTransactions: 5 })
  // @ts-expect-error unknown provider
  await payments.delegation.createDelegation({ provider: 'paypal', spendingLimitCents: 1, durationSecs: 1 })
  // @ts-expect-error spendingLimitCents is required
  await payments.delegation.createDelegation({ provider: 'erc4337', durationSecs: 1 })
  // @ts-expect-error unknown currency
  await payments.delegation.createDelegation({ provider: 'erc4337', spendingLimitCents: 1, durationSecs: 1, currency: 'btc' })

  const list: DelegationListResponse = await payments.delegation.listDelegations({ accessible: true })
  const first: DelegationSummary | undefined = list.delegations[0]
  const same: Delegation | undefined = first
  const total: number = list.totalResults
  const methods: PaymentMethodSummary[] = await payments.delegation.listPaymentMethods({ provider: 'stripe' })
  void same
  const brand: string | undefined = methods[0]?.brand
  // Cents are decimal strings from the Nevermined backend and numbers from nvm-local.
  const left: number | string | undefined = first?.remainingBudgetCents
  // @ts-expect-error the card is null on crypto delegations
  const card: string | undefined = first?.providerPaymentMethodId
  const alias: string | null | undefined = methods[0]?.alias
  void [ids, delegationId, first, total, brand, left, card, alias]

  const power: PurchasingPower = await payments.delegation.getPurchasingPower()
  const budget: number = power.totalRemainingBudgetCents
  await payments.delegation.updatePaymentMethod('pm_1', { alias: 'work', allowedApiKeyIds: null })
  // @ts-expect-error allowedApiKeyIds is a list of ids
  await payments.delegation.updatePaymentMethod('pm_1', { allowedApiKeyIds: 'key-1' })
  void budget
}

// ---- organizations ------------------------------------------------------------------

async function organizations(payments: Payments): Promise<void> {
  const header: 'X-Current-Org-Id' = CURRENT_ORG_ID_HEADER
  const member = await payments.organizations.createMember('ext-1', 'm@example.com', OrganizationMemberRole.Member)
  const key: string = member.nvmApiKey
  // @ts-expect-error not a role
  await payments.organizations.createMember('ext-1', undefined, 'Owner')
  const onboarded: CustomerOnboardingResponse = await payments.organizations.onboardCustomer('c@example.com')
  // Narrowed on consentRequired: only then is there a key.
  const customerKey: string | undefined = onboarded.consentRequired ? undefined : onboarded.nvmApiKey
  const { members, total } = await payments.organizations.getMembers(OrganizationMemberRole.Admin, true, 1, 50)
  const mine: MyMembership[] = await payments.organizations.getMyMemberships()
  const page: OrganizationActivityPage = await payments.organizations.getOrganizationActivity(mine[0].orgId, { eventType: [OrganizationActivityEventType.PlanCreated, 'custom.event'], limit: 25 })
  // @ts-expect-error limit is a number
  await payments.organizations.getOrganizationActivity('org-1', { limit: '25' })
  const link: string = (await payments.organizations.connectStripeAccount('s@example.com', 'US', 'https://app.example/done')).stripeAccountLink
  void [header, key, customerKey, members, total, page.items[0]?.eventType, link]
}

// ---- codecs -------------------------------------------------------------------------------

function codecs(input: unknown): void {
  const decoded: X402PaymentAccepted | null = decodeAccessToken(input)
  // @ts-expect-error the result may be null
  decodeAccessToken(input).accepted
  const planId: string | undefined = decoded?.accepted?.planId
  const attempt = tryDecodeAccessToken(input)
  if (attempt.ok) {
    const token: X402PaymentAccepted = attempt.token
    const old: X402AccessToken = token
    const from: string | undefined = token.payload?.authorization?.from
    void [old, from]
  } else {
    const why: TokenDecodeFailure = attempt.reason
    const message: string = attempt.message
    // @ts-expect-error a failed decode has no token
    attempt.token
    void [why, message]
  }
  const encoded: string = encodeAccessToken({ x402Version: 2, accepted: { scheme: 'nvm:erc4337', network: 'eip155:84532', planId: '1' } })
  const many: PaymentRequired = buildPaymentRequiredForPlans(['1', '2'], { endpoint: '/t' })
  // @ts-expect-error planIds is a list
  buildPaymentRequiredForPlans('1')
  const header: string = encodePaymentHeader(many)
  const back: JsonObject = decodePaymentHeader(header)
  // @ts-expect-error the header is a string
  decodePaymentHeader(5)
  const shown: string = redactToken(encoded)
  // @ts-expect-error the secret is a string
  redactToken(5)
  const zero: '0x0000000000000000000000000000000000000000' = ZeroAddress
  const day: bigint = ONE_DAY_DURATION
  void [planId, back, shown, zero, day]
}

// ---- errors -------------------------------------------------------------------------------

function errors(error: unknown): void {
  if (error instanceof PaymentsError) {
    const code: PaymentsErrorCode = error.code
    // Backend codes and statuses are codes; a misspelt one is a compile error.
    const known = code === 'BCK.X402.0013' || code === 'http_502' || code === 'max_credits_exceeded' || code === 'wasm_load_failed'
    // @ts-expect-error a typo is not a PaymentsErrorCode
    const typo = code === 'plan_not_alowed'
    switch (code) {
      case 'plan_not_allowed':
      case 'redirect_not_followed':
        break
      // @ts-expect-error not a code
      case 'netwrok_error':
        break
    }
    void [known, typo]
    const retryable: boolean = error.retryable
    const status: number | undefined = error.httpStatus
    const hint: string | undefined = error.hint
    const name: 'PaymentsError' = error.name
    const base: Error = error
    // @ts-expect-error read-only
    error.code = 'x'
    void [code, retryable, status, hint, name, base]
  }
  const made = new PaymentsError({ code: 'validation', message: 'planId is required' })
  const backend = new PaymentsError({ code: 'BCK.X402.0013', message: 'Delegation expired', httpStatus: 402, hint: 'Create a new delegation', retryable: false })
  // @ts-expect-error it is built from {code, message, ...}, not a message string
  new PaymentsError('planId is required')
  void [made, backend]
}

// ---- the paying client ---------------------------------------------------------------------

async function paying(): Promise<void> {
  const { response, paymentResponse } = await fetchWithPayment('https://agent.example/tasks', { method: 'POST' }, { payments, planIds: ['1'] })
  const status: number = response.status
  const receipt: SettlePermissionsResult | null = paymentResponse
  const oldReceipt: SettleResult | null = receipt
  void oldReceipt
  await payments.fetch('https://agent.example/tasks')
  // Pay-as-you-go: a money cap, and the receipt's billing model.
  const payg = await payments.fetch('https://agent.example/tasks', undefined, { planIds: ['1'], maxPriceCents: 25, maxCredits: 1n })
  const model: 'credits' | 'pay-as-you-go' | undefined = payg.paymentResponse?.billingModel
  const order: string | undefined = payg.paymentResponse?.orderTx
  void [model, order]
  // @ts-expect-error billingModel is one of the two models
  const wrong: SettlePermissionsResult = { success: true, transaction: '', network: '', billingModel: 'subscription' }
  const code: PaymentsErrorCode = 'max_price_exceeded'
  void [wrong, code]
  // @ts-expect-error fetchWithPayment needs the client in its options
  await fetchWithPayment('https://agent.example/tasks', undefined, { planIds: ['1'] })
  void [status, receipt]
}

// ---- the HTTP paywall (nvm-x402/agent) ----------------------------------------------------

const gate: Paywall = AgentPayments.getInstance({ nvmApiKey: 'k' }).paywall({ agentId: 'a', routes: { 'POST /tasks': { planId: '1', credits: 2 } } })
const gated: Promise<Response> = gate.handle(new Request('http://127.0.0.1:8787/tasks', { method: 'POST' }), () => new Response('ok'))
void gated

// The official hooks, typed: each argument as the gate gives it.
const hooked: Paywall = AgentPayments.getInstance({ nvmApiKey: 'k' }).paywall({
  agentId: 'a',
  routes: { 'POST /tasks': { planId: '1' } },
  onBeforeVerify: (request: Request, required) => void [request.url, required.accepts[0]?.planId],
  onAfterVerify: async (_request, verification) => void verification.isValid,
  onAfterSettle: (_request, creditsUsed: number, settlement) => void [creditsUsed + 1, settlement.success],
  onPaymentError: (error, _request) => void [error.code, error.httpStatus],
})
void hooked
// @ts-expect-error a hook is a function
AgentPayments.getInstance({ nvmApiKey: 'k' }).paywall({ agentId: 'a', routes: {}, onAfterSettle: 'log' })

// ---- the MCP paywall -----------------------------------------------------------------------

interface FakeServer {
  registerTool(name: string, config: object, handler: (args: { text: string }, extra: object) => unknown): void
  registerResource(name: string, template: unknown, config: object, handler: (uri: URL, variables: Record<string, string | string[]>, extra: object) => unknown): void
  registerPrompt(name: string, config: object, handler: (args: { topic: string }, extra: object) => unknown): void
}

function mcpServer(server: FakeServer): void {
  // The MCP paywall is in nvm-x402/mcp; its Payments has the same type.
  const payments = McpPayments.getInstance({ nvmApiKey: 'k' })
  payments.mcp.configure({ agentId: 'a', serverName: 'weather', planId: '1' })
  // @ts-expect-error planIds is a list
  payments.mcp.configure({ planIds: '1' })
  payments.mcp.configure({
    planId: '1',
    onAfterSettle: (call, creditsUsed: number, settlement) => void [call.kind === 'tool', call.name, creditsUsed, settlement.transaction],
    onPaymentError: (error, call) => void [error.code, call.args],
  })
  const paid = payments.mcp.attach(server)
  paid.registerTool('echo', {}, async ({ text }: { text: string }, _extra, context) => {
    const plan: string = context.planId
    const credits: bigint | undefined = context.credits
    void [plan, credits]
    return { content: [{ type: 'text', text }] }
  }, { credits: 1n })
  paid.registerTool('words', {}, async () => ({ content: [] }), { credits: (ctx) => BigInt(String(ctx.args).length), maxAmount: 10n })
  // @ts-expect-error credits is a number, a bigint or a function
  paid.registerTool('bad', {}, async () => ({ content: [] }), { credits: 'one' })
  paid.registerResource('city', null, {}, async (uri, variables) => ({ contents: [{ uri: uri.href, text: String(variables.id) }] }))
  const echo = payments.mcp.withPaywall(async ({ text }: { text: string }) => ({ content: [{ type: 'text' as const, text }] }), { kind: 'tool', name: 'echo' })
  server.registerTool('echo2', {}, echo)
  const answer: Promise<{ content: { type: 'text'; text: string }[] }> = echo({ text: 'a' })
  // @ts-expect-error a name is required
  payments.mcp.withPaywall(async () => ({}), { kind: 'tool' })
  void answer
}

export { x402, plans, agentsAndDelegations, codecs, errors, paying, environment, backendUrl, account, accountRequired, mcpServer }

// ---- what an entry lacks does not type-check there --------------------------------------------

function entries(): void {
  const subscriber = Payments.getInstance({ nvmApiKey: 'k' })
  const agentClient = AgentPayments.getInstance({ nvmApiKey: 'k' })
  const mcpClient = McpPayments.getInstance({ nvmApiKey: 'k' })
  // @ts-expect-error paywall() is in nvm-x402/agent
  subscriber.paywall({ agentId: 'a', routes: {} })
  // @ts-expect-error the MCP paywall is in nvm-x402/mcp
  subscriber.mcp.configure({ planId: '1' })
  // @ts-expect-error paying agents is in nvm-x402
  void agentClient.fetch('https://agent.example/')
  // @ts-expect-error minting is in nvm-x402
  void mcpClient.x402.getX402AccessToken('1', undefined, { delegationConfig: { delegationId: 'd' } })
  // @ts-expect-error orders are in nvm-x402
  void agentClient.plans.orderPlan('1')
  // @ts-expect-error registration is in nvm-x402
  void mcpClient.agents.registerAgent({ name: 'A' }, undefined, [])
  // @ts-expect-error the HTTP paywall is in nvm-x402/agent
  mcpClient.paywall({ agentId: 'a', routes: {} })
  // @ts-expect-error Hono's middleware takes nvm-x402/agent's client
  honoPaywall(subscriber, { agentId: 'a', routes: {} })
  // What every entry has.
  for (const p of [subscriber, agentClient, mcpClient]) {
    void [p.facilitator.verifyPermissions, p.requests.startProcessingRequest, p.plans.getPlan('1'), p.plans.getFixedCreditsConfig(1n), p.agents.getAgentPlans('a'), p.resolveScheme('1')]
  }
}

// ---- the README's examples, each against its entry --------------------------------------------

/** README, "Subscriber: pay for an agent" (nvm-x402). */
async function readmePay(planId: string): Promise<void> {
  const payments = Payments.getInstance({ nvmApiKey: 'local:eyJ...' })
  await payments.plans.orderPlan(planId)
  const { response, paymentResponse } = await fetchWithPayment('http://127.0.0.1:8787/tasks',
    { method: 'POST', body: JSON.stringify({ prompt: 'Hello, agent!' }) }, { payments, planIds: [planId] })
  console.log(await response.json(), 'credits left:', paymentResponse?.remainingBalance)
  const answer: JsonValue = await payments.queryAgent({ agentUrl: 'https://agent.example/tasks', prompt: 'Hello', planId, agentId: 'a' })
  await payments.mcp.callTool({ url: 'https://agent.example/mcp', name: 'echo', arguments: { text: 'hi' }, planId })
  await payments.x402.getX402AccessToken(planId, 'a', { delegationConfig: { delegationId: 'd' } })
  void answer
}

/** README, pay-as-you-go (nvm-x402): the builder's helpers. */
async function readmePayAsYouGo(builderAddress: string, usdcAddress: string): Promise<void> {
  const payments = Payments.getInstance({ nvmApiKey: 'local:eyJ...' })
  const template: string = await payments.contracts.getPayAsYouGoTemplateAddress()
  const price: PriceConfigResult = await payments.plans.getPayAsYouGoPriceConfig(250_000n, builderAddress, usdcAddress)
  const same: PriceConfigResult = getPayAsYouGoPriceConfig(250_000n, builderAddress, usdcAddress, template)
  const credits: CreditsConfigResult = payments.plans.getPayAsYouGoCreditsConfig()
  const { planId } = await payments.plans.registerCreditsPlan({ name: 'Per request' }, price, getPayAsYouGoCreditsConfig())
  await fetchWithPayment('https://agent.example/tasks', undefined, { payments, planIds: [planId], maxPriceCents: 25 })
  void [same, credits]
}

interface WorkerEnv {
  NVM_API_KEY: string
  NVM_AGENT_ID: string
  NVM_PLAN_ID: string
  PLAN_A: string
  PLAN_B: string
}

/** README, "Agent: gate routes in a Worker" (nvm-x402/agent), with the package README's routes. */
let readmeGate: Paywall | undefined
const readmeWorker = {
  fetch(request: Request, env: WorkerEnv, ctx: ExecutionContextLike): Promise<Response> {
    readmeGate ??= AgentPayments.getInstance({ nvmApiKey: env.NVM_API_KEY }).paywall({
      agentId: env.NVM_AGENT_ID,
      routes: {
        'POST /tasks': { planId: env.NVM_PLAN_ID, credits: 1 },
        'GET /reports/:id': { planIds: [env.PLAN_A, env.PLAN_B], credits: (_req, res) => Number(res.headers.get('x-cost')) },
      },
      cors: true,
    })
    return readmeGate.handle(request, () => Response.json({ answer: 'Hello from a paid agent' }), ctx)
  },
}

/** README, the structured log of the lifecycle hooks (nvm-x402/agent), and Hono. */
function readmeHooks(agentId: string, routes: PaywallOptionsRoutes): void {
  const payments = AgentPayments.getInstance({ nvmApiKey: 'k' })
  const log = (event: string, request: Request, fields: object) => console.log(JSON.stringify({
    event, method: request.method, url: request.url,
    token: agentRedactToken(request.headers.get('payment-signature') ?? ''), ...fields }))
  payments.paywall({ agentId, routes,
    onAfterVerify: (request, verification) => log('nvm.verified', request, { agentRequestId: verification.agentRequestId }),
    onAfterSettle: (request, creditsUsed, settlement) => log('nvm.settled', request, { creditsUsed, transaction: settlement.transaction }),
    onPaymentError: (error, request) => log('nvm.refused', request, { code: error.code, status: error.httpStatus }),
  })
  const app = new Hono()
  app.use(honoPaywall(payments, { agentId, routes: { 'POST /tasks': { planId: '1', credits: 1 } } }))
  app.use(honoPaywall(payments.paywall({ agentId, routes })))
}
type PaywallOptionsRoutes = Parameters<AgentPayments['paywall']>[0]['routes']

/** README, "Agent: a paid MCP server in a Worker" (nvm-x402/mcp), with the official MCP SDK's McpServer. */
function readmeMcp(env: WorkerEnv, readReport: () => Promise<{ contents: { uri: string; text: string }[] }>): McpServer {
  const payments = McpPayments.getInstance({ nvmApiKey: env.NVM_API_KEY })
  payments.mcp.configure({ agentId: env.NVM_AGENT_ID, serverName: 'my-server', planId: env.NVM_PLAN_ID })
  const server = new McpServer({ name: 'my-server', version: '1.0.0' })
  const paid = payments.mcp.attach(server)
  paid.registerTool('echo', { inputSchema: { text: z.string() } }, async ({ text }) => ({ content: [{ type: 'text', text }] }), { credits: 1n })
  // The arguments' types come from the schema, as the MCP SDK's own registerTool infers them (strict: no `unknown`).
  paid.registerTool('sum', { inputSchema: { a: z.number(), b: z.number().optional(), tags: z.array(z.string()) } }, async ({ a, b, tags }) => {
    const total: number = a + (b ?? 0)
    const first: string | undefined = tags[0]
    // @ts-expect-error b may be undefined
    const strict: number = b
    void [first, strict]
    return { content: [{ type: 'text' as const, text: String(total) }] }
  }, { credits: (ctx) => BigInt(ctx.args.tags.length + ctx.args.a) })
  paid.registerTool('whole', { inputSchema: z.object({ city: z.string() }) }, async ({ city }) => ({ content: [{ type: 'text' as const, text: city.toUpperCase() }] }))
  // @ts-expect-error the schema says text is a string
  paid.registerTool('wrong', { inputSchema: { text: z.string() } }, async ({ text }: { text: number }) => ({ content: [{ type: 'text' as const, text: String(text) }] }))
  paid.registerResource('report', new ResourceTemplate('reports://{id}', { list: undefined }), {}, readReport, { credits: 2n })
  paid.registerPrompt('summary', { argsSchema: { topic: z.string() } }, async ({ topic }) => ({ messages: [] as never[], topic }), { credits: (ctx) => BigInt(ctx.args.topic.length) })
  server.registerTool('echo2', { inputSchema: { text: z.string() } },
    payments.mcp.withPaywall(async ({ text }: { text: string }) => ({ content: [{ type: 'text' as const, text }] }), { kind: 'tool', name: 'echo2', credits: 1n }))
  const discovered: Response | null = payments.mcp.discovery(new Request('https://mcp.example/.well-known/oauth-protected-resource'))
  void discovered
  // The official SDK's OAuth builders, as its unit tests call them.
  const config: OAuthConfig = { baseUrl: 'http://localhost:3000', agentId: 'did:nv:agent123', environment: 'staging_sandbox', tools: ['weather.today'] }
  const version: string | undefined = buildMcpProtectedResourceMetadata({ ...config, protocolVersion: '2024-12-01' }).mcp_capabilities?.protocol_version
  const oidcScopes: string[] = buildOidcConfiguration({ ...config, scopes: ['profile'] }).scopes_supported
  const clientId: string | undefined = buildServerInfoResponse(config, { version: '2.0.0' }).oauth.client_id
  const tokenUri: string = getOAuthUrls('live', { issuer: 'https://custom-issuer.com' }).tokenUri
  void [version, oidcScopes, clientId, tokenUri]
  // @ts-expect-error the environment is one of the names
  getOAuthUrls('moon')
  return server
}

/** README, "Register plans and agents" (nvm-x402). */
async function readmeRegister(builderAddress: string): Promise<void> {
  const payments = Payments.getInstance({ nvmApiKey: 'k' })
  const { planId } = await payments.plans.registerCreditsPlan({ name: 'Pro' },
    payments.plans.getFiatPriceConfig(5_000_000n, builderAddress, 'EUR'),
    payments.plans.getFixedCreditsConfig(100n, 1n))
  const { agentId } = await payments.agents.registerAgent({ name: 'My agent' },
    { endpoints: [{ POST: 'https://agent.example/tasks' }] }, [planId])
  void agentId
}

/** The package README, "Without the gate" (every entry). */
async function readmeWithoutGate(token: string): Promise<void> {
  const payments = AgentPayments.getInstance({ nvmApiKey: 'k' })
  const started = await payments.requests.startProcessingRequest('agent-1', token, 'https://agent.example/tasks', 'POST')
  if (started.isValid && started.paymentRequired) {
    await payments.facilitator.settlePermissions({ paymentRequired: started.paymentRequired, x402AccessToken: token, maxAmount: 1n, agentRequestId: started.agentRequestId })
  }
}

/** README, "Express" and "Next.js" (nvm-x402/express, nvm-x402/next). */
function readmeFrameworks(env: WorkerEnv): void {
  const payments = Payments.getInstance({ nvmApiKey: env.NVM_API_KEY })
  const middleware = paymentMiddleware(payments, {
    'POST /ask': { planId: env.NVM_PLAN_ID, agentId: env.NVM_AGENT_ID, credits: 1 },
    'GET /items/:id': { planId: env.NVM_PLAN_ID, agentId: env.NVM_AGENT_ID, credits: (req, res) => res.locals.cost },
  }, { tokenHeader: ['payment-signature', 'x-token'], onAfterSettle: (req, creditsUsed) => console.log(req.paymentContext?.agentRequestId, creditsUsed + 1) })
  void middleware
  // @ts-expect-error the official route table: a plan is required
  paymentMiddleware(payments, { 'POST /ask': { credits: 1 } })
  const agent = AgentPayments.getInstance({ nvmApiKey: env.NVM_API_KEY })
  const POST = withPaywall(async (request, context: { params: Promise<{ id: string }> }, payment) => {
    const { id } = await context.params
    return Response.json({ id, paid: payment.paid, planId: payment.planId })
  }, { payments: agent, agentId: env.NVM_AGENT_ID, planId: env.NVM_PLAN_ID, credits: 1 })
  void POST(new Request('https://agent.example/api/ask/1'), { params: Promise.resolve({ id: '1' }) })
  // @ts-expect-error withPaywall needs a client of nvm-x402/agent (the default entry's has no paywall)
  withPaywall(() => new Response(), { payments, agentId: 'a', planId: '1' })
  agent.paywall({ agentId: 'a', routes: {} }).handle(new Request('https://a.example/'), (request, ctx, payment) => new Response(payment.paid ? 'paid' : 'free'))
}

export { entries, readmePay, readmePayAsYouGo, readmeWorker, readmeHooks, readmeMcp, readmeRegister, readmeWithoutGate, readmeFrameworks }
