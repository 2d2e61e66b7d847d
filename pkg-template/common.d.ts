// Type definitions for nvm-x402 shared by its three entries (`nvm-x402`,
// `nvm-x402/agent`, `nvm-x402/mcp`): each entry's own file (index.d.ts,
// agent.d.ts, mcp.d.ts) re-exports this one and the data types generated from
// the Rust descriptions (wire-types.d.ts), and declares its `Payments` with
// exactly the calls its core carries, so a call an entry lacks is a compile
// error. Hand-written: the API surface (classes, functions, options), the
// JSON helpers, the string unions, and what is built in JavaScript (a fetched
// `Response`, hook events) or is a tagged union (`TryDecodeResult`); every
// body and answer is generated. Big integers are accepted as bigint,
// safe-integer number or decimal string, and always returned as decimal strings.
import type {
  AccessTokenResult,
  AgentAPIAttributes,
  AgentMetadata,
  CreateDelegationPayload,
  CreateDelegationResponse,
  CreateOrderOptions,
  CreateOrderResult,
  CreditsConfigResult,
  DelegationConfig,
  DeploymentInfo,
  DelegationListResponse,
  DelegationSummary,
  FiatCheckoutResult,
  ListOptions,
  ListPlansOptions,
  NvmAPIResult,
  Order,
  PaginationOptions,
  PaymentMethodSummary,
  PlanBalance,
  PurchasingPower,
  UpdatePaymentMethodDto,
  PlanCreditsConfig,
  PlanMetadata,
  PlanPriceConfig,
  PriceConfigResult,
  RegisterAgentAndPlanResult,
  RegisterAgentResult,
  RegisterPlanResult,
  ResolvedScheme,
  SettlePermissionsParams,
  SettlePermissionsResult,
  StartProcessingResult,
  VerifyPermissionsParams,
  VerifyPermissionsResult,
  X402PaymentAccepted,
  X402PaymentRequired,
  X402Resource,
  X402Scheme,
  X402SchemeExtra,
  X402TokenOptions,
} from './wire-types.js'

export * from './wire-types.js'

/**
 * A JSON value, as returned for backend objects passed through unchanged.
 * Object members may read as `undefined` (an absent key), so that the typed
 * shapes below, whose optional fields are `T | undefined`, are JSON values too.
 */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue | undefined }
/** A JSON object. */
export type JsonObject = { [key: string]: JsonValue | undefined }

/** A uint256 in: bigint, a safe-integer number, or a decimal string. */
export type BigIntLike = bigint | number | string
/** A uint256 out: always a decimal string. */
export type DecimalString = string
/** An Ethereum address (`0x` + 40 hex digits). */
export type Address = `0x${string}`

export type EnvironmentName = 'sandbox' | 'live' | 'staging_sandbox' | 'staging_live' | 'local' | 'custom'
/** The x402 schemes of Nevermined (the official SDK's `X402SchemeType`). */
export type X402SchemeType = 'nvm:erc4337' | 'nvm:card-delegation'
/** @deprecated the official SDK's name is `X402SchemeType`. */
export type Scheme = X402SchemeType
export type HttpVerb = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS'

/**
 * Every code a `PaymentsError` from nvm-x402 carries, a closed union (a misspelt
 * code does not compile): nvm-x402's own (the core's, `CODES` in src/error.rs,
 * and the loader's `wasm_load_failed` and `not_ready`), `http_<status>` for an
 * answer without the backend's envelope, and the backend's own codes
 * (`BCK.X402.0013`, ...), which pass through as they are. `internal` is only
 * handed to `onPaymentError` (the backend can't be asked, or no plan pays).
 */
export type PaymentsErrorCode =
  | 'validation'
  | 'network_error'
  | 'timeout'
  | 'invalid_response'
  | 'insecure_transport'
  | 'payment_required'
  | 'plan_not_allowed'
  | 'max_credits_exceeded'
  | 'max_price_exceeded'
  | 'redirect_not_followed'
  | 'mcp_negotiation_failed'
  | 'not_in_entry'
  | 'not_logged_in'
  | 'signin_refused'
  | 'card_setup_refused'
  | 'internal'
  | 'wasm_load_failed'
  | 'not_ready'
  | `http_${number}`
  | `BCK.${string}`

/** What a `PaymentsError` is built from. */
export interface PaymentsErrorInfo {
  code: PaymentsErrorCode
  message: string
  httpStatus?: number
  hint?: string
  details?: JsonValue
  retryable?: boolean
}

/**
 * Loads the WebAssembly core ahead of the first call, asynchronously. Optional:
 * the first call that needs the core loads it (synchronously, a few ms) — except
 * with the `nvm-x402/asset` entry, which fetches the `.wasm` and needs this first.
 * Rejects with a PaymentsError (`wasm_load_failed`) when the core can't be
 * loaded (for example under a Content-Security-Policy without `'wasm-unsafe-eval'`).
 */
export function ready(): Promise<void>

/** An error from nvm-x402 or the Nevermined backend. `message` is said once and never contains a whole token or key. */
export class PaymentsError extends Error {
  constructor(info: PaymentsErrorInfo)
  readonly name: 'PaymentsError'
  /** Stable machine-readable code. */
  readonly code: PaymentsErrorCode
  /** The HTTP status the error came with, when there was one. */
  readonly httpStatus?: number
  /** What to do about it: every error nvm-x402 throws (or hands to a hook) has one. */
  readonly hint?: string
  /** The backend envelope's extra fields, or the decoded PaymentRequired. */
  readonly details?: JsonValue
  /** Whether retrying later may succeed. */
  readonly retryable: boolean
}

/**
 * The `fetch` a client sends with: the global `fetch`, a Cloudflare service
 * binding's `fetch`, or your own. It is called as `fetch(url, init)` for each
 * backend call (a URL string; `init` with `method`, `headers`, `body` and the
 * timeout's `signal`) and as `fetch(request)` with a `Request` for each request
 * to an agent (`payments.fetch`, `queryAgent`, `mcp.callTool`). What it resolves
 * to is read as a `Response` (`status`, `text()`, `headers`, `body`, `bodyUsed`,
 * `type`), and an agent's is handed back to you (`PaidFetchResult.response`).
 */
export type PaymentsFetch = (input: Request | string, init?: RequestInit) => Promise<Response>

export interface PaymentsOptions {
  /** `<prefix>:<JWT>`; the prefix picks the environment (`sandbox:`, `live:`, `local:`, ...). */
  nvmApiKey: string
  /** Used when the key's prefix is not a known environment. Default `custom`. */
  environment?: EnvironmentName | 'sandbox-staging' | 'live-staging'
  /** Overrides the environment's backend URL (required for `custom`). https, or http to loopback only. */
  backendUrl?: string
  /** Sent as `X-Current-Org-Id`. */
  organizationId?: string
  /** Time limit of each backend call in milliseconds (default 30000). */
  timeoutMs?: number
  /**
   * The backend API version (`MAJOR.MINOR`, e.g. `'1.1'`) sent as `Nevermined-Version` on every
   * backend call; default `LOCKED_API_VERSION`. Anything else throws at construction.
   */
  version?: string
  /** Only `'nvm'`: the official SDK's `'visa'` throws its migration error (use `provider: 'visa'` on `createDelegation`). */
  scheme?: 'nvm'
  /** The fetch to use (default: the global `fetch`); see `PaymentsFetch` for how it is called. */
  fetch?: PaymentsFetch
}

// ---- x402 -----------------------------------------------------------------

export interface BuildPaymentRequiredOptions {
  /** `resource.url`. */
  endpoint?: string
  agentId?: string
  httpVerb?: string
  /** Default `eip155:84532` (`stripe` for card delegation). */
  network?: string
  description?: string
  mimeType?: string
  /** Default `nvm:erc4337`. */
  scheme?: X402SchemeType | (string & {})
}

export type TokenDecodeFailure = 'token_not_string' | 'token_empty' | 'token_too_long' | 'token_not_base64' | 'token_not_utf8' | 'token_not_json' | 'token_not_object'

export type TryDecodeResult = { ok: true; token: X402PaymentAccepted } | { ok: false; reason: TokenDecodeFailure; message: string }

export interface StartProcessingOptions {
  /** Default: the token's plan. */
  planId?: string
  /** Credits the request costs (default 1). */
  credits?: BigIntLike
}

// ---- plans and agents -------------------------------------------------------

export type AccessLimit = 'credits' | 'time'

// ---- delegations --------------------------------------------------------------

export type DelegationProvider = 'stripe' | 'braintree' | 'visa' | 'erc4337'
/** The currencies of a delegation (the official SDK's `DelegationCurrency`). */
export type DelegationCurrency = 'usd' | 'eur' | 'usdc' | 'eurc'

// ---- the client -----------------------------------------------------------------

export interface PlanConfigHelpers {
  getFreePriceConfig(): PriceConfigResult
  getCryptoPriceConfig(amount: BigIntLike, receiver: Address | string, tokenAddress?: Address | string): PriceConfigResult
  getNativeTokenPriceConfig(amount: BigIntLike, receiver: Address | string): PriceConfigResult
  getERC20PriceConfig(amount: BigIntLike, tokenAddress: Address | string, receiver: Address | string): PriceConfigResult
  /** Fiat amounts are 6-decimal units: `1000000n` = 1.00 (the minimum); `currency` defaults to `USD`. */
  getFiatPriceConfig(amount: BigIntLike, receiver: Address | string, currency?: string): PriceConfigResult
  /** The euro stablecoin (6 decimals: `29_000_000n` = €29.00); `eurcAddress` defaults to EURC on Base. */
  getEURCPriceConfig(amount: BigIntLike, receiver: Address | string, eurcAddress?: Address | string): PriceConfigResult
  getFixedCreditsConfig(creditsGranted: BigIntLike, creditsPerRequest?: BigIntLike): CreditsConfigResult
  getDynamicCreditsConfig(creditsGranted: BigIntLike, minCreditsPerRequest?: BigIntLike, maxCreditsPerRequest?: BigIntLike): CreditsConfigResult
  getExpirableDurationConfig(durationOfPlan: BigIntLike): CreditsConfigResult
  getNonExpirableDurationConfig(): CreditsConfigResult
  /** Pay-as-you-go credits (none are minted: the values only pass validation). */
  getPayAsYouGoCreditsConfig(): CreditsConfigResult
}

/** `payments.plans` in every entry: the public lookups and the price and credits helpers. */
export interface PlansReadAPI extends PlanConfigHelpers {
  /** The plan as the backend describes it (public). */
  getPlan(planId: string): Promise<JsonObject>
  /** The caller's plans (with `orgId`: every plan of that organization, for a member). */
  getPlans(options?: ListPlansOptions): Promise<JsonObject>
  /** The official SDK's positional form of `getPlans(options)`. */
  getPlans(page?: number, offset?: number, sortBy?: string, sortOrder?: 'asc' | 'desc', orgId?: string): Promise<JsonObject>
  /** One page of the agents the plan gives access to (public; page 1, 10 a page, newest first unless asked otherwise). */
  getAgentsAssociatedToAPlan(planId: string, pagination?: PaginationOptions): Promise<JsonObject>
}

/** `payments.plans` of a subscriber (`nvm-x402`, `nvm-x402/a2a-client`): also balances and orders. */
export interface PlansSubscriberAPI extends PlansReadAPI {
  /** `holderAddress` defaults to the API key's account (`sub`). */
  getPlanBalance(planId: string, holderAddress?: string): Promise<PlanBalance>
  /**
   * Orders a crypto or free plan (a fiat plan is refused, a `validation` error naming `orderFiatPlan`,
   * before anything is sent but the plan's lookup). A plan you already hold is
   * bought again (more credits), as with the official SDK, but the answer says so:
   * `alreadySubscribed` and `balanceBefore`, read just before (when that read fails, nothing is bought).
   */
  orderPlan(planId: string): Promise<NvmAPIResult>
  /** A checkout link to pay by card. */
  orderFiatPlan(planId: string): Promise<FiatCheckoutResult>
}

/**
 * A registration's organization (the official `PublicationOptions`): with `organizationId`, this
 * call is sent with `X-Current-Org-Id: <organizationId>`; the instance's `setOrganizationId` pin
 * is unchanged. Absent or empty: the pin.
 */
export interface PublicationOptions {
  organizationId?: string
}

/** `payments.plans` in `nvm-x402`: also balances, orders and registration. */
export interface PlansAPI extends PlansSubscriberAPI {
  /**
   * The official arguments: `nonce` (default 128 random bits), `accessLimit` (default: `'time'`
   * when the credits config has a duration), `publicationOptions` (this call's organization).
   */
  registerPlan(planMetadata: PlanMetadata, priceConfig: PlanPriceConfig, creditsConfig: PlanCreditsConfig, nonce?: BigIntLike, accessLimit?: AccessLimit, publicationOptions?: PublicationOptions): Promise<RegisterPlanResult>
  /** This package's earlier form: the access limit fourth. */
  registerPlan(planMetadata: PlanMetadata, priceConfig: PlanPriceConfig, creditsConfig: PlanCreditsConfig, accessLimit: AccessLimit): Promise<RegisterPlanResult>
  registerCreditsPlan(planMetadata: PlanMetadata, priceConfig: PlanPriceConfig, creditsConfig: PlanCreditsConfig, publicationOptions?: PublicationOptions): Promise<RegisterPlanResult>
  registerTimePlan(planMetadata: PlanMetadata, priceConfig: PlanPriceConfig, creditsConfig: PlanCreditsConfig, publicationOptions?: PublicationOptions): Promise<RegisterPlanResult>
  registerCreditsTrialPlan(planMetadata: PlanMetadata, priceConfig: PlanPriceConfig, creditsConfig: PlanCreditsConfig, publicationOptions?: PublicationOptions): Promise<RegisterPlanResult>
  registerTimeTrialPlan(planMetadata: PlanMetadata, priceConfig: PlanPriceConfig, creditsConfig: PlanCreditsConfig, publicationOptions?: PublicationOptions): Promise<RegisterPlanResult>
  /**
   * A pay-as-you-go price (`amount` charged on every request, in `tokenAddress`, default the native
   * token) under the deployment's `PayAsYouGoTemplate` (read from `GET /` once per instance). Register it with
   * `getPayAsYouGoCreditsConfig()`.
   */
  getPayAsYouGoPriceConfig(amount: BigIntLike, receiver: Address | string, tokenAddress?: Address | string): Promise<PriceConfigResult>
}

/** `payments.agents` in every entry: the public lookups. */
export interface AgentsReadAPI {
  getAgent(agentId: string): Promise<JsonObject>
  /** One page of the plans that give access to the agent (page 1, 10 a page, newest first unless asked otherwise). */
  getAgentPlans(agentId: string, pagination?: PaginationOptions): Promise<JsonObject>
  /** The caller's agents (with `orgId`, every agent of that organization): `{total, page, offset, agents}`. The official SDK's positional arguments. */
  getAgents(page?: number, offset?: number, sortBy?: string, sortOrder?: 'asc' | 'desc', orgId?: string): Promise<JsonObject>
  /** The same with one options object. */
  getAgents(options?: ListPlansOptions): Promise<JsonObject>
}

/** `payments.agents` in `nvm-x402`: also registration. */
export interface AgentsAPI extends AgentsReadAPI {
  registerAgent(agentMetadata: AgentMetadata, agentApi: AgentAPIAttributes | undefined, paymentPlans: string[], publicationOptions?: PublicationOptions): Promise<RegisterAgentResult>
  registerAgentAndPlan(
    agentMetadata: AgentMetadata,
    agentApi: AgentAPIAttributes | undefined,
    planMetadata: PlanMetadata,
    priceConfig: PlanPriceConfig,
    creditsConfig: PlanCreditsConfig,
    accessLimit?: AccessLimit,
    publicationOptions?: PublicationOptions,
  ): Promise<RegisterAgentAndPlanResult>
  /** Replaces the agent's metadata and endpoints (checked as at registration). Only its owner may. */
  updateAgentMetadata(agentId: string, agentMetadata: AgentMetadata, agentApi: AgentAPIAttributes | undefined): Promise<NvmAPIResult>
  /** Lets the plan's subscribers use the agent. Only the plan's owner may. */
  addPlanToAgent(planId: string, agentId: string): Promise<NvmAPIResult>
  /** Stops the plan from giving access to the agent. Only the plan's owner may. */
  removePlanFromAgent(planId: string, agentId: string): Promise<NvmAPIResult>
}

export interface DelegationAPI {
  createDelegation(payload: CreateDelegationPayload): Promise<CreateDelegationResponse>
  listDelegations(options?: Pick<ListOptions, 'accessible'>): Promise<DelegationListResponse>
  listPaymentMethods(options?: ListOptions): Promise<PaymentMethodSummary[]>
  /**
   * What this key can spend: `listPaymentMethods({accessible: true})` and
   * `listDelegations({accessible: true})`, with the delegations' `remainingBudgetCents` added up.
   */
  getPurchasingPower(): Promise<PurchasingPower>
  /**
   * Renames a card (`alias`) or limits which API keys may use it (`allowedApiKeyIds`; `null`
   * lifts the limit). Only the card's owner may. The options are checked before anything is sent.
   */
  updatePaymentMethod(paymentMethodId: string, dto: UpdatePaymentMethodDto): Promise<PaymentMethodSummary>
}

/** `payments.contracts` in `nvm-x402`. */
export interface ContractsAPI {
  /** The backend's deployment: its contracts' addresses by name (public). Read once per instance, as the official SDK (a failed read is not kept: the next call asks again). */
  getDeploymentInfo(): Promise<DeploymentInfo>
  /** A contract's address in the deployment (e.g. `'PayAsYouGoTemplate'`); one it doesn't name is an error. */
  getContractAddress(contractName: string): Promise<Address>
  /** The `PayAsYouGoTemplate` address: what `getPayAsYouGoPriceConfig` needs. */
  getPayAsYouGoTemplateAddress(): Promise<Address>
}

// ---- organizations ------------------------------------------------------------

/** A member's role in an organization (the official SDK's `OrganizationMemberRole` values). */
export type OrganizationMemberRole = 'Admin' | 'Member' | 'Client'
/** An organization's tier (the official SDK's `OrganizationType` values). */
export type OrganizationType = 'Premium' | 'Enterprise' | 'Lapsed' | 'Other'
/** The activity feed's event types (the official SDK's `OrganizationActivityEventType` values). */
export type OrganizationActivityEventType =
  | 'member.invited' | 'member.joined' | 'member.role_changed' | 'member.deactivated' | 'member.reactivated' | 'member.removed'
  | 'invitation.revoked' | 'invitation.expired' | 'agent.created' | 'plan.created' | 'plan.purchased'
  | 'customer.added' | 'customer.blocked' | 'customer.unblocked'
  | 'subscription.upgraded' | 'subscription.downgraded' | 'subscription.canceled' | 'subscription.lapsed'
  | 'webhook.delivered' | 'webhook.failed'

// ---- orders -------------------------------------------------------------------

/** Where an order is (the wire's `WireOrderStatus`). */
export type OrderStatus = 'requires_payment' | 'paid' | 'refunded' | 'partially_refunded' | 'disputed' | 'failed'

/**
 * `payments.orders` in `nvm-x402`: a card charge for any amount, off any plan. The
 * merchant's server creates the order; the buyer's page confirms its `clientSecret`
 * with the card processor (on nvm-local: its confirmation page) and polls `getOrder`.
 */
export interface OrdersAPI {
  /**
   * Creates an order (`POST api/v1/orders`) with a key scoped to an organization (a
   * personal key is `BCK.ORDER.0003`). `currency` defaults to `'usd'`. A retry with the
   * same `idempotencyKey` answers the same order; another `amountMinor` or `currency`
   * under it is `BCK.ORDER.0007`. The options are checked before anything is sent.
   */
  createOrder(options: CreateOrderOptions): Promise<CreateOrderResult>
  /**
   * The buyer's view of an order (`GET api/v1/orders/:id`), sent without the key: the
   * unguessable id is the access. An unknown id is `BCK.ORDER.0002`; the read is
   * rate-limited (60 a minute per IP): a throttled call is `http_429`, retry later.
   */
  getOrder(orderId: string): Promise<Order>
}

export interface X402API {
  /**
   * Mints an x402 access token. `tokenOptions.delegationConfig` is required (nothing is sent
   * without it: create one with `delegation.createDelegation` and pass `{ delegationId }`).
   */
  getX402AccessToken(planId: string, agentId?: string, tokenOptions?: X402TokenOptions): Promise<AccessTokenResult>
}

export interface FacilitatorAPI {
  /** Checks a token against a PaymentRequired; never consumes credits. `isValid: false` is an answer, not an error. */
  verifyPermissions(params: VerifyPermissionsParams): Promise<VerifyPermissionsResult>
  /** Burns `maxAmount` credits (`"0"`: the plan's default per request). */
  settlePermissions(params: SettlePermissionsParams): Promise<SettlePermissionsResult>
}

export interface RequestsAPI {
  /** Builds the PaymentRequired for `url`/`httpVerb` and verifies the token against it: one verify call (plus a balance lookup when the backend's answer carries no balance). */
  startProcessingRequest(agentId: string, accessToken: string | null | undefined, url: string, httpVerb: string, options?: StartProcessingOptions): Promise<StartProcessingResult>
}

/**
 * `Payments` as a value in each entry: `Payments.getInstance(options)` (the
 * official SDK's spelling) or `new Payments(options)` make a client of that
 * entry.
 */
export interface PaymentsClass<P extends PaymentsBase> {
  /** Same as `Payments.getInstance(options)`. */
  new (options: PaymentsOptions): P
  /** Same as `new Payments(options)`. Throws `PaymentsError` ("Nevermined API Key is required", "Invalid NVM API Key", ...). */
  getInstance(options: PaymentsOptions): P
  readonly prototype: P
}

/**
 * What every entry's `Payments` has (each entry's file declares its
 * `Payments` with this and what its core adds): a client bound to one API
 * key. No global state; create as many as you need.
 */
export interface PaymentsBase {
  /** The environment the key (or the options) selected. */
  readonly environment: EnvironmentName
  /** The backend base URL, ending in `/`. */
  readonly backendUrl: string
  /** The API key's account address (`sub`), if it has one. */
  readonly accountAddress?: string
  /** `false` from `Payments.getInstance`; `true` from `Payments.getBrowserInstance` (`nvm-x402`). */
  readonly isBrowserInstance: boolean
  /** The environment the key (or the options) selected. */
  getEnvironmentName(): EnvironmentName
  /** The API key's account address (`sub`), if it has one. */
  getAccountAddress(): string | undefined
  /** The organization every authenticated call names (`X-Current-Org-Id`), or null. */
  getOrganizationId(): string | null
  /** Names `organizationId` on every later authenticated call (`X-Current-Org-Id`); `null` clears it. */
  setOrganizationId(organizationId: string | null): void
  readonly facilitator: FacilitatorAPI
  readonly requests: RequestsAPI
  readonly plans: PlansReadAPI
  readonly agents: AgentsReadAPI
  /** See the free function `resolveScheme`. */
  resolveScheme(planId: string): Promise<ResolvedScheme>
}

// ---- the paywall (agent side) ------------------------------------------------------

/** A paid route: who pays (plans) and how much (credits). */
export interface PaidRoute {
  planId?: string
  /** Several plans, offered in this order. */
  planIds?: string[]
  /**
   * Credits per request (default 1), or a function computing them after the handler ran (dynamic pricing),
   * for every answer below 400. It must give a non-negative integer (a safe-integer number, a bigint or a
   * decimal string; 0 is free): anything else (undefined, null, NaN, negative, fractional) is a 500 with
   * code `invalid_credits` and nothing is charged.
   */
  credits?: BigIntLike | ((request: Request, response: Response) => BigIntLike | Promise<BigIntLike>)
  /** Dynamic routes: the balance verify checks before the handler (default 1). */
  minCredits?: BigIntLike
  description?: string
  mimeType?: string
  /** Fixes the plan's scheme (default: looked up from the plan once, then cached). */
  scheme?: X402SchemeType
  network?: string
}

export interface PaywallCorsOptions {
  /** `"*"` (default), an origin, or a list of origins. */
  origin?: string | string[]
  /** Preflight cache time in seconds (default 600). */
  maxAge?: number
  /** Request headers to allow besides `payment-signature`, `authorization` and `content-type`. */
  allowHeaders?: string[]
}

export interface SettledEvent {
  route: string
  planId: string
  method: string
  url: string
  settlement: SettlePermissionsResult
}

/** What a paywall's handler is told of its request's payment (its third argument). */
export interface PaidRequest {
  /** The request was paid (verified, or settled upfront); false on a route that is not paid. */
  paid: boolean
  /** The plan that pays. */
  planId?: string
  /** The credits verified (a decimal string; a dynamic route's are priced after the handler). */
  credits?: string
}

export interface PaywallOptions {
  /** The agent being paid. */
  agentId: string
  /** Paid routes: `"POST /tasks"`, `"GET /items/:id"`, `"/any-method"`, `"/files/*"`. Anything else passes through. */
  routes: Record<string, PaidRoute>
  /** Settle before the handler (one backend round trip; credits are spent even if the handler fails). */
  upfront?: boolean
  /**
   * Repeat payers skip verify: a reusable (v2) token that verified and settled on a route may, for
   * `windowMs` (default 30 s, at most 5 minutes), pay there with settle alone — one backend round trip.
   * Still fail closed (a refused settle withholds the body). Requests go without verify only while the
   * balance of the token's last receipt, less what is in flight, covers the price; past that they verify
   * as usual (the backend may still pay: a card delegation tops up). The cost: if the credits are spent elsewhere within the window, a
   * handler may run for a request whose settle then fails. Off by default; not with `upfront`.
   */
  repeatPayers?: boolean | { windowMs?: number }
  /** Answer preflights and expose `payment-required`/`payment-response` to browsers. */
  cors?: boolean | PaywallCorsOptions
  /** Match route paths case-sensitively (default: case-insensitive, so `/TASKS` can't bypass `/tasks`). */
  caseSensitive?: boolean
  /** Called after each settle, outside the response path (through `ctx.waitUntil` when given). */
  onSettled?: (event: SettledEvent) => void | Promise<void>
  // Lifecycle hooks, with the official SDK's names (`@nevermined-io/payments/express`). Each is
  // awaited at its point of a paid request and may observe or log; none can change what is
  // answered: one that throws (or rejects) is logged and the payment goes on as decided. Only the
  // hooks given are called (a request pays nothing for the others), and each is waited for at most
  // the client's `timeoutMs` (then the answer goes on without it). The request still carries its
  // `payment-signature` header: log `redactToken(...)` of it, never the header itself.
  /** Before the verify call (not in upfront mode, nor for a repeat payer that skips verify). */
  onBeforeVerify?: (request: Request, paymentRequired: X402PaymentRequired) => void | Promise<void>
  /** After verify said yes, before the handler runs. */
  onAfterVerify?: (request: Request, verification: VerifyPermissionsResult) => void | Promise<void>
  /** After a settle succeeded (before the handler in upfront mode): the credits burned (a number, as the official SDK's: exact up to 2^53) and the receipt. */
  onAfterSettle?: (request: Request, creditsUsed: number, settlement: SettlePermissionsResult) => void | Promise<void>
  /**
   * The gate answers a paid route with 402 (`code` `payment_required`: no token, a token refused,
   * a settle refused) or 503 (the backend's transport code, such as `network_error` or `timeout`).
   * Unlike the official Express middleware's, it observes only: the gate still sends its answer
   * (after this hook, so with it a 402 is answered through a Promise).
   */
  onPaymentError?: (error: PaymentsError, request: Request) => void | Promise<void>
}

/** What the paywall needs of a Workers-style execution context. */
export interface ExecutionContextLike {
  waitUntil(promise: Promise<unknown>): void
}

/** A compiled paywall (`payments.paywall(options)` of `nvm-x402/agent`). Every decision (routing, pre-checks, verify, settle) is made by the core. */
export class Paywall {
  private constructor()
  /**
   * Gates one request: answers it itself (402, 503, CORS preflight) or runs
   * `handler` and settles. Every answer below 400 (redirects too) is paid
   * content and is settled before it leaves; if settling fails, it is not
   * delivered (402 with the failed receipt in `payment-response`). Never
   * rejects: a handler that throws is a 500 with code `handler_failed` (nothing
   * charged; `handler_failed_after_payment` in upfront mode), a request URL that
   * is not absolute a 500 with code `invalid_request`.
   */
  handle(request: Request, handler: (request: Request, ctx: ExecutionContextLike | undefined, payment: PaidRequest) => Response | Promise<Response>, ctx?: ExecutionContextLike): Promise<Response>
  /** A `fetch` handler for Workers, Deno and Bun. */
  wrap<Env = unknown>(handler: (request: Request, env: Env, ctx: ExecutionContextLike) => Response | Promise<Response>): (request: Request, env: Env, ctx: ExecutionContextLike) => Promise<Response>
}

// ---- the paying client (subscriber side) ---------------------------------------------

// ---- the paying client (subscriber side) ---------------------------------------------

export interface PayOptions {
  /**
   * Plans you are willing to pay with. The agent never picks: a 402 that offers only other plans is a
   * `plan_not_allowed` error (nothing is minted). Pass `anyPlan: true` instead to pay with the first plan it offers.
   */
  planIds?: string[]
  /** Pay with any plan the agent offers (default false: only `planIds`). */
  anyPlan?: boolean
  /**
   * Pay on the first request, without waiting for a 402 (mint up front). Default: true when `planIds`
   * names exactly one plan and `anyPlan` is off; `false` probes for the 402 first (no mint for a free URL).
   */
  eager?: boolean
  /** The agent to mint for (default: the one the agent's 402 names). */
  agentId?: string
  /** Passed to the mint. Without `delegationConfig`, a delegation is reused or created (see `spendingLimitCents`). */
  tokenOptions?: Omit<X402TokenOptions, 'delegationConfig'> & { delegationConfig?: DelegationConfig }
  /**
   * The most credits one request may cost. Checked before paying against the plan's own per-request
   * maximum (`registry.credits.maxAmount`; a plan that states none is refused) and any `amount` the 402
   * states, and after against the receipt's `creditsRedeemed`: more is a `max_credits_exceeded` error
   * (with `response` attached) and that agent's cached token is dropped. The backend holds each settle to
   * the plan's per-request terms whatever the agent asks, so within a request nothing costs more. A reusable
   * (v2) token may be settled again later by the agent, outside the request: use `tokenVersion: 3` (with
   * `agentId`) for single-use tokens. It says nothing about money: a pay-as-you-go plan (which charges its
   * price on every request) is refused under `maxCredits` alone; see `maxPriceCents`.
   */
  maxCredits?: BigIntLike
  /**
   * The most money one request to a pay-as-you-go plan may charge, in cents of the plan's currency (USD,
   * EUR, USDC, EURC). A plan whose price names a template of its own (`getPayAsYouGoPriceConfig`) charges
   * its price on every request, and its receipt says `billingModel: 'pay-as-you-go'` with
   * `creditsRedeemed: "0"`: a charge, not a free call. Checked before paying against the plan's price (fiat,
   * USDC and EURC prices are read in cents; a price in another token, or a plan whose view names no
   * template, can't be checked: refused) and after against the receipt (a pay-as-you-go charge the plan's
   * price and this cap don't cover: error, token dropped). Over it: `max_price_exceeded`, nothing minted.
   * Credits plans are held by `maxCredits` (and a delegation's budget) instead.
   */
  maxPriceCents?: BigIntLike
  /**
   * Budget of a delegation the client creates because your account has no active one for the provider
   * (and card): default 100 cents ($1.00). An active delegation is always reused (across instances and
   * processes); one whose budget is spent is never replaced, only an expired one.
   */
  spendingLimitCents?: BigIntLike
  /** Lifetime of a delegation the client creates (default 3600 s). */
  delegationDurationSecs?: BigIntLike
  /** The card for fiat plans (default: the first enrolled card). */
  paymentMethodId?: string
}

export interface PaidFetchResult {
  /** The agent's final response (a 402 if paying did not succeed). */
  response: Response
  /** The decoded `payment-response` receipt, when the agent sent one. */
  paymentResponse: SettlePermissionsResult | null
}

export interface QueryAgentParams extends Omit<PayOptions, 'planIds'> {
  agentUrl: string
  prompt: string
  planId: string
  agentId?: string
  /** Default POST (`{prompt}` as JSON); GET sends `?prompt=`. */
  method?: HttpVerb
  /** Default: the plan's own (crypto plans pay with `nvm:erc4337`, fiat plans with a card). */
  paymentType?: 'crypto' | 'fiat'
}

export interface McpCallToolParams extends Omit<PayOptions, 'planIds'> {
  /** The MCP server's Streamable HTTP endpoint. */
  url: string
  /** The tool. */
  name: string
  arguments?: JsonObject
  planId: string
  agentId?: string
  /** JSON-RPC id of the `tools/call` (default 1). */
  id?: string | number
  /**
   * The MCP protocol revision. Default: negotiated as the official v2 client
   * does — a `server/discover` probe (no token) first, then 2026-07-28 to a
   * server that offers it, else 2025-11-25 (`initialize`, and the session of
   * a sessionful server) — and remembered per `url`. `'2026-07-28'` pins it
   * (a server that does not offer it is `mcp_negotiation_failed`, no
   * fallback); `'2025-11-25'` skips the probe.
   */
  protocolVersion?: '2026-07-28' | '2025-11-25'
  /** Extra headers (e.g. the MCP server's `authorization`). An `mcp-session-id` of your own means a 2025 session you initialized: the call goes in it, as you set it, without negotiating. */
  headers?: Record<string, string>
}

export interface McpCallToolResult {
  /** The JSON-RPC `result`. */
  result: JsonObject
  /** `result._meta["x402/payment-response"]`. */
  paymentResponse: SettlePermissionsResult | null
}

/** `payments.mcp.configure`: what an MCP server charges for. An agent or a plan is required. */
export interface McpConfig {
  /** The agent being paid: tokens bound to another agent are refused; without a plan, the agent's plans are offered. */
  agentId?: string
  /** The host of the logical URLs (`mcp://<serverName>/tools/<name>`); default `mcp-server`. */
  serverName?: string
  planId?: string
  planIds?: string[]
  // The HTTP paywall's lifecycle hooks (see `PaywallOptions`), told about the call instead of a Request;
  // each observes only: one that throws is logged and the payment goes on as decided.
  onBeforeVerify?: (call: McpPaidCall, paymentRequired: X402PaymentRequired) => void | Promise<void>
  onAfterVerify?: (call: McpPaidCall, verification: VerifyPermissionsResult) => void | Promise<void>
  onAfterSettle?: (call: McpPaidCall, creditsUsed: number, settlement: SettlePermissionsResult) => void | Promise<void>
  /** A paid call refused (`code` `payment_required`) or failed (`internal`: the backend can't be asked). */
  onPaymentError?: (error: PaymentsError, call: McpPaidCall) => void | Promise<void>
}

/** What the MCP paywall's hooks are told about a call. */
export interface McpPaidCall {
  kind: 'tool' | 'resource' | 'prompt' | 'meta'
  /** The tool's, resource's or prompt's name (a meta method's, such as `tools/list`). */
  name: string
  /** Its arguments (a resource's template variables). */
  args: unknown
}

/** What a dynamic credits function is told (the official SDK's `CreditsContext`). */
export interface McpCreditsContext<Args = unknown> {
  /** The tool/prompt arguments, or the resource's template variables. */
  args: Args
  /** What the handler returned (a streamed result: its chunks, in order). */
  result: unknown
  request: { authHeader: string; logicalUrl: string; toolName: string }
}

export type McpCredits<Args = unknown> = bigint | number | ((ctx: McpCreditsContext<Args>) => bigint | number | Promise<bigint | number>)

/** Per-handler options (the official SDK's `PaywallOptions` minus `kind` and `name` for `attach`). */
export interface McpHandlerOptions<Args = unknown> {
  /** Credits per call (default 1, whatever `maxAmount`): fixed, or computed after the handler from its arguments and result. */
  credits?: McpCredits<Args>
  /** The plan(s) of this handler, instead of the server's. */
  planId?: string
  planIds?: string[]
  /** Credits verify checks the balance for (default: the fixed credits, or 1 for a function). */
  maxAmount?: bigint | number
  /**
   * A settle that errs (refused with an error, or unreachable): `ignore` (default) answers the
   * payment-required result (tools; resources and prompts: JSON-RPC error -32003) or -32603,
   * `propagate` the official SDK's JSON-RPC error -32002 `Failed to redeem credits: ...`. Nothing is delivered either way.
   */
  onRedeemError?: 'ignore' | 'propagate'
}

export interface McpPaywallOptions extends McpHandlerOptions {
  /** Default `tool`. `meta`: a low-level `Server`'s handler of a meta method (`tools/list`, ...), which is free unless wrapped. */
  kind?: 'tool' | 'resource' | 'prompt' | 'meta'
  /** The registered name, or the meta method (part of the logical URL: `mcp://<server>/meta/tools/list`). */
  name: string
}

/** The last argument a paid handler receives (the official SDK's `PaywallContext`). */
export interface McpPaywallContext {
  authResult: {
    token: string
    agentId?: string
    logicalUrl: string
    httpUrl?: string
    planId: string
    subscriberAddress?: string
    agentRequest?: JsonObject
  }
  /** Fixed credits (undefined when a function computes them). */
  credits?: bigint
  planId: string
  subscriberAddress?: string
  agentRequest?: JsonObject
}

/**
 * What `attach` needs of an `McpServer`: v1's (`@modelcontextprotocol/sdk/server/mcp.js`)
 * or v2's (`@modelcontextprotocol/server`).
 */
export interface McpServerLike {
  registerTool(...args: never[]): unknown
  registerResource(...args: never[]): unknown
  registerPrompt(...args: never[]): unknown
}

/**
 * The MCP SDK's per-call argument, as far as the paywall reads it: v1's `extra`
 * (`_meta`, `requestInfo`) or v2's `ctx` (`mcpReq._meta`, `http.req`). Through
 * `attach(server)` a handler gets the server's own type of it (`McpExtraOf`).
 */
export interface McpRequestExtra {
  /** v1: the request's `params._meta` (the payment travels in `"x402/payment"`). */
  _meta?: JsonObject
  /** v1, set by the Streamable HTTP transports: the HTTP request's headers and URL. */
  requestInfo?: { headers?: Record<string, string | string[] | undefined>; url?: URL }
  /** v2: the request (its `_meta`, with the `io.modelcontextprotocol/*` envelope lifted out). */
  mcpReq?: { _meta?: JsonObject }
  /** v2, over HTTP: the Request. */
  http?: { req?: Request }
}

/**
 * The per-call argument an `McpServer`'s handlers get, read from its
 * `registerResource` (v1: `RequestHandlerExtra`, v2: `ServerContext`);
 * `McpRequestExtra` for a server whose type does not say.
 */
export type McpExtraOf<Server> = Server extends { registerResource(...args: infer A): unknown }
  ? A extends [...unknown[], (uri: URL, variables: infer _V, extra: infer E) => unknown]
    ? unknown extends E ? McpRequestExtra : E
    : McpRequestExtra
  : McpRequestExtra

/** Tool/prompt arguments as the handler reads them (annotate the parameter for a precise type). */
export type McpArgs = { [key: string]: unknown }

/** A tool's or prompt's handler: the MCP SDK's `(args, extra)` (v2: `(args, ctx)`), plus the paywall's context. */
export type McpToolHandler<Args, R, Extra = McpRequestExtra> = (args: Args, extra: Extra, context: McpPaywallContext) => R
/** A resource template's handler: the MCP SDK's `(uri, variables, extra)`, plus the paywall's context. */
export type McpResourceHandler<R, Extra = McpRequestExtra> = (uri: URL, variables: Record<string, string | string[]>, extra: Extra, context: McpPaywallContext) => R

/** What a zod schema parses to (zod 4's `_zod.output`, zod 3's `_output`), read structurally: no zod types are imported. */
type McpSchemaOutput<S> = S extends { _zod: { output: infer O } } ? O : S extends { _output: infer O } ? O : unknown
type McpRequiredKeys<Shape> = { [K in keyof Shape]: undefined extends McpSchemaOutput<Shape[K]> ? never : K }[keyof Shape]
type McpSimplify<T> = { [K in keyof T]: T[K] } & {}
/**
 * The arguments a tool's `inputSchema` (or a prompt's `argsSchema`) gives its handler, as the MCP SDK's own
 * `registerTool` infers them: a zod raw shape `{ text: z.string(), n: z.number().optional() }` is
 * `{ text: string; n?: number }`, a whole schema (`z.object(...)`) its output; no schema, `McpArgs`.
 */
export type McpArgsOf<Schema> = [Schema] extends [undefined]
  ? McpArgs
  : Schema extends { _zod: unknown } | { _output: unknown }
    ? McpSchemaOutput<Schema>
    : McpSimplify<{ [K in McpRequiredKeys<Schema>]: McpSchemaOutput<Schema[K]> } & { [K in Exclude<keyof Schema, McpRequiredKeys<Schema>>]?: McpSchemaOutput<Schema[K]> }>

/**
 * `payments.mcp.attach(server)`: the McpServer's register methods, each paid; the handler's and `ctx.args`'
 * types come from the schema, its `extra`/`ctx` type from the server (`Extra`).
 */
export interface McpPaidRegistrar<Extra = McpRequestExtra> {
  registerTool<Schema extends object, R = unknown>(name: string, config: { inputSchema: Schema; [key: string]: unknown }, handler: McpToolHandler<McpArgsOf<Schema>, R, Extra>, options?: McpHandlerOptions<McpArgsOf<Schema>>): void
  /** Without an `inputSchema`: the handler's own annotation says what its arguments are. */
  registerTool<Args extends object = McpArgs, R = unknown>(name: string, config: { inputSchema?: undefined; [key: string]: unknown }, handler: McpToolHandler<Args, R, Extra>, options?: McpHandlerOptions<Args>): void
  registerResource<R = unknown>(name: string, template: unknown, config: object, handler: McpResourceHandler<R, Extra>, options?: McpHandlerOptions<Record<string, string | string[]>>): void
  registerPrompt<Schema extends object, R = unknown>(name: string, config: { argsSchema: Schema; [key: string]: unknown }, handler: McpToolHandler<McpArgsOf<Schema>, R, Extra>, options?: McpHandlerOptions<McpArgsOf<Schema>>): void
  registerPrompt<Args extends object = McpArgs, R = unknown>(name: string, config: { argsSchema?: undefined; [key: string]: unknown }, handler: McpToolHandler<Args, R, Extra>, options?: McpHandlerOptions<Args>): void
}

/** `payments.mcp` in `nvm-x402`: calling a paid MCP server's tools. */
export interface McpClientAPI {
  /** A `tools/call` in the MCP revision the server speaks (2026-07-28, else 2025-11-25; see `protocolVersion`) with the token in `params._meta["x402/payment"]`; a payment-required tool result becomes a `payment_required` error. */
  callTool(params: McpCallToolParams): Promise<McpCallToolResult>
}

/** `payments.a2a.getClient(options)`: the agent (the official client's options) and how to pay it (`PayOptions`). */
export interface A2AClientOptions extends PayOptions {
  /**
   * Where the agent is: its card is `agentBaseUrl` joined with `agentCardPath`. Messages go to the card's
   * `url`, which must be on this origin (else `redirect_not_followed`: no token goes elsewhere).
   */
  agentBaseUrl: string
  /** A plan you are willing to pay with (as `planIds: [planId]`). */
  planId?: string
  /** The agent to pay: a card for another agent is refused (default: the card's). */
  agentId?: string
  /** Relative to `agentBaseUrl`; default `.well-known/agent-card.json`, then `.well-known/agent.json`. */
  agentCardPath?: string
  /** Extra headers on every message (the card is fetched without them). */
  headers?: Record<string, string>
}

/** A2A `MessageSendParams` (A2A 0.3 JSON): `message.messageId` is required. */
export interface A2AMessageSendParams {
  message: { messageId: string; role?: 'user' | 'agent'; kind?: 'message'; parts: JsonObject[]; taskId?: string; contextId?: string; metadata?: JsonObject; [key: string]: unknown }
  configuration?: JsonObject
  metadata?: JsonObject
}

/** The JSON-RPC response, as the official client returns it, and the receipt. */
export interface A2ASendMessageResponse {
  jsonrpc: '2.0'
  id: number
  /** The task (or message) the agent answered; a `failed` task with `x402.payment.status: payment-failed` carries no content. */
  result?: JsonObject
  /** A JSON-RPC error, returned as the official client returns it. */
  error?: { code: number; message: string; data?: JsonValue }
  /** `x402.payment.receipts[0]` of a `payment-completed` task. */
  paymentResponse: SettlePermissionsResult | null
}

/** A client for one A2A agent (`payments.a2a.getClient`). */
export interface A2APaymentsClient {
  /**
   * `message/send`, paid in one call: reads the card (its payment extension must offer a plan you allow,
   * for your agent, at most `maxCredits` per message), sends the message (paid up front with one allowed
   * plan), answers an `input-required` / `payment-required` task on its `taskId` with `payment-submitted` and
   * a minted token (in band), and checks the receipt against `maxCredits`. A task that still asks for payment
   * is a `payment_required` error.
   */
  sendA2AMessage(params: A2AMessageSendParams): Promise<A2ASendMessageResponse>
  /**
   * `message/stream`, paid the same way: yields the JSON-RPC responses of the agent's events as they
   * come, each once the next one arrives (the last says how the payment went: it is yielded, with
   * `paymentResponse`, when the stream ends; an nvm-x402 paywall sends its events once the task is
   * settled). A JSON-RPC error is yielded as it came; an answer that is not this call's throws after
   * the events before it. Stopping the iteration cancels the stream (nothing more is sent or paid).
   */
  sendA2AMessageStream(params: A2AMessageSendParams): AsyncGenerator<A2AStreamResponse, void, undefined>
  /**
   * `tasks/get` (`{id, historyLength?}`) to the card's `url`: the JSON-RPC response as the agent sent it
   * (a JSON-RPC error included). Reading a task is not paid: no token is sent (the official client also
   * sends its cached token in the deprecated `payment-signature` header), and a task waiting for its
   * payment is answered as it is, never paid on.
   */
  getA2ATask(params: { id: string; historyLength?: number; metadata?: JsonObject }): Promise<A2AStreamResponse>
  /**
   * `tasks/resubscribe` (`{id}`) to the card's `url`, unpaid as `getA2ATask`: yields the JSON-RPC responses
   * of the agent's events as each arrives (an nvm-x402 paywall sends the task as it is now, one event).
   */
  resubscribeA2ATask(params: { id: string; metadata?: JsonObject }): AsyncGenerator<A2AStreamResponse, void, undefined>
  /**
   * `tasks/pushNotificationConfig/set` (A2A 0.3 `TaskPushNotificationConfig`: `{taskId, pushNotificationConfig}`)
   * to the card's `url`, unpaid as `getA2ATask` (no token; the official client sends its cached token in the
   * deprecated `payment-signature` header): the JSON-RPC response as the agent sent it (`result`: the config
   * it keeps; a JSON-RPC error included, e.g. -32003 from an agent without push notifications, as an nvm-x402
   * paywall). The config (its `token`, `authentication`) goes to the card's origin only: a redirect elsewhere
   * is not followed (`redirect_not_followed`).
   */
  setA2ATaskPushNotificationConfig(params: A2ATaskPushNotificationConfig): Promise<A2AStreamResponse>
  /**
   * `tasks/pushNotificationConfig/get` (`{id, pushNotificationConfigId?}`: the task's id) to the card's `url`,
   * unpaid as `getA2ATask`: the JSON-RPC response as the agent sent it (a JSON-RPC error included).
   */
  getA2ATaskPushNotificationConfig(params: { id: string; pushNotificationConfigId?: string; metadata?: JsonObject }): Promise<A2AStreamResponse>
  /** Forgets the tokens this client's agent could be paid with: the next payment mints a new one. */
  clearToken(): void
}

/** A2A 0.3 `TaskPushNotificationConfig`: where the agent sends a task's updates. */
export interface A2ATaskPushNotificationConfig {
  taskId: string
  pushNotificationConfig: {
    /** The webhook the agent POSTs to. */
    url: string
    id?: string
    /** A token the agent sends back with each notification (the webhook checks it). */
    token?: string
    authentication?: { schemes: string[]; credentials?: string }
  }
}

/** One event of `sendA2AMessageStream`: a JSON-RPC response (`result`: a task, status or artifact update, or message). */
export interface A2AStreamResponse {
  jsonrpc: '2.0'
  id: number
  result?: JsonObject
  error?: { code: number; message: string; data?: JsonValue }
  /** On the last event: `x402.payment.receipts[0]` of a `payment-completed` status. */
  paymentResponse?: SettlePermissionsResult | null
}

/**
 * What `nvm-x402` and `nvm-x402/a2a-client` both carry: the subscriber's calls (minting,
 * paying agents, orders, balances, delegations), without registration.
 */
export interface PaymentsSubscriber extends PaymentsBase {
  readonly x402: X402API
  readonly plans: PlansSubscriberAPI
  readonly agents: AgentsReadAPI
  readonly delegation: DelegationAPI
  /** `fetchWithPayment` bound to this client. */
  fetch(input: RequestInfo | URL, init?: RequestInit, options?: PayOptions): Promise<PaidFetchResult>
  /** Pays and sends `{prompt}` to an agent in one call; returns its JSON. A 402 throws `payment_required`. */
  queryAgent(params: QueryAgentParams): Promise<JsonValue>
  readonly mcp: McpClientAPI
}

/** `payments.a2a` in `nvm-x402/a2a-client`: paying A2A agents. */
export interface A2AClientAPI {
  /**
   * Reads the agent's card (`agentCardPath`, else the legacy `.well-known/agent.json` with a
   * `console.warn`; when both fail, the error's `cause` is the first path's) and answers its client.
   * The same options (per Payments instance) get the same client, as the official registry's.
   */
  getClient(options: A2AClientOptions): Promise<A2APaymentsClient>
}

/** `payments.mcp` in `nvm-x402/mcp`: the server half, an MCP paywall. */
export interface McpServerAPI {
  /**
   * Configures the server half (an MCP paywall): paid calls verify before the
   * handler and settle after it; a failed settle withholds the result; no
   * payment is an error tool result (tools) or a JSON-RPC error -32003
   * (resources, prompts) carrying the PaymentRequired. Throws `PaymentsError` on mistakes.
   */
  configure(config: McpConfig): void
  /**
   * Wraps a handler (call `configure` first) for `McpServer.registerTool /
   * registerResource / registerPrompt`: the payment comes in
   * `params._meta["x402/payment"]`, or the `payment-signature` / `Authorization:
   * Bearer` header. The wrapped handler answers what the handler does (plus the
   * receipt in `_meta`), or the payment-required result. A handler may return an
   * AsyncIterable (as the official SDK allows): it is read to its end and settled
   * before any chunk is handed on, then replayed with a last `{_meta}` chunk (the
   * receipt); if the settle fails, the one chunk is the payment-required result.
   */
  withPaywall<Args extends object = McpArgs, R = unknown>(handler: McpToolHandler<Args, R>, options: McpPaywallOptions & { kind?: 'tool' | 'prompt' }): (args: Args, extra?: object) => Promise<Awaited<R>>
  withPaywall<R = unknown>(handler: McpResourceHandler<R>, options: McpPaywallOptions & { kind: 'resource' }): (uri: URL, variables: Record<string, string | string[]>, extra?: object) => Promise<Awaited<R>>
  withPaywall<Req extends object, R = unknown>(handler: (request: Req, extra: McpRequestExtra, context: McpPaywallContext) => R, options: McpPaywallOptions & { kind: 'meta' }): (request: Req, extra?: object) => Promise<Awaited<R>>
  /** Paid `registerTool / registerResource / registerPrompt` over an `McpServer` (v1 or v2: handlers get its `extra` / `ctx` type). */
  attach<Server extends McpServerLike>(server: Server): McpPaidRegistrar<McpExtraOf<Server>>
  /**
   * The OAuth discovery documents the official SDK's router serves, for a
   * Fetch-API server: a GET of `/.well-known/oauth-protected-resource` (and
   * `.../mcp`), `/.well-known/oauth-authorization-server` or
   * `/.well-known/openid-configuration` gets its JSON (the environment's
   * authorization server); any other request gets `null` (serve it yourself).
   * They are what `nvm-x402/mcp`'s `buildProtectedResourceMetadata`, ... build,
   * less `registration_endpoint` (no `POST /register` is served).
   */
  discovery(request: Request, options?: McpDiscoveryOptions): Response | null
}

export interface McpDiscoveryOptions {
  /** This server's public URL (default: the request's origin). */
  baseUrl?: string
  /** Tool names for `mcp_capabilities.tools`. */
  tools?: string[]
  /** Default: openid, profile, credits, mcp:read, mcp:write, mcp:tools (`openid-configuration` always adds `openid`). */
  scopes?: string[]
  /**
   * `mcp_capabilities.protocol_version`: default `2024-11-05` (the official's), or with
   * `protocolVersions` the first of them negotiated with `initialize`.
   */
  protocolVersion?: string
  /**
   * `mcp_capabilities.protocol_versions` (not in the official SDK; left out unless given), the MCP
   * revisions the server speaks: `['2026-07-28', '2025-11-25']` for `@modelcontextprotocol/server` 2.x,
   * `['2025-11-25']` for `@modelcontextprotocol/sdk` 1.x.
   */
  protocolVersions?: string[]
}

/** @deprecated no entry has both halves: `nvm-x402`'s `payments.mcp` is an `McpClientAPI`, `nvm-x402/mcp`'s an `McpServerAPI`. */
export interface McpAPI extends McpClientAPI, McpServerAPI {}

// ---- free functions (every entry) -----------------------------------------------------

/** The decoded token, or `null` for anything that is not base64 of a JSON object. Never throws. */
export function decodeAccessToken(token: unknown): X402PaymentAccepted | null
/** Like `decodeAccessToken`, but says why a token can't be decoded. Never throws. */
export function tryDecodeAccessToken(token: unknown): TryDecodeResult
/** Unpadded base64url of the compact JSON. */
export function encodeAccessToken(token: X402PaymentAccepted): string
export function buildPaymentRequired(planId: string, options?: BuildPaymentRequiredOptions): X402PaymentRequired
export function buildPaymentRequiredForPlans(planIds: string[], options?: BuildPaymentRequiredOptions): X402PaymentRequired
/** Standard padded base64 of the compact JSON (key order kept). */
export function encodePaymentHeader(value: JsonObject | X402PaymentRequired | SettlePermissionsResult): string
/** Throws `PaymentsError` (`validation`) for a value that is not base64 of a JSON object. */
export function decodePaymentHeader(header: string): JsonObject
/** `abcdef…wxyz`: at most the first 6 and last 4 characters of a secret. */
export function redactToken(secret: string): string

export const getFreePriceConfig: PlanConfigHelpers['getFreePriceConfig']
export const getCryptoPriceConfig: PlanConfigHelpers['getCryptoPriceConfig']
export const getNativeTokenPriceConfig: PlanConfigHelpers['getNativeTokenPriceConfig']
export const getERC20PriceConfig: PlanConfigHelpers['getERC20PriceConfig']
export const getFiatPriceConfig: PlanConfigHelpers['getFiatPriceConfig']
export const getEURCPriceConfig: PlanConfigHelpers['getEURCPriceConfig']
export const getFixedCreditsConfig: PlanConfigHelpers['getFixedCreditsConfig']
export const getDynamicCreditsConfig: PlanConfigHelpers['getDynamicCreditsConfig']
export const getExpirableDurationConfig: PlanConfigHelpers['getExpirableDurationConfig']
export const getNonExpirableDurationConfig: PlanConfigHelpers['getNonExpirableDurationConfig']
export const getPayAsYouGoCreditsConfig: PlanConfigHelpers['getPayAsYouGoCreditsConfig']

export const ONE_DAY_DURATION: bigint
export const ONE_WEEK_DURATION: bigint
export const ONE_MONTH_DURATION: bigint
export const ONE_YEAR_DURATION: bigint
export const ZeroAddress: '0x0000000000000000000000000000000000000000'

/** The backend API version this package pins (`Nevermined-Version`), unless the `version` option says another. */
export const LOCKED_API_VERSION: '1.1'
/** The header carrying it. */
export const API_VERSION_HEADER: 'Nevermined-Version'
/** EURC on Base mainnet. */
export const EURC_TOKEN_ADDRESS: '0x60a3E35Cc302bFA44Cb288Bc5a4F316Fdb1adb42'
/** EURC on Base Sepolia. */
export const EURC_TOKEN_ADDRESS_TESTNET: '0x808456652fdb597867f38412077A9182bf77359F'
/** The plans' currencies (the official SDK's enum, as a frozen object). */
export const Currency: { readonly USD: 'USD'; readonly EUR: 'EUR'; readonly USDC: 'USDC'; readonly EURC: 'EURC' }
export type Currency = 'USD' | 'EUR' | 'USDC' | 'EURC'
/** Who may redeem a plan's credits (the official SDK's numeric enum, with its reverse mapping). */
export const PlanRedemptionType: {
  readonly ONLY_GLOBAL_ROLE: 0
  readonly ONLY_OWNER: 1
  readonly ONLY_PLAN_ROLE: 2
  readonly ONLY_SUBSCRIBER: 4
  readonly 0: 'ONLY_GLOBAL_ROLE'
  readonly 1: 'ONLY_OWNER'
  readonly 2: 'ONLY_PLAN_ROLE'
  readonly 4: 'ONLY_SUBSCRIBER'
}
export type PlanRedemptionType = 0 | 1 | 2 | 4
/**
 * The environment an API key's prefix names (`sandbox:...` is `'sandbox'`, `sandbox-staging:` is
 * `'staging_sandbox'`, case-insensitive; this package's `local:` is `'local'`), or undefined.
 */
export function getEnvironmentFromApiKey(nvmApiKey: string): EnvironmentName | undefined
/** `0x` and 40 hex digits. */
export function isEthereumAddress(address: string | undefined): boolean
/** The origin of an agent's endpoints' URLs (`[{ POST: url }]`), as the official SDK computes it (the last endpoint's); `''` for none. */
export function getServiceHostFromEndpoints(endpoints: Array<Record<string, string>>): string

// ---- the names of earlier versions: the official SDK's are above and in wire-types.d.ts ----

/** @deprecated the official SDK's name is `X402PaymentRequired`. */
export type PaymentRequired = X402PaymentRequired
/** @deprecated the official SDK's name is `X402Resource`. */
export type Resource = X402Resource
/** @deprecated the official SDK's name is `X402Scheme`. */
export type PaymentRequirements = X402Scheme
/** @deprecated the official SDK's name is `X402SchemeExtra`. */
export type PaymentRequirementsExtra = X402SchemeExtra
/** @deprecated the official SDK's name is `VerifyPermissionsParams`. */
export type VerifyParams = VerifyPermissionsParams
/** @deprecated the official SDK's name is `SettlePermissionsParams`. */
export type SettleParams = SettlePermissionsParams
/** @deprecated the official SDK's name is `VerifyPermissionsResult`. */
export type VerifyResult = VerifyPermissionsResult
/** @deprecated the official SDK's name is `SettlePermissionsResult`. */
export type SettleResult = SettlePermissionsResult
/** @deprecated the official SDK's name is `DelegationSummary`. */
export type Delegation = DelegationSummary
/** @deprecated the official SDK's name is `DelegationListResponse`. */
export type DelegationList = DelegationListResponse
/** @deprecated the official SDK's name is `PaymentMethodSummary`. */
export type PaymentMethod = PaymentMethodSummary
/** @deprecated the official SDK's name is `NvmAPIResult`. */
export type OrderResult = NvmAPIResult
/** @deprecated the official SDK's name is `PaginationOptions`. */
export type GetPlansOptions = PaginationOptions
/** @deprecated the official SDK's name is `X402PaymentAccepted`. */
export type X402AccessToken = X402PaymentAccepted
