// Type definitions for `nvm-x402` (and `nvm-x402/asset`): subscribers and
// builders. The shared declarations are in common.d.ts, the data types in
// wire-types.d.ts (generated from types/); this file declares what this
// entry's core carries, so `payments.paywall()` and `payments.mcp.configure()`
// (in `nvm-x402/agent` and `nvm-x402/mcp`) do not type-check here.
import type { Address, AgentsAPI, BigIntLike, ContractsAPI, EnvironmentName, OrdersAPI, PaidFetchResult, PaymentsClass, PaymentsError, PaymentsOptions, PaymentsSubscriber, PayOptions, PlansAPI, PriceConfigResult, ResolvedScheme } from './common.js'
import type { CreateSelfSessionParams, WidgetSessionResponse } from './wire-types.js'

export * from './common.js'

/**
 * A Nevermined client bound to one API key, for subscribers and builders:
 * minting, paying agents, orders, balances, delegations, registering plans and
 * agents. No global state; create as many as you need.
 */
export const Payments: PaymentsClass<Payments> & {
  /**
   * A client for a web page whose payer signs in with Nevermined instead of pasting a key.
   * It reads a return from the web app (`nvmApiKey`, `accountAddress`),
   * accepts it only with this tab's one-time state, and removes the parameters from the
   * address bar and the history entry before it returns. Without a key (before `connect()`),
   * every call but the keyless `orders.getOrder` fails with `not_logged_in`. Throws "returnUrl is required" without `returnUrl`.
   */
  getBrowserInstance(options: BrowserInstanceOptions): Payments
}

export interface BrowserInstanceOptions extends Omit<PaymentsOptions, 'nvmApiKey'> {
  /** Where the web app sends the browser back after sign-in (absolute https:, or http: to localhost; usually this page). */
  returnUrl: string
  /** The environment to sign in to (no key names it yet). `local`: nvm-local's own pages. */
  environment: EnvironmentName
  /**
   * Where the key is kept between reloads: `'memory'` (default: a reload is signed out),
   * `'sessionStorage'` (this tab, until it closes) or `'localStorage'` (only if you ask).
   */
  keyStorage?: 'memory' | 'sessionStorage' | 'localStorage'
  /** The web app's origin (required for `custom`; default: the environment's, nvm-local's own for `local`). */
  frontendUrl?: string
  /** The embed app's origin (`setupCard()`'s pages; required for `custom`; default: the environment's, nvm-local's own for `local`). */
  embedUrl?: string
  /** The official SDK's option; unused. */
  appId?: string
}

export interface Payments extends PaymentsSubscriber {
  /** A browser instance's (`getBrowserInstance`): whether calls may be sent (a key, and no `logout()` since). */
  readonly isLoggedIn?: boolean
  /** A browser instance's: goes to the web app to sign in (a one-time state kept in `sessionStorage`). */
  connect?(): void
  /**
   * A browser instance's: signs out. Every later call, in every namespace, fails with code
   * `not_logged_in` before anything is sent (but `orders.getOrder`, which sends no key); the stored key is removed.
   */
  logout?(): void
  /** Why the web app's return was refused (code `signin_refused`: a state this tab did not start, or used already); a browser instance only. */
  readonly signInError?: PaymentsError
  /**
   * A browser instance's: adds a card without a pasted key. Mints a session of the embed app
   * for this account (`widgets.createSelfSession`, for `returnUrl`), then sends the browser to
   * `<embed>/cards/setup` (enroll a card, create a spending delegation) with a one-time `state`
   * kept in `sessionStorage`. The page comes back to `returnUrl`: read `cardSetupResult`.
   * Rejects (nothing opened) when signed out (`not_logged_in`), on bad options (`validation`),
   * the backend's refusal, or a session the backend won't return from (`card_setup_refused`).
   */
  setupCard?(options?: CardSetupOptions): Promise<void>
  /** A browser instance's, on the load that returns from card setup with this tab's `state`: the new card and delegation. */
  readonly cardSetupResult?: CardSetupResult
  /** Why a card-setup return was refused (code `card_setup_refused`: a state this tab did not start, or used already, or no ids); a browser instance only. */
  readonly cardSetupError?: PaymentsError
  /** The embed app's sessions (card setup). */
  readonly widgets: WidgetsAPI
  readonly plans: PlansAPI
  readonly agents: AgentsAPI
  readonly contracts: ContractsAPI
  readonly orders: OrdersAPI
}

/** `payments.setupCard(options)`. */
export interface CardSetupOptions {
  /** The organization the session is for (the hosted backend requires one you are a member of when you have several). */
  orgId?: string
  /** The card processor of the enrollment: `'stripe'` (default), `'braintree'` or `'visa'`. */
  provider?: 'stripe' | 'braintree' | 'visa'
}

/** What a card setup this tab started returned (the official CLI's `nevermined cards setup` output). */
export interface CardSetupResult {
  /** The enrolled card: `delegation.listPaymentMethods()` lists it. */
  paymentMethodId: string
  /** Its spending delegation: pay with `tokenOptions: { delegationConfig: { delegationId } }`. */
  delegationId: string
}

/** `payments.widgets` (`nvm-x402`). */
export interface WidgetsAPI {
  /**
   * `POST /api/v1/widgets/session/self`: a session of the embed app for this account (the
   * official CLI's call, under the name it gives it). The answer's `sessionToken` is a bearer
   * credential: never log or keep it.
   */
  createSelfSession(params?: CreateSelfSessionParams): Promise<WidgetSessionResponse>
}

export interface FetchWithPaymentOptions extends PayOptions {
  payments: Payments
}

/**
 * Calls a paid agent. With one plan in `planIds` it pays on the first request
 * (mints a token up front: one request, one mint); otherwise it sends the
 * request and, on 402, pays with the first plan you allow and retries once.
 * Tokens are cached per plan+agent+scheme+network (v3 tokens are never
 * reused) and only travel over https or to loopback.
 */
export function fetchWithPayment(input: RequestInfo | URL, init: RequestInit | undefined, options: FetchWithPaymentOptions): Promise<PaidFetchResult>

/** The plan's scheme and network, cached per plan for 5 minutes. */
export function resolveScheme(payments: Payments, planId: string): Promise<ResolvedScheme>

/**
 * A pay-as-you-go price: `amount` on every request, in `tokenAddress` (default the native token), under
 * the `PayAsYouGoTemplate` at `templateAddress` (required: `payments.contracts.getPayAsYouGoTemplateAddress()`,
 * or use `payments.plans.getPayAsYouGoPriceConfig`, which reads it). An invalid receiver throws first.
 * (This entry's only: the others' cores leave the builder's calls out.)
 */
export function getPayAsYouGoPriceConfig(amount: BigIntLike, receiver: Address | string, tokenAddress?: Address | string, templateAddress?: Address | string): PriceConfigResult

// payments-py's v3 token helpers (this entry's only).
/**
 * The version the token was minted as (read from the token, never from the `tokenVersion` asked
 * for: a backend that predates v3 mints v2): 3 for a single-use token (a non-blank string
 * `payload.authorization.nonce`), else 2, anything undecodable included. Never throws.
 */
export function detectAccessTokenVersion(token: unknown): 2 | 3
/** Whether the token is single-use (v3): its first settle consumes it, so don't cache it. Never throws. */
export function isSingleUseAccessToken(token: unknown): boolean
/** Whether `error` is the backend's refusal of a single-use token settled before (`code` `BCK.X402.0059`): mint a new token, don't retry. */
export function isAccessTokenAlreadyUsed(error: unknown): boolean
