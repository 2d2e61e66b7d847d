// The A2A paywall, payments.a2a.paywall({agentCard, executor, taskStore?, pendingTaskTtlSeconds?, finishedTaskTtlSeconds?, hooks?}):
// a fetch handler for an Agent2Agent server (A2A 0.3 JSON-RPC, the official
// binding's) on any Fetch-API runtime. A request runs through the core as one
// call (src/gate/a2a.rs, A2aGate::handle), which asks back for what only
// JavaScript can do: the task store's load / save / claim, running the
// executor (and telling it to cancel), calling a hook. Every decision (payment
// required, verify, who pays, settle, expiry, removal, cancel, what is
// answered) is the core's; this moves Request and Response objects and the
// executor's events (message/stream's too). Only nvm-x402/a2a carries it.
//
// The task store's contract (a user's own store keeps to it; stores written
// before removeAt existed ignore it and keep working: the core answers a task
// past its removeAt as unknown, wherever it is kept):
//   load(id)                          the task, or undefined/null
//   save(task, expiry?, removeAt?)    keep it; expiry {at, task, removeAt?}: if it is not written
//                                     again before `at` (ms since the Unix epoch), it becomes
//                                     expiry.task (itself removed at expiry.removeAt); removeAt
//                                     (ms): if it is not written again before then, remove it
//   claim(id, expect, task, removeAt?) replace it only if its status.state is `expect`,
//                                     atomically; true when it did; removeAt as save's
// A store may ignore expiry and removeAt (the paywall checks the time on every
// access); applying them is what frees the storage.
import { PaymentsError } from './errors.js'
import { Payments as Base } from './core.js'
import { ensureSync } from './loader.js'
import { buildPaymentAgentCard as buildCard } from './nvm_x402.js'
import { answerOf, callHook, optionsJson, toJson } from './wire.js'

/** `buildPaymentAgentCard(card, {agentId, planId, credits, paymentType, costDescription?})`: the card with the payment extensions. */
export function buildPaymentAgentCard(card, metadata) {
  ensureSync()
  return JSON.parse(buildCard(toJson(card ?? null), toJson(metadata ?? null)))
}

/**
 * Tasks in this isolate's memory (at most 10,000, the oldest dropped first): one process only.
 * A task saved with an expiry `{at, task, removeAt?}` becomes `expiry.task` once `at` (ms) has
 * passed, and one saved or claimed with `removeAt` is removed once it has passed, unless it was
 * written again before: the task accessed at once, all of them at most once a second.
 */
export class InMemoryA2ATaskStore {
  #tasks = new Map()
  /** What comes next for each task, by id: `{at, task, removeAt?}` (it becomes `task`), or `{at}` (it is removed). */
  #next = new Map()
  #swept = 0
  /** Applies what is due: task `id`'s now, every task's (whatever order they fall due in) at most once a second. */
  #due(id) {
    const now = Date.now()
    this.#apply(id, now)
    if (now - this.#swept < 1000) return
    this.#swept = now
    for (const key of this.#next.keys()) this.#apply(key, now)
  }
  #apply(id, now) {
    const next = this.#next.get(id)
    if (!next || next.at > now) return
    this.#next.delete(id)
    if (!next.task) this.#tasks.delete(id)
    else if (this.#tasks.has(id)) {
      this.#tasks.set(id, next.task)
      if (next.removeAt != null) this.#next.set(id, { at: next.removeAt })
    }
  }
  /** What comes next for task `id`, written now: its expiry, else its removal, else nothing. */
  #plan(id, expiry, removeAt) {
    const next = expiry ? structuredClone(expiry) : removeAt != null ? { at: removeAt } : undefined
    this.#next.delete(id)
    if (next) this.#next.set(id, next)
  }
  async load(id) {
    this.#due(id)
    return this.#tasks.get(id)
  }
  async save(task, expiry, removeAt) {
    this.#due(task.id)
    this.#tasks.delete(task.id)
    this.#tasks.set(task.id, structuredClone(task))
    this.#plan(task.id, expiry, removeAt)
    if (this.#tasks.size > 10_000) {
      const oldest = this.#tasks.keys().next().value
      this.#tasks.delete(oldest)
      this.#next.delete(oldest)
    }
  }
  /** Replaces the task only if its `status.state` is `expect` (no await in between: atomic). */
  async claim(id, expect, task, removeAt) {
    this.#due(id)
    if (this.#tasks.get(id)?.status?.state !== expect) return false
    this.#tasks.set(id, structuredClone(task))
    this.#plan(id, undefined, removeAt)
    return true
  }
}

/**
 * The Durable Object that keeps one task (`export { A2ATaskStore } from 'nvm-x402/a2a'`
 * in the Worker, bound as a durable_objects binding): every isolate that gets a
 * follow-up reaches the same object, which claims a task once. A task saved with an
 * expiry or a removeAt gets an alarm: if it was not written again by then, it becomes
 * `expiry.task` (whose own removeAt is the next alarm), or the object's storage is deleted.
 *
 * Stored: `task`, and `expired`, what the alarm does next (`{at, task, removeAt?}` or
 * `{at}`; an earlier version kept there the expired task itself). Every write replaces
 * both, so an alarm meant for an earlier write finds no longer its own: it re-arms for
 * what is there now, or does nothing.
 */
export class A2ATaskStore {
  constructor(state) {
    this.storage = state.storage
  }
  async fetch(request) {
    const { op, task, expect, expiry, removeAt } = await request.json()
    // Storage calls close the object's input gate: no other request (nor the alarm) runs between this get and put.
    const current = await this.storage.get('task')
    if (op === 'load') return Response.json(current ?? null)
    if (op === 'claim' && current?.status?.state !== expect) return Response.json(false)
    const next = expiry ?? (removeAt != null ? { at: removeAt } : null)
    await this.storage.put({ task, expired: next })
    if (next) await this.storage.setAlarm(next.at)
    return Response.json(true)
  }
  async alarm() {
    let next = await this.storage.get('expired')
    if (!next) return
    if (typeof next.at !== 'number') next = { at: 0, task: next }
    // Rung before what is stored now falls due (set for an earlier write): wait for it.
    if (next.at > Date.now()) return this.storage.setAlarm(next.at)
    if (!next.task) return this.storage.deleteAll()
    const after = next.removeAt != null ? { at: next.removeAt } : null
    await this.storage.put({ task: next.task, expired: after })
    if (after) await this.storage.setAlarm(after.at)
  }
}

/** A task store over the A2ATaskStore Durable Object namespace `namespace` (one object per task). */
export function durableObjectTaskStore(namespace) {
  const ask = async (id, body) => {
    const response = await namespace.get(namespace.idFromName(id)).fetch('https://a2a-task-store/', { method: 'POST', body: JSON.stringify(body) })
    if (!response.ok) throw new Error(`task store: ${response.status}`)
    return response.json()
  }
  return {
    load: async (id) => (await ask(id, { op: 'load' })) ?? undefined,
    save: (task, expiry, removeAt) => ask(task.id, { op: 'save', task, expiry, removeAt }),
    claim: (id, expect, task, removeAt) => ask(id, { op: 'claim', expect, task, removeAt }),
  }
}

/** The official A2A server's hooks, and what each is called with from what the core told it (the Request last). */
const HOOKS = {
  beforeRequest: (request, { method, params }) => [method, params, request],
  afterRequest: (request, { method, response }) => [method, response, request],
  onError: (request, { method, error }) => [method, Object.assign(new Error(error.message), { code: error.code }), request],
}

/** Applies one executor event to the outcome (the A2A SDK's ResultManager, for one task). */
function apply(out, event) {
  if (event?.kind === 'message') out.message = event
  else if (event?.kind === 'task') out.task = structuredClone(event)
  else if (event?.kind === 'status-update' && out.task) {
    out.task.status = event.status
    if (event.status?.message) (out.task.history ??= []).push(event.status.message)
    // The official handler reads creditsUsed from the final update's metadata.
    if (event.metadata) out.task.metadata = { ...out.task.metadata, ...event.metadata }
  } else if (event?.kind === 'artifact-update' && out.task) {
    const artifacts = (out.task.artifacts ??= [])
    const at = artifacts.findIndex((a) => a.artifactId === event.artifact?.artifactId)
    if (at < 0) artifacts.push(event.artifact)
    else if (event.append) artifacts[at] = { ...artifacts[at], parts: [...artifacts[at].parts, ...event.artifact.parts] }
    else artifacts[at] = event.artifact
  }
}

/**
 * Runs the executor (the A2A SDK's `AgentExecutor`: `execute(requestContext, eventBus)`): its
 * outcome's JSON (with every event it published, for message/stream), or null when it threw.
 * `started(taskId, eventBus)` is told first (tasks/cancel finds the run there).
 */
async function execute(executor, context, started) {
  const out = { task: context.task, events: context.stream ? [] : undefined }
  const publish = (event) => {
    out.events?.push(structuredClone(event))
    apply(out, event)
  }
  const eventBus = { publish, finished() {}, on() {}, off() {}, once() {}, removeAllListeners() {} }
  started(context.taskId, eventBus)
  const authResult = { planId: context.planId, subscriberAddress: context.subscriberAddress, agentRequest: context.agentRequest, credits: context.credits }
  const requestContext = { userMessage: context.userMessage, taskId: context.taskId, contextId: context.contextId, task: context.task, payments: { authResult } }
  try {
    await executor.execute(requestContext, eventBus)
    return toJson(out.message ? { message: out.message, events: out.events } : { task: out.task, events: out.events })
  } catch (error) {
    console.error('nvm-x402 A2A paywall: the executor threw; nothing is charged', error)
    return 'null'
  }
}

/** `payments.a2a.paywall(options)` over one core. */
function a2aPaywall(core, { agentCard, executor, taskStore = new InMemoryA2ATaskStore(), pendingTaskTtlSeconds, finishedTaskTtlSeconds, hooks = {} } = {}) {
  if (typeof executor?.execute !== 'function') throw new PaymentsError({ code: 'validation', message: 'a2a.paywall: executor must have execute(requestContext, eventBus)' })
  for (const op of ['load', 'save', 'claim']) {
    if (typeof taskStore?.[op] !== 'function') throw new PaymentsError({ code: 'validation', message: `a2a.paywall: taskStore must have ${op}() (see InMemoryA2ATaskStore)` })
  }
  const gate = core.a2aPaywall(optionsJson({ agentCard, pendingTaskTtlSeconds, finishedTaskTtlSeconds, hooks }))
  /** How long a hook is waited for: the client's backend time limit. */
  const hookMs = JSON.parse(core.info()).timeoutMs
  /** The executor's runs in this isolate, by task id: its event bus, and when the request that ran it has ended. */
  const running = new Map()
  const store = async (op, arg) => {
    try {
      const v = JSON.parse(arg)
      const out = op === 'load' ? await taskStore.load(v.id) : op === 'claim' ? await taskStore.claim(v.id, v.expect, v.task, v.removeAt) : (await taskStore.save(v.task, v.expiry, v.removeAt), true)
      return JSON.stringify(out ?? null)
    } catch (error) {
      console.error(`nvm-x402 A2A paywall: the task store's ${op} failed`, error)
      return undefined
    }
  }
  /** tasks/cancel of a task running here: the executor's cancelTask, then the run's end (settled, kept). */
  const cancel = async (id) => {
    const run = running.get(id)
    if (!run || typeof executor.cancelTask !== 'function') return false
    try {
      await executor.cancelTask(id, run.eventBus)
    } catch (error) {
      console.error('nvm-x402 A2A paywall: cancelTask threw', error)
      return false
    }
    await run.ended
    return true
  }
  async function fetch(request) {
    const runs = []
    try {
      const body = request.method === 'POST' ? await request.text() : undefined
      const headers = {}
      const token = request.headers.get('payment-signature')
      if (token !== null) headers['payment-signature'] = token
      const ids = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()]
      const described = toJson({ method: request.method, url: request.url, headers, body, ids, now: new Date().toISOString() })
      const started = (id, eventBus) => {
        const run = { eventBus }
        run.ended = new Promise((resolve) => (run.end = resolve))
        running.set(id, run)
        runs.push([id, run])
      }
      const exchange = (what, arg) =>
        what === 'run' ? execute(executor, JSON.parse(arg), started) : what === 'cancel' ? cancel(arg) : HOOKS[what] ? callHook(hooks, what, request, arg, 'A2A paywall', hookMs, HOOKS[what]) : store(what, arg)
      // message/stream's events are written once the task is settled (src/gate/a2a.rs).
      const { status, body: out, stream } = await answerOf(gate.handle(described, exchange))
      return new Response(out ?? null, { status, headers: out === undefined ? {} : stream ? { 'content-type': 'text/event-stream', 'cache-control': 'no-store' } : { 'content-type': 'application/json' } })
    } catch (error) {
      console.error('nvm-x402 A2A paywall: answering 500', error)
      return Response.json({ jsonrpc: '2.0', id: null, error: { code: -32603, message: `The paywall failed: ${error?.message ?? error}` } }, { status: 500 })
    } finally {
      for (const [id, run] of runs) {
        if (running.get(id) === run) running.delete(id)
        run.end()
      }
    }
  }
  return { fetch, card: agentCard }
}

/** A Nevermined client for an A2A server: `payments.a2a.paywall` / `buildPaymentAgentCard`, verify and settle. */
export class Payments extends Base {
  /** Same as `new Payments(options)`; the official SDK's spelling. */
  static getInstance(options) {
    return new Payments(options)
  }

  /** `Payments.a2a.buildPaymentAgentCard(...)`, as the official SDK's static. */
  static a2a = Object.freeze({ buildPaymentAgentCard })

  constructor(options) {
    super(options)
    const core = this[Symbol.for('nvm-x402.core')]
    this.a2a = Object.freeze({ ...this.a2a, paywall: (options) => a2aPaywall(core, options), buildPaymentAgentCard })
  }
}
