// Type definitions for `nvm-x402/a2a` (and `nvm-x402/a2a/asset`): an Agent2Agent
// (A2A 0.3 JSON-RPC) server's paywall. The shared declarations are in
// common.d.ts, the data types in wire-types.d.ts; this file declares what this
// entry's core carries: the A2A paywall, and none of the subscriber's or
// builder's calls (`nvm-x402`).
import type { PaymentsBase, PaymentsClass, ResolvedScheme } from './common.js'

export * from './common.js'

/** The payment metadata of an agent card (the official `PaymentAgentCardMetadata`). */
export interface PaymentAgentCardMetadata {
  paymentType: 'fixed' | 'dynamic'
  /** Credits per task: what verify asks for, and the most settle charges. */
  credits: number | bigint | string
  agentId: string
  planId?: string
  costDescription?: string
  isTrialPlan?: boolean
  [key: string]: unknown
}

/** An A2A agent card (A2A 0.3 JSON). */
export type AgentCard = Record<string, any>
/** An A2A task (A2A 0.3 JSON). */
export type A2ATask = Record<string, any>

/** The card with the `urn:nevermined:payment` and a2a-x402 extensions in `capabilities.extensions`. Throws `PaymentsError` as the official helper throws. */
export function buildPaymentAgentCard(card: AgentCard, metadata: PaymentAgentCardMetadata): AgentCard

/** Where the task waiting for its payment is kept. `claim` replaces the task only if its `status.state` is `expect`, atomically, and says whether it did. */
export interface A2ATaskStoreLike {
  load(id: string): Promise<A2ATask | undefined | null>
  save(task: A2ATask): Promise<unknown>
  claim(id: string, expect: string, task: A2ATask): Promise<boolean>
}

/** Tasks in this isolate's memory (one process; at most 10,000). */
export class InMemoryA2ATaskStore implements A2ATaskStoreLike {
  load(id: string): Promise<A2ATask | undefined>
  save(task: A2ATask): Promise<void>
  claim(id: string, expect: string, task: A2ATask): Promise<boolean>
}

/** The Durable Object keeping one task: export it from the Worker and bind it (see durableObjectTaskStore). */
export class A2ATaskStore {
  constructor(state: { storage: { get(key: string): Promise<any>; put(key: string, value: any): Promise<void> } }, env?: unknown)
  fetch(request: Request): Promise<Response>
}

/** A task store over the A2ATaskStore Durable Object namespace (one object per task): whichever isolate gets the follow-up finds the task. */
export function durableObjectTaskStore(namespace: { idFromName(name: string): any; get(id: any): { fetch(input: string, init?: RequestInit): Promise<Response> } }): A2ATaskStoreLike

/** The A2A SDK's executor: publishes `task`, `status-update`, `artifact-update` or `message` events. Report `creditsUsed` in the final status update's metadata. */
export interface A2AExecutor {
  execute(requestContext: { userMessage: any; taskId: string; contextId: string; task: A2ATask; payments: { authResult: { planId: string; subscriberAddress?: string; agentRequest?: unknown; credits: string } } }, eventBus: { publish(event: any): void; finished(): void }): Promise<void> | void
}

export interface A2APaywallOptions {
  /** A card made with buildPaymentAgentCard (its payment extension says what is charged). */
  agentCard: AgentCard
  executor: A2AExecutor
  /** Default: InMemoryA2ATaskStore (one process); on Workers, durableObjectTaskStore(env.A2A_TASKS). */
  taskStore?: A2ATaskStoreLike
}

export interface A2APaywall {
  /** Answers the card (GET /.well-known/agent-card.json, /.well-known/agent.json) and JSON-RPC (POST); other requests 404. Never rejects. */
  fetch(request: Request): Promise<Response>
  readonly card: AgentCard
}

export interface A2AServerAPI {
  /** An A2A server's fetch handler, paid in band (x402 v2 A2A transport). Throws `PaymentsError` on mistakes. */
  paywall(options: A2APaywallOptions): A2APaywall
  buildPaymentAgentCard(card: AgentCard, metadata: PaymentAgentCardMetadata): AgentCard
}

/** A Nevermined client for an A2A server: `payments.a2a.paywall`, verify and settle. */
export const Payments: PaymentsClass<Payments> & { readonly a2a: { buildPaymentAgentCard: typeof buildPaymentAgentCard } }
export interface Payments extends PaymentsBase {
  readonly a2a: A2AServerAPI
}

/** The plan's scheme and network, cached per plan for 5 minutes. */
export function resolveScheme(payments: Payments, planId: string): Promise<ResolvedScheme>
