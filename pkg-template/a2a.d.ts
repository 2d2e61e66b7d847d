// Type definitions for `nvm-x402/a2a` (and `nvm-x402/a2a/asset`): an Agent2Agent
// (A2A 0.3 JSON-RPC) server's paywall. The shared declarations are in
// common.d.ts, the data types in wire-types.d.ts; this file declares what this
// entry's core carries: the A2A paywall, and none of the subscriber's or
// builder's calls (`nvm-x402`).
import type { PaymentsBase, PaymentsClass, ResolvedScheme } from './common.js'

export * from './common.js'
export * from './a2a-utils.js'

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

/**
 * What a task asking for payment becomes if it is not written again before `at` (ms since the Unix epoch): `task`, failed with
 * `EXPIRED_PAYMENT`, itself removed at `removeAt` (as `save`'s `removeAt`).
 */
export interface A2ATaskExpiry {
  at: number
  task: A2ATask
  removeAt?: number
}

/**
 * Where the paywall keeps its tasks. `claim` replaces the task only if its `status.state` is `expect`, atomically, and says
 * whether it did. `save`'s `expiry` and the `removeAt` of `save` and `claim` (ms since the Unix epoch: if the task is not saved or
 * claimed again by then, remove it, so `load` finds nothing) may be ignored: the paywall checks the time on every access, and
 * answers a task past its removal (its `metadata.removeAt`) as unknown wherever it is kept. Applying them is what frees the
 * storage (a store written before `removeAt` existed keeps every task: it works as before).
 */
export interface A2ATaskStoreLike {
  load(id: string): Promise<A2ATask | undefined | null>
  save(task: A2ATask, expiry?: A2ATaskExpiry, removeAt?: number): Promise<unknown>
  claim(id: string, expect: string, task: A2ATask, removeAt?: number): Promise<boolean>
}

/** Tasks in this isolate's memory (one process; at most 10,000); expiries and removals applied on access (all of them at most once a second). */
export class InMemoryA2ATaskStore implements A2ATaskStoreLike {
  load(id: string): Promise<A2ATask | undefined>
  save(task: A2ATask, expiry?: A2ATaskExpiry, removeAt?: number): Promise<void>
  claim(id: string, expect: string, task: A2ATask, removeAt?: number): Promise<boolean>
}

/**
 * The Durable Object keeping one task: export it from the Worker and bind it (see durableObjectTaskStore). An expiry or a removal
 * is its alarm; at a removal it deletes its storage (`deleteAll()`), unless the task was written again before.
 */
export class A2ATaskStore {
  constructor(
    state: {
      storage: {
        get(key: string): Promise<any>
        put(entries: Record<string, unknown>): Promise<void>
        setAlarm(at: number): Promise<void>
        deleteAll(): Promise<unknown>
      }
    },
    env?: unknown,
  )
  fetch(request: Request): Promise<Response>
  alarm(): Promise<void>
}

/** A task store over the A2ATaskStore Durable Object namespace (one object per task): whichever isolate gets the follow-up finds the task. */
export function durableObjectTaskStore(namespace: { idFromName(name: string): any; get(id: any): { fetch(input: string, init?: RequestInit): Promise<Response> } }): A2ATaskStoreLike

/** The executor's event bus. */
export interface A2AEventBus {
  publish(event: any): void
  finished(): void
}

/** The A2A SDK's executor: publishes `task`, `status-update`, `artifact-update` or `message` events. Report `creditsUsed` in the final status update's metadata. */
export interface A2AExecutor {
  execute(requestContext: { userMessage: any; taskId: string; contextId: string; task: A2ATask; payments: { authResult: { planId: string; subscriberAddress?: string; agentRequest?: unknown; credits: string } } }, eventBus: A2AEventBus): Promise<void> | void
  /** tasks/cancel of a run in this isolate: stop it (publish a `canceled` status); the run then settles the `creditsUsed` it reports (none: nothing). */
  cancelTask?(taskId: string, eventBus: A2AEventBus): Promise<void> | void
}

/** The official A2A server's hooks: each observes (awaited within the client's `timeoutMs`; one that throws is logged) and changes nothing. */
export interface A2AHooks {
  /** A JSON-RPC call was read (its `params` without the payment payload). */
  beforeRequest?(method: string, params: unknown, request: Request): unknown
  /** Its answer (for message/stream and tasks/resubscribe, the last event). */
  afterRequest?(method: string, response: unknown, request: Request): unknown
  /** The answer is a JSON-RPC error (`error.code` is its code). */
  onError?(method: string, error: Error & { code: number }, request: Request): unknown
}

export interface A2APaywallOptions {
  /** A card made with buildPaymentAgentCard (its payment extension says what is charged); A2A 0.3 (`url`, `protocolVersion` '0.3.0'): one declaring an A2A 1.0 interface is refused. */
  agentCard: AgentCard
  executor: A2AExecutor
  /** Default: InMemoryA2ATaskStore (one process); on Workers, durableObjectTaskStore(env.A2A_TASKS). */
  taskStore?: A2ATaskStoreLike
  /** How long a task asking for payment waits for it (1 to 604800; default 900): then it fails with EXPIRED_PAYMENT and a payment for it is refused, nothing charged. */
  pendingTaskTtlSeconds?: number
  /**
   * How long any other task is kept after the paywall last wrote it (its run's end, a cancel, an expiry; a run that never ended,
   * its start), in seconds (1 to 31536000; default 604800, 7 days): then the task store removes it (`metadata.removeAt`), and
   * `tasks/get` (and cancel, resubscribe, a payment for it) answer it as unknown (-32001). There is no "forever".
   */
  finishedTaskTtlSeconds?: number
  hooks?: A2AHooks
}

export interface A2APaywall {
  /** Answers the card (GET /.well-known/agent-card.json, /.well-known/agent.json) and JSON-RPC (POST: message/send, message/stream, tasks/get, tasks/cancel, tasks/resubscribe; any other method -32601); other requests 404. Never rejects. */
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
