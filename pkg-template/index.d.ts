// Type definitions for `nvm-x402` (and `nvm-x402/asset`): subscribers and
// builders. The shared declarations are in common.d.ts, the data types in
// wire-types.d.ts (generated from types/); this file declares what this
// entry's core carries, so `payments.paywall()` and `payments.mcp.configure()`
// (in `nvm-x402/agent` and `nvm-x402/mcp`) do not type-check here.
import type { Address, AgentsAPI, BigIntLike, ContractsAPI, EnvironmentName, OrdersAPI, PaidFetchResult, PaymentsClass, PaymentsError, PaymentsOptions, PaymentsSubscriber, PayOptions, PlansAPI, PriceConfigResult, ResolvedScheme } from './common.js'
import type { CreateSelfSessionParams, CreateUserResponse, MyMembership, OrganizationActivityPage, OrganizationMembersResponse, StripeAccountConnectResult, WidgetSessionResponse } from './wire-types.js'
import type { OrganizationActivityEventType as ActivityEventType, OrganizationMemberRole as MemberRole, OrganizationType as OrgType } from './common.js'

export * from './common.js'
export * from './a2a-utils.js'

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
  /** An organization's members, white-label customers and activity (the caller's organization: `organizationId` / `setOrganizationId`). */
  readonly organizations: OrganizationsAPI
}

/** `payments.organizations` (`nvm-x402`): every call is authenticated and sent as the official SDK sends it. */
export interface OrganizationsAPI {
  /**
   * Enrols a member (`POST api/v1/organizations/account` `{uniqueExternalId, email?, role?}`): the
   * backend's `walletResult` with the member's key as `nvmApiKey`. An answer without a key is
   * refused (`invalid_response`). The key is a bearer credential: never log it.
   */
  createMember(userId: string, userEmail?: string, userRole?: MemberRole): Promise<CreateUserResponse>
  /**
   * Onboards a white-label customer (`{email, as: 'customer'}`): a usable scoped key, or only
   * `{consentRequired: true}` (HTTP 202, or the flag) when the email is another's account: then
   * nothing of that account is passed on. An answer with neither is refused (`invalid_response`).
   */
  onboardCustomer(email: string): Promise<CustomerOnboardingResponse>
  /** One page of members (`POST api/v1/organizations/members`; page 1 and 100 a page by default). */
  getMembers(role?: MemberRole, isActive?: boolean, page?: number, offset?: number): Promise<OrganizationMembersResponse>
  /** The organizations the caller is an active member of (none: `[]`). */
  getMyMemberships(): Promise<MyMembership[]>
  /** One page of an organization's activity feed; a list of event types is sent comma-separated, empty filters are left out. */
  getOrganizationActivity(orgId: string, filters?: OrganizationActivityFilters): Promise<OrganizationActivityPage>
  /** A Stripe Connect onboarding link for the user (`POST api/v1/fiat/stripe/account`). */
  connectStripeAccount(userEmail: string, userCountryCode: string, returnUrl: string): Promise<StripeAccountConnectResult>
}

/** `onboardCustomer`'s answer: a key, or consent pending (no identity disclosed). */
export type CustomerOnboardingResponse =
  | { consentRequired: true }
  | { consentRequired: false; nvmApiKey: string; userId?: string; userWallet?: string; isCustomer?: boolean; customerRecorded?: boolean; expiresAt?: string }

/** `getOrganizationActivity`'s filters (each left out when not given). */
export interface OrganizationActivityFilters {
  /** One event type or several (sent comma-separated). */
  eventType?: ActivityEventType | (string & {}) | Array<ActivityEventType | (string & {})>
  /** Events triggered by this user. */
  actorUserId?: string
  /** ISO 8601 lower bound (inclusive). */
  from?: string
  /** ISO 8601 upper bound (exclusive). */
  to?: string
  /** 1-based page. */
  page?: number
  /** Page size (the backend's cap is 200). */
  limit?: number
}

/** `X-Current-Org-Id`: the header naming the organization of a call. */
export const CURRENT_ORG_ID_HEADER: 'X-Current-Org-Id'
/** The official SDK's enum, as a frozen object. */
export const OrganizationMemberRole: { readonly Admin: 'Admin'; readonly Member: 'Member'; readonly Client: 'Client' }
export type OrganizationMemberRole = MemberRole
/** The official SDK's enum, as a frozen object. */
export const OrganizationType: { readonly Premium: 'Premium'; readonly Enterprise: 'Enterprise'; readonly Lapsed: 'Lapsed'; readonly Other: 'Other' }
export type OrganizationType = OrgType
/** The official SDK's enum (its values are the wire's event types), as a frozen object. */
export const OrganizationActivityEventType: {
  readonly MemberInvited: 'member.invited'
  readonly MemberJoined: 'member.joined'
  readonly MemberRoleChanged: 'member.role_changed'
  readonly MemberDeactivated: 'member.deactivated'
  readonly MemberReactivated: 'member.reactivated'
  readonly MemberRemoved: 'member.removed'
  readonly InvitationRevoked: 'invitation.revoked'
  readonly InvitationExpired: 'invitation.expired'
  readonly AgentCreated: 'agent.created'
  readonly PlanCreated: 'plan.created'
  readonly PlanPurchased: 'plan.purchased'
  readonly CustomerAdded: 'customer.added'
  readonly CustomerBlocked: 'customer.blocked'
  readonly CustomerUnblocked: 'customer.unblocked'
  readonly SubscriptionUpgraded: 'subscription.upgraded'
  readonly SubscriptionDowngraded: 'subscription.downgraded'
  readonly SubscriptionCanceled: 'subscription.canceled'
  readonly SubscriptionLapsed: 'subscription.lapsed'
  readonly WebhookDelivered: 'webhook.delivered'
  readonly WebhookFailed: 'webhook.failed'
}
export type OrganizationActivityEventType = ActivityEventType

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
