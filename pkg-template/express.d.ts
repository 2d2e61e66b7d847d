// Express middleware for nvm-x402's paywall, with the official SDK's signature
// (@nevermined-io/payments/express). Structural types: no dependency on express's own.
import type { PaymentsClass, PaymentsError, Payments as AgentPayments } from './agent.js'
import type { MppAPI } from './mpp.js'

/** What the middleware reads of Express's request (and sets: `paymentContext`). */
export interface ExpressRequestLike {
  method: string
  originalUrl: string
  protocol: string
  headers: Record<string, string | string[] | undefined>
  get(name: string): string | undefined
  paymentContext?: PaymentContext
}

/** Express's response (the middleware holds what the handler writes until settle). */
export type ExpressResponseLike = any // eslint-disable-line @typescript-eslint/no-explicit-any

/** `req.paymentContext` in a paid handler, as the official middleware sets it. */
export interface PaymentContext {
  /** The x402 access token the request carried. */
  token?: string
  /** The PaymentRequired the token was verified against. */
  paymentRequired?: unknown
  /** The credits verified before the handler; after settle, the credits settled. */
  creditsToSettle?: number
  /** Verify succeeded. */
  verified: boolean
  /** The backend's agent request (observability). */
  agentRequest?: { agentRequestId?: string; [key: string]: unknown }
  /** Its id. */
  agentRequestId?: string
}

/** One protected route of the official table. */
export interface RouteConfig {
  /** The plan that pays for the route. */
  planId: string
  /** Credits per request (default 1), or a function of the handler's req and res (after the handler: res.locals). */
  credits?: number | ((req: ExpressRequestLike, res: ExpressResponseLike) => number | bigint | Promise<number | bigint>)
  /** The agent (one per middleware; or `options.agentId`). */
  agentId?: string
  network?: string
  scheme?: 'nvm:erc4337' | 'nvm:card-delegation'
  description?: string
  mimeType?: string
  /**
   * Takes MPP too (a `Payment` credential in `Authorization`; the 402 carries an MPP
   * challenge beside x402's offer). `{ bindBody: true }` binds the challenge to the
   * request body: mount the parser as `express.json({ verify: captureRawBody })`.
   * Needs fixed credits (the price is sealed into the challenge).
   */
  mpp?: MppRouteOption
}

/** A route's MPP option: `true` is `{ bindBody: false }`. */
export type MppRouteOption = boolean | { bindBody?: boolean }

/** The official `resolveMppOption`. */
export function resolveMppOption(option: MppRouteOption | undefined): { enabled: boolean; bindBody: boolean }

/** Keeps a request's raw body for `mpp: { bindBody: true }`: `express.json({ verify: captureRawBody })`. */
export function captureRawBody(req: ExpressRequestLike, res: ExpressResponseLike, buf: Uint8Array): void

/** MPP's HTTP header names, as the official middleware exports them; frozen. */
export declare const MPP_HEADERS: {
  readonly CHALLENGE: 'www-authenticate'
  readonly CREDENTIAL: 'authorization'
  readonly RECEIPT: 'payment-receipt'
}

/** `"METHOD /path"` (with `:param` segments) -> its route. */
export type RouteConfigMap = Record<string, RouteConfig>

export interface PaymentMiddlewareOptions {
  /** Header(s) the token is read from, in order (default `payment-signature`). */
  tokenHeader?: string | string[]
  /** The agent of routes that name none. */
  agentId?: string
  /** Before verify (observe only: a hook that throws is logged, the payment goes on). */
  onBeforeVerify?: (req: ExpressRequestLike, paymentRequired: unknown) => void | Promise<void>
  /** After a successful verify. */
  onAfterVerify?: (req: ExpressRequestLike, verification: unknown) => void | Promise<void>
  /** After a successful settle. */
  onAfterSettle?: (req: ExpressRequestLike, creditsUsed: number, settlement: unknown) => void | Promise<void>
  /** A refused or failed payment; it may answer a refused request itself (else the 402 or 503 is sent). */
  onPaymentError?: (error: PaymentsError, req: ExpressRequestLike, res: ExpressResponseLike) => void | Promise<void>
  /** The paywall's own options. */
  upfront?: boolean
  caseSensitive?: boolean
  repeatPayers?: boolean | { windowMs?: number }
}

/** The x402 HTTP transport's header names (v2), as the official middleware exports them; frozen. */
export declare const X402_HEADERS: {
  /** The client sends its payment token in this header. */
  readonly PAYMENT_SIGNATURE: 'payment-signature'
  /** The 402 answer's PaymentRequired (base64 JSON). */
  readonly PAYMENT_REQUIRED: 'payment-required'
  /** The settlement receipt of a paid answer (base64 JSON). */
  readonly PAYMENT_RESPONSE: 'payment-response'
}

/** An Express middleware: `app.use(paymentMiddleware(payments, routes, options))`. */
export type ExpressMiddleware = (req: ExpressRequestLike, res: ExpressResponseLike, next: (error?: unknown) => void) => void

/**
 * Protects the routes with nvm-x402's gate. `payments`: a Payments client of any
 * entry (one of nvm-x402/agent is used as it is). Fail closed: the handler's answer
 * is held until settle succeeds.
 */
export function paymentMiddleware(payments: object, routes: RouteConfigMap, options?: PaymentMiddlewareOptions): ExpressMiddleware
export default paymentMiddleware

/** This entry's client: nvm-x402/agent's, whose paywall takes `mpp` routes, with the seller's MPP calls. */
export const Payments: PaymentsClass<Payments>
export interface Payments extends AgentPayments {
  readonly mpp: Pick<MppAPI, 'issueChallenge' | 'verifyCredential' | 'settleCredential'>
}
