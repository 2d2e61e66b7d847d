// The package's data types, generated from their Rust descriptions in types/
// (nvm-x402-types, ts-rs): do not edit. After changing types/, run
//   cargo run -q -p nvm-x402-types --example ts-declarations > pkg-template/wire-types.d.ts
// Big integers are decimal strings out and BigIntLike in.
import type { Address, BigIntLike, DelegationCurrency, DelegationProvider, HttpVerb, JsonObject, JsonValue, OrderStatus, OrganizationActivityEventType, OrganizationMemberRole, OrganizationType, X402SchemeType } from './common.js'

/** `{x402Version: 2, error?, resource, accepts, extensions}`. */
export interface X402PaymentRequired {
  /** Always 2. */
  x402Version: 2
  /** Why payment is required. */
  error?: string
  /** The resource being paid for. */
  resource: X402Resource
  /** The ways to pay, in order of preference. */
  accepts: Array<X402Scheme>
  /** Protocol extensions (`{}` when we build one). */
  extensions?: JsonObject
  /** Any other field, kept as sent. */
  [key: string]: JsonValue | undefined
}

/** `{url, description?, mimeType?}`. */
export interface X402Resource {
  /** The URL (or path) of the resource. */
  url: string
  /** A human description. */
  description?: string
  /** The response's media type. */
  mimeType?: string
  /** Any other field, kept as sent. */
  [key: string]: JsonValue | undefined
}

/** One `accepts` entry. */
export interface X402Scheme {
  /** `nvm:erc4337`, `nvm:card-delegation`, or a standard scheme such as `exact`. */
  scheme: string
  /** `eip155:84532`, `stripe`, ... */
  network: string
  /** The Nevermined plan (absent on standard entries). */
  planId?: string
  /** `{version: "1", agentId?, httpVerb?}` on Nevermined entries. */
  extra?: X402SchemeExtra
  /**
   * Standard entries: the price in the asset's smallest unit (x402: a
   * decimal string; read and kept as sent).
   */
  amount?: string
  /** Standard entries: the token contract (kept as sent). */
  asset?: string
  /** Standard entries: who is paid (kept as sent). */
  payTo?: string
  /** Standard entries: how long a payment stays valid (x402: a number; kept as sent). */
  maxTimeoutSeconds?: number
  /** Any other field, kept as sent. */
  [key: string]: JsonValue | undefined
}

/** An entry's `extra`. */
export interface X402SchemeExtra {
  /** `"1"` on Nevermined entries. */
  version?: string
  /** The agent being paid. */
  agentId?: string
  /** The HTTP method of the paid request. */
  httpVerb?: string
  /** Any other field, kept as sent. */
  [key: string]: JsonValue | undefined
}

/** `tokenOptions` of `getX402AccessToken`. */
export interface X402TokenOptions {
  /** Default `nvm:erc4337`. */
  scheme?: X402SchemeType | (string & {})
  /** Default: the scheme's network in the client's environment. */
  network?: string
  /**
   * Which delegation pays. Required (read as optional so that a missing
   * one is the core's validation error, not a parse error).
   */
  delegationConfig: DelegationConfig
  /** 2 (reusable, default) or 3 (single-use, bound to agent, URL and verb). */
  tokenVersion?: 2 | 3
  /** The resource the token is for (bound by v3 tokens). */
  resource?: X402Resource
  /** The HTTP method the token is for (bound by v3 tokens). */
  httpVerb?: HttpVerb | (string & {})
}

/** `delegationConfig`: `{delegationId, apiKeyId?}`, or the deprecated inline form. */
export interface DelegationConfig {
  /** The delegation to spend from (see `createDelegation`). */
  delegationId?: string
  /** Restrict to an API key. */
  apiKeyId?: string
  /**
   * Inline creation: the spending limit in cents.
   * @deprecated create a delegation and pass `delegationId`.
   */
  spendingLimitCents?: BigIntLike
  /**
   * Inline creation: the duration in seconds.
   * @deprecated create a delegation and pass `delegationId`.
   */
  durationSecs?: BigIntLike
  /**
   * Inline creation: the card.
   * @deprecated create a delegation and pass `delegationId`.
   */
  providerPaymentMethodId?: string
  /**
   * Inline creation: the card (older name).
   * @deprecated create a delegation and pass `delegationId`.
   */
  cardId?: string
  /**
   * Inline creation: the currency.
   * @deprecated create a delegation and pass `delegationId`.
   */
  currency?: string
}

/** The mint answer: `{accessToken, ...}`. */
export interface AccessTokenResult {
  /** The x402 access token. */
  accessToken: string
  /** Any other field, kept as sent. */
  [key: string]: JsonValue | undefined
}

/**
 * A decoded x402 access token (`decodeAccessToken`): the JSON whose base64
 * is the mint answer's `accessToken`. Decoding checks only that it is a JSON
 * object, so every field is optional.
 */
export interface X402PaymentAccepted {
  /** 2. */
  x402Version?: number
  /** What it pays with: the scheme, network and plan (`extra`: the agent and verb it is bound to). */
  accepted?: X402Scheme
  /** The resource it is bound to (single-use tokens). */
  resource?: X402Resource
  /** The signed part. */
  payload?: X402AccessTokenPayload
  /** Protocol extensions. */
  extensions?: JsonObject
  /** Any other field, kept as sent. */
  [key: string]: JsonValue | undefined
}

/** `payload` of an access token. */
export interface X402AccessTokenPayload {
  /** The subscriber's signature. */
  signature?: string
  /** Card delegations: the provider's token. */
  token?: string
  /** Who pays, and with which session keys. */
  authorization?: X402AccessTokenAuthorization
  /** Any other field, kept as sent. */
  [key: string]: JsonValue | undefined
}

/** `payload.authorization` of an access token. */
export interface X402AccessTokenAuthorization {
  /** The subscriber. */
  from?: string
  /** Who holds the session keys (`zerodev`, ...). */
  sessionKeysProvider?: string
  /** The session keys (as sent). */
  sessionKeys?: Array<JsonValue>
  /** Present on single-use (v3) tokens. */
  nonce?: string
  /** Any other field, kept as sent. */
  [key: string]: JsonValue | undefined
}

/** The verify body: `{paymentRequired, x402AccessToken, maxAmount?}` (also the JS parameter object). */
export interface VerifyPermissionsParams {
  /** What the agent asks for. */
  paymentRequired: X402PaymentRequired
  /** The subscriber's token. */
  x402AccessToken: string
  /** Credits the request will cost. */
  maxAmount?: BigIntLike
}

/** The settle body: verify's plus `agentRequestId?, batch?, marginPercent?`. */
export interface SettlePermissionsParams {
  /** What the agent asked for. */
  paymentRequired: X402PaymentRequired
  /** The subscriber's token. */
  x402AccessToken: string
  /** Credits to burn (`"0"`: the plan's default per request). */
  maxAmount?: BigIntLike
  /** The id verify returned. */
  agentRequestId?: string
  /** Batch settlement. */
  batch?: boolean
  /** Margin on dynamic pricing. */
  marginPercent?: number
}

/** The verify answer. `isValid: false` is a normal "no", not an error. */
export interface VerifyPermissionsResult {
  /** Whether the token may be used for this request. */
  isValid: boolean
  /** Why not. */
  invalidReason?: string
  /** The subscriber. */
  payer?: string
  /** The network. */
  network?: string
  /** Pass to settle. */
  agentRequestId?: string
  /** Whether the URL matched the agent's endpoints. */
  urlMatching?: JsonValue
  /** The request's context (agent, balance). */
  agentRequest?: StartAgentRequest
  /** Any other field, kept as sent. */
  [key: string]: JsonValue | undefined
}

/** `agentRequest` of a verify answer. */
export interface StartAgentRequest {
  /** The request id. */
  agentRequestId?: string
  /** The agent's name. */
  agentName?: string
  /** The agent. */
  agentId?: string
  /** The subscriber's balance on the plan. */
  balance?: PlanBalance
  /** Whether the URL matched the agent's endpoints (as sent). */
  urlMatching?: JsonValue
  /** Whether the HTTP method matched (as sent). */
  verbMatching?: JsonValue
  /** Batch settlement. */
  batch?: boolean
  /** Any other field, kept as sent. */
  [key: string]: JsonValue | undefined
}

/** A subscriber's balance on a plan (also `getPlanBalance`'s answer). */
export interface PlanBalance {
  /** The plan. */
  planId: string
  /** The plan's name. */
  planName?: string
  /** `credits` or `time`. */
  planType?: string
  /** Whose balance. */
  holderAddress?: string
  /** Credits left (a decimal string). */
  balance: string
  /** The credits contract. */
  creditsContract?: string
  /** Whether the holder is subscribed (has ordered the plan and it is usable). */
  isSubscriber: boolean
  /** Price of one credit. */
  pricePerCredit?: number
  /** Any other field, kept as sent. */
  [key: string]: JsonValue | undefined
}

/** The settle answer. */
export interface SettlePermissionsResult {
  /** Whether credits were burned. */
  success: boolean
  /** Why not. */
  errorReason?: string
  /** The subscriber. */
  payer?: string
  /** The burn transaction (`""` on failure). */
  transaction: string
  /** The network. */
  network: string
  /**
   * How the plan bills: `credits` (credits burned from a balance), or
   * `pay-as-you-go` (one direct charge of the plan's price: `creditsRedeemed`
   * is `"0"` and the charge is `orderTx`, or `transaction`). Absent from
   * older backends (read as `credits`).
   */
  billingModel?: 'credits' | 'pay-as-you-go'
  /** Credits burned (decimal string; `"0"` for a pay-as-you-go charge). */
  creditsRedeemed?: string
  /** Credits left (decimal string). */
  remainingBalance?: string
  /**
   * The order transaction: of the top-up a settle bought (credits), or of
   * the pay-as-you-go charge itself.
   */
  orderTx?: string
  /** Any other field, kept as sent. */
  [key: string]: JsonValue | undefined
}

/**
 * What `requests.startProcessingRequest` answers: verify's verdict on the
 * token for that URL and verb, and the subscriber's balance. A missing or
 * undecodable token is `isValid: false` (no backend call).
 */
export interface StartProcessingResult {
  /** Whether the token may be used for this request. */
  isValid: boolean
  /** Why not. */
  invalidReason?: string
  /** Pass to settle. */
  agentRequestId?: string
  /** The plan (the token's, or the one asked for). */
  planId?: string
  /** The PaymentRequired that was verified; settle with the same one. */
  paymentRequired?: X402PaymentRequired
  /** The subscriber's balance on the plan (`balance: "0"`, `isSubscriber: false` when unknown). */
  balance: PlanBalance
}

/** What `resolveScheme` answers: how a plan is paid. */
export interface ResolvedScheme {
  /** `nvm:erc4337` (crypto plans) or `nvm:card-delegation` (fiat plans). */
  scheme: X402SchemeType
  /** The environment's chain (`eip155:84532`, ...) or the card provider (`stripe`, ...). */
  network: string
}

/** `metadataAttributes` of a plan. */
export interface PlanMetadata {
  /** The plan's name. */
  name: string
  /** A description. */
  description?: string
  /** Tags. */
  tags?: Array<string>
  /** Whether it is a trial plan (orderable once per subscriber). */
  isTrialPlan?: boolean
  /** Any other field, kept as sent. */
  [key: string]: JsonValue | undefined
}

/** `priceConfig` of a plan. Amounts are in the token's smallest unit (fiat: 6 decimals, `1000000` = $1.00). */
export interface PlanPriceConfig {
  /** ERC-20 token, or the zero address for the native token / fiat. */
  tokenAddress?: Address | string
  /** One amount per receiver. */
  amounts: Array<BigIntLike>
  /** Who gets paid. */
  receivers: Array<Address | string>
  /** Unused by these helpers (zero address). */
  contractAddress?: string
  /** Unused by these helpers (zero address). */
  feeController?: string
  /** Unused by these helpers (zero address). */
  externalPriceAddress?: string
  /** Unused by these helpers (zero address). */
  templateAddress?: string
  /** `false` for fiat plans. */
  isCrypto: boolean
  /**
   * Fiat: an ISO 4217 code (`USD`, `EUR`); `EURC` for the euro stablecoin.
   * Also sent as the registration's top-level `currency`.
   */
  currency?: string
  /** Any other field, kept as sent. */
  [key: string]: JsonValue | bigint | BigIntLike[] | undefined
}

/** `creditsConfig` of a plan. */
export interface PlanCreditsConfig {
  /** Whether every request costs exactly `minAmount` (= `maxAmount`). */
  isRedemptionAmountFixed: boolean
  /**
   * Who may redeem: 0 global role, 1 owner, 2 plan role, 4 subscriber
   * (the default, and what every helper sends, as in both official SDKs).
   */
  redemptionType?: 0 | 1 | 2 | 4
  /** Mirror balances on chain. */
  onchainMirror?: boolean
  /** Time plans: seconds until the plan expires (0: never). */
  durationSecs: BigIntLike
  /** Credits granted per order. */
  amount: BigIntLike
  /** Credits per request, minimum. */
  minAmount: BigIntLike
  /** Credits per request, maximum. */
  maxAmount: BigIntLike
  /** Any other field, kept as sent. */
  [key: string]: JsonValue | bigint | undefined
}

/**
 * What the price helpers (`getFreePriceConfig`, `getCryptoPriceConfig`, ...)
 * return: a `PlanPriceConfig` with every field written, amounts as decimal strings.
 */
export interface PriceConfigResult {
  /** ERC-20 token, or the zero address for the native token / fiat. */
  tokenAddress: string
  /** One amount per receiver (decimal strings). */
  amounts: Array<string>
  /** Who gets paid. */
  receivers: Array<string>
  /** The zero address. */
  contractAddress: string
  /** The zero address. */
  feeController: string
  /** The zero address. */
  externalPriceAddress: string
  /** The zero address. */
  templateAddress: string
  /** `false` for fiat plans. */
  isCrypto: boolean
  /** Fiat: the ISO 4217 code (`USD`, `EUR`); `EURC` for the euro stablecoin. */
  currency?: string
  /** Any other field, kept as sent. */
  [key: string]: JsonValue | undefined
}

/**
 * What the credits helpers (`getFixedCreditsConfig`, `getExpirableDurationConfig`, ...)
 * return: a `PlanCreditsConfig` with every field written, numbers as decimal strings.
 */
export interface CreditsConfigResult {
  /** Whether every request costs exactly `minAmount` (= `maxAmount`). */
  isRedemptionAmountFixed: boolean
  /** 4: only the subscriber redeems (as both official SDKs' helpers send). */
  redemptionType: 4
  /** `false`. */
  onchainMirror: boolean
  /** Time plans: seconds until the plan expires (`"0"`: never). */
  durationSecs: string
  /** Credits granted per order. */
  amount: string
  /** Credits per request, minimum. */
  minAmount: string
  /** Credits per request, maximum. */
  maxAmount: string
  /** Any other field, kept as sent. */
  [key: string]: JsonValue | undefined
}

/** What `registerPlan` (and its credits, time and trial forms) answers. */
export interface RegisterPlanResult {
  /** The new plan. */
  planId: string
}

/**
 * The `orderPlan` answer: the backend's, with what the caller held before
 * (`alreadySubscribed`, `balanceBefore`: nvm-x402 reads the balance first).
 */
export interface NvmAPIResult {
  /** Whether the plan was ordered. */
  success: boolean
  /** The order transaction. */
  txHash?: string
  /** What happened, for people. */
  message?: string
  /**
   * The caller already held the plan (its balance said `isSubscriber`): this
   * order bought it again, adding to `balanceBefore`. Absent when the API key
   * names no account.
   */
  alreadySubscribed?: boolean
  /** The caller's balance of the plan just before the order (a decimal string). */
  balanceBefore?: string
  /** Any other field, kept as sent. */
  [key: string]: JsonValue | undefined
}

/** The `orderFiatPlan` answer: `{result: {checkoutLink, ...}}` (passed on as the backend sends it). */
export interface FiatCheckoutResult {
  /** The checkout session. */
  result: StripeCheckoutResult
  /** Any other field, kept as sent. */
  [key: string]: JsonValue | undefined
}

/** `result` of an `orderFiatPlan` answer: where to pay by card. */
export interface StripeCheckoutResult {
  /** The Stripe checkout session. */
  stripeCheckoutSessionId: string
  /** Where the subscriber pays. */
  checkoutLink: string
  /** The subscriber. */
  clientReferenceId?: string
  /** The payment's status, when known. */
  paymentStatus?: string
  /** When the link was made: epoch milliseconds (the Nevermined backend) or ISO 8601 text (nvm-local). */
  linkCreatedAt?: number | string
  /** When the link stops working (as `linkCreatedAt`). */
  linkExpiresAt?: number | string
  /** Any other field, kept as sent. */
  [key: string]: JsonValue | undefined
}

/**
 * The pagination of `getPlans` and `getAgentPlans`, sent as their query
 * string (read back as a `PlansQuery`).
 */
export interface PaginationOptions {
  /** The field to sort by (`created`, `name`, ...). */
  sortBy?: string
  /** Default `desc`. */
  sortOrder?: 'asc' | 'desc'
  /** The page, from 1 (default 1). */
  page?: number
  /** The page size (default 100 for `getPlans`, 10 for `getAgentPlans`). */
  offset?: number
}

/**
 * The options of `getPlans` (also taken positionally, as the official SDK's
 * `getPlans(page, offset, sortBy, sortOrder, orgId)`), sent as its query string.
 */
export interface ListPlansOptions {
  /** An organization: every plan in it (the caller must be a member) instead of the caller's. */
  orgId?: string
  /** The field to sort by (`created`, `name`, ...). */
  sortBy?: string
  /** Default `desc`. */
  sortOrder?: 'asc' | 'desc'
  /** The page, from 1 (default 1). */
  page?: number
  /** The page size (default 100 for `getPlans`, 10 for `getAgentPlans`). */
  offset?: number
}

/** `metadataAttributes` of an agent. */
export interface AgentMetadata {
  /** The agent's name. */
  name: string
  /** A description. */
  description?: string
  /** Tags. */
  tags?: Array<string>
  /** Any other field, kept as sent. */
  [key: string]: JsonValue | undefined
}

/** `agentApiAttributes`: the agent's endpoints (`[{"POST": "https://host/tasks/:id"}]`). */
export interface AgentAPIAttributes {
  /**
   * Protected endpoints, one `{VERB: url}` object each: an allowlist the
   * backend enforces on verify. Leave it out for none (nothing is sent
   * then, as in both official SDKs).
   */
  endpoints?: Array<Partial<Record<HttpVerb, string>>>
  /** Endpoints anyone may call. */
  openEndpoints?: Array<string>
  /** Where the agent describes itself. */
  agentDefinitionUrl?: string
  /** How the agent authenticates callers. */
  authType?: string
  /** Any other field, kept as sent. */
  [key: string]: JsonValue | undefined
}

/** What `registerAgent` answers. */
export interface RegisterAgentResult {
  /** The new agent. */
  agentId: string
}

/** What `registerAgentAndPlan` answers. */
export interface RegisterAgentAndPlanResult {
  /** The new agent. */
  agentId: string
  /** The new plan. */
  planId: string
  /** The registration transaction, when the backend tells it. */
  txHash?: string
}

/** The `createDelegation` body. */
export interface CreateDelegationPayload {
  /** `stripe`, `braintree`, `visa` (a card) or `erc4337` (crypto). */
  provider: DelegationProvider
  /** The card (required for card providers). */
  providerPaymentMethodId?: string
  /**
   * The spending limit, in cents. Required (read as optional so that a
   * missing one is nvm-local's validation error, not a parse error).
   */
  spendingLimitCents: BigIntLike
  /** How long the delegation lasts, in seconds. Required (as above). */
  durationSecs: BigIntLike
  /** `usd`, `eur`, `usdc` or `eurc` (default `usd` for cards, `usdc` for erc4337). */
  currency?: DelegationCurrency
  /** Restrict to a plan. */
  planId?: string
  /** The merchant account. */
  merchantAccountId?: string
  /** At most this many transactions. */
  maxTransactions?: BigIntLike
  /** Restrict to an API key. */
  apiKeyId?: string
}

/** `{delegationId, delegationToken?}`. */
export interface CreateDelegationResponse {
  /** Pass as `delegationConfig.delegationId`. */
  delegationId: string
  /** The provider's token, if any. */
  delegationToken?: string
  /** Any other field, kept as sent. */
  [key: string]: JsonValue | undefined
}

/** The query of `GET api/v1/payment-methods` (`listPaymentMethods`). */
export interface ListOptions {
  /** Include methods shared with the caller. */
  accessible?: boolean
  /** Only this provider (`stripe`, `erc4337`, ...). */
  provider?: string
}

/** One delegation of `listDelegations` (passed on as the backend sends it). */
export interface DelegationSummary {
  /** Pass as `delegationConfig.delegationId`. */
  delegationId: string
  /** `stripe`, `braintree`, `visa` or `erc4337`. */
  provider?: string
  /** The card (`null` for crypto delegations). */
  providerPaymentMethodId?: string | null
  /** `Active`, `expired`, ... (compare case-insensitively). */
  status?: string
  /** The budget in cents: a decimal string (the Nevermined backend) or a number (nvm-local). */
  spendingLimitCents?: number | string
  /** Spent so far, in cents (as `spendingLimitCents`). */
  amountSpentCents?: number | string
  /** Left, in cents (as `spendingLimitCents`). */
  remainingBudgetCents?: number | string
  /** `usd`, `eur`, `usdc` or `eurc`. */
  currency?: string
  /** Payments made with it. */
  transactionCount?: number
  /** When it stops working (ISO 8601). */
  expiresAt?: string
  /** When it was created (ISO 8601). */
  createdAt?: string
  /** The API key it is restricted to (`null`: any). */
  apiKeyId?: string | null
  /** Any other field, kept as sent. */
  [key: string]: JsonValue | undefined
}

/**
 * What `listDelegations` answers: one page of delegations (a bare list from
 * the backend is answered as one page of all of it).
 */
export interface DelegationListResponse {
  /** The delegations. */
  delegations: Array<DelegationSummary>
  /** How many there are in all. */
  totalResults: number
  /** The page (from 1). */
  page: number
  /** The page size. */
  offset: number
  /** Any other field, kept as sent. */
  [key: string]: JsonValue | undefined
}

/**
 * One entry of `listPaymentMethods`: an enrolled card, or the account's
 * ERC-4337 wallet (`provider: "erc4337"`, `type: "crypto_wallet"`). Passed on
 * as the backend sends it.
 */
export interface PaymentMethodSummary {
  /** The card's id, to pass as `providerPaymentMethodId` (the wallet's address for `erc4337`). */
  id: string
  /** `card`, `crypto_wallet`, ... */
  type: string
  /** `visa`, `mastercard`, ... (`ethereum` for the wallet). */
  brand: string
  /** The card's last 4 digits (the wallet address's last 4 characters). */
  last4?: string
  /** The card's expiry month (0 for other methods). */
  expMonth?: number
  /** The card's expiry year (0 for other methods). */
  expYear?: number
  /** A name the owner gave it (`null`: none). */
  alias?: string | null
  /** `stripe`, `braintree`, `visa` or `erc4337`. */
  provider?: string
  /** `Active` or `Revoked`. */
  status?: string
  /** The API keys that may use it (`null`: any). */
  allowedApiKeyIds?: Array<string> | null
  /** Any other field, kept as sent. */
  [key: string]: JsonValue | undefined
}

/** The `updatePaymentMethod` body (`PATCH api/v1/payment-methods/:id`). */
export interface UpdatePaymentMethodDto {
  /** A name for the method. */
  alias?: string
  /** The API keys (their ids) that may use it; `null`: any. */
  allowedApiKeyIds?: Array<string> | null
}

/**
 * What `getPurchasingPower` answers: the cards and delegations the API key
 * can use, and their budget left.
 */
export interface PurchasingPower {
  /** `listPaymentMethods({accessible: true})`. */
  cards: Array<PaymentMethodSummary>
  /** `listDelegations({accessible: true})`'s delegations. */
  delegations: Array<DelegationSummary>
  /** The sum of their `remainingBudgetCents`. */
  totalRemainingBudgetCents: number
  /** The first delegation's currency (`usd` when there is none). */
  currency: string
}

/** What `contracts.getDeploymentInfo()` answers: the contracts' addresses by name. */
export interface DeploymentInfo {
  /** The deployment's version. */
  version?: string
  /** The chain it is deployed on. */
  chainId?: number
  /** Each contract's address, by name (`PayAsYouGoTemplate`, `PaymentsVault`, ...). */
  contracts: Record<string, string>
  /** Any other field, kept as sent. */
  [key: string]: JsonValue | undefined
}

/** The body of `POST api/v1/orders` (`RegisterOrderDto`): `createOrder`'s options. */
export interface CreateOrderOptions {
  /** The charge in cents: 100 ($1.00) to 99999999 ($999,999.99); 3437 is $34.37. */
  amountMinor: number
  /** ISO currency, lower-case; `usd` (the default) is the only one today. */
  currency?: 'usd'
  /** What the charge is for (at most 1024 characters). */
  description?: string
  /** The merchant's own reference for the buyer or the cart (at most 255 characters). */
  buyerRef?: string
  /**
   * A retry with the same key answers the same order (at most 255 characters);
   * the same key with another `amountMinor` or `currency` is `BCK.ORDER.0007`.
   */
  idempotencyKey?: string
  /** The cart's lines, recorded as sent. */
  lineItems?: JsonObject[]
  /** The merchant's own data, recorded as sent. */
  metadata?: JsonObject
  /** `automatic` (the default and only mode today). */
  captureMode?: 'automatic'
  /** `stripe` (the default and only card processor today). */
  paymentProvider?: 'stripe'
}

/** What `createOrder` answers (`CreateOrderResponseDto`). */
export interface CreateOrderResult {
  /** The order's unguessable id: whoever has it can read the order (`getOrder`). */
  orderId: string
  /** `requires_payment` for a new order. */
  status: OrderStatus
  /** What the buyer's page confirms with the card processor; only while the order is payable. */
  clientSecret?: string
}

/**
 * What `getOrder` answers: the buyer's view of an order (`OrderResponseDto`),
 * without the merchant or the fee.
 */
export interface Order {
  /** The order's unguessable id. */
  id: string
  /** The charge in cents. */
  amountMinor: number
  /** Its currency (`usd`). */
  currency: string
  /** Where the order is. */
  status: OrderStatus
  /** Refunded so far, in cents. */
  amountRefundedMinor: number
  /** The merchant's description (`null`: none). */
  description: string | null
  /** The merchant's reference (`null`: none). */
  buyerRef: string | null
  /** The card processor's payment behind the order (`null` until there is one). */
  paymentIntentId: string | null
  /** When the order stops being payable, ISO 8601 (`null`: never). */
  expiresAt: string | null
  /** What the buyer's page confirms with the card processor; only while the order is payable. */
  clientSecret?: string
}

/** The body of `POST api/v1/widgets/session/self` (`widgets.createSelfSession`). */
export interface CreateSelfSessionParams {
  /** The organization the session is for: one the caller is a member of. */
  orgId?: string
  /**
   * Where the embed app will return (the answer's `isReturnUrlAllowed` says
   * whether the backend allows it).
   */
  returnUrl?: string
}

/** What it answers (the hosted docs' `WidgetSessionResponse`). */
export interface WidgetSessionResponse {
  /** The bearer credential of the embed app's session: never log or keep it. */
  sessionToken: string
  /** The caller (`us-...`). */
  userId: string
  /** The caller's account address. */
  userWallet: string
  /** Which API key minted it (nvm-local: the key's id, never the key). */
  apiKeyHash: string
  /** When the session stops working (ISO 8601). */
  expiresAt: string
  /** Whether the embed app may return to `returnUrl` (`null` without one). */
  isReturnUrlAllowed?: boolean | null
  /** Any other field, kept as sent. */
  [key: string]: JsonValue | undefined
}

/**
 * What `createMember` answers: the backend's `walletResult`, with the new
 * member's API key as `nvmApiKey` (the backend's `hash`).
 */
export interface CreateUserResponse {
  /** The member's NVM API key. */
  nvmApiKey: string
  /** The member. */
  userId: string
  /** The member's wallet address. */
  userWallet: string
  /** Whether they were a member already. */
  alreadyMember: boolean
  /** Any other field, kept as sent. */
  [key: string]: JsonValue | undefined
}

/** A member of an organization. */
export interface OrganizationMember {
  /** The membership. */
  id: string
  /** The member. */
  userId: string
  /** The organization. */
  orgId: string
  /** The member's address. */
  userAddress: string
  /** `Admin`, `Member` or `Client`. */
  role: OrganizationMemberRole | (string & {})
  /** Whether the membership is active. */
  isActive: boolean
  /** When it began (ISO 8601). */
  createdAt: string
  /** When it last changed (ISO 8601). */
  updatedAt: string
  /** Any other field, kept as sent. */
  [key: string]: JsonValue | undefined
}

/** What `getMembers` answers. */
export interface OrganizationMembersResponse {
  /** One page of members. */
  members: Array<OrganizationMember>
  /** How many there are in all. */
  total: number
}

/** One organization the caller is an active member of (`getMyMemberships`). */
export interface MyMembership {
  /** The organization (`org-...`). */
  orgId: string
  /** Its name. */
  orgName: string
  /** The caller's role there. */
  role: OrganizationMemberRole | (string & {})
  /** Its tier. */
  orgType: OrganizationType | (string & {})
  /** Whether the caller is an Admin there. */
  isAdmin: boolean
  /** Whether it ever had a paid subscription. */
  hasSubscriptionHistory: boolean
  /** Any other field, kept as sent. */
  [key: string]: JsonValue | undefined
}

/** What an activity event is about. */
export interface OrganizationActivityEventSubject {
  /** `plan`, `agent`, `member`, `customer`, ... */
  kind: string
  /** Its id. */
  id: string
  /** Any other field, kept as sent. */
  [key: string]: JsonValue | undefined
}

/** One event of an organization's activity feed. */
export interface OrganizationActivityEvent {
  /** The event (`ae-...`). */
  id: string
  /** `member.joined`, `plan.created`, ... (`OrganizationActivityEventType`). */
  eventType: OrganizationActivityEventType | (string & {})
  /** Who triggered it (`null`: the system). */
  actorUserId: string | null
  /** What it is about. */
  subject: OrganizationActivityEventSubject
  /** Details (`null`: none). */
  metadata: JsonObject | null
  /** When it happened (ISO 8601). */
  occurredAt: string
  /** Any other field, kept as sent. */
  [key: string]: JsonValue | undefined
}

/** What `getOrganizationActivity` answers: one page of events. */
export interface OrganizationActivityPage {
  /** The events. */
  items: Array<OrganizationActivityEvent>
  /** How many match in all. */
  total: number
}

/** What `connectStripeAccount` answers: the Stripe Connect onboarding link. */
export interface StripeAccountConnectResult {
  /** The connected account. */
  stripeAccountId: string
  /** Where the user completes the onboarding. */
  stripeAccountLink: string
  /** The user. */
  userId: string
  /** The user's country. */
  userCountryCode: string
  /** When the link was made (epoch milliseconds). */
  linkCreatedAt: number
  /** When it stops working (epoch milliseconds). */
  linkExpiresAt: number
}
