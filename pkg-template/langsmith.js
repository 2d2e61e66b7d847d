// nvm-x402/langsmith: the official SDK's LangSmith bridge (@nevermined-io/payments/langsmith):
// `nvm:verify` and `nvm:settlement` child spans under the active LangSmith run, with the
// cross-SDK `nvm.*` metadata (the observability-spans contract payments-py emits too).
// requiresPayment (nvm-x402/langchain) opens them itself; they are exported for other code.
// Every helper is a no-op when `langsmith` is not installed or no run is active, and none
// ever throws into a payment. One difference, on purpose: a token is shown as its first 6
// and last 4 characters (the core's rule for every log), never the official first 16.
import { redactToken } from './mcp/index.js'

export const NVM_VERIFY_SPAN = 'nvm:verify'
export const NVM_SETTLEMENT_SPAN = 'nvm:settlement'

/** What redactToken shows: `abcdef…wxyz`, or `[redacted]` for a short value. */
const SHOWN = /^[^…]{6}…[^…]{4}$/

/**
 * A token as spans may show it: its first 6 and last 4 characters (`[redacted]` under 20
 * characters); undefined for none. A value already shown so is kept as it is.
 */
export function abbreviateToken(token) {
  if (typeof token !== 'string' || token === '') return undefined
  if (token === '[redacted]' || SHOWN.test(token)) return token
  return redactToken(token)
}

let langsmith // undefined: not looked for yet; null: not installed (or no getCurrentRunTree)

async function loadLangsmith() {
  if (langsmith !== undefined) return langsmith
  // A specifier in a variable: a bundler leaves it to run time (langsmith is an optional peer).
  const specifier = 'langsmith/singletons/traceable'
  try {
    const module = await import(specifier)
    langsmith = typeof module?.getCurrentRunTree === 'function' ? module : null
    if (langsmith === null) console.warn('nvm-x402 langsmith: langsmith/singletons/traceable has no getCurrentRunTree; Nevermined spans are off')
  } catch (error) {
    langsmith = null
    const code = error?.code
    if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') console.warn('nvm-x402 langsmith: langsmith could not be loaded; Nevermined spans are off', error)
  }
  return langsmith
}

/** The active LangSmith run tree, or undefined (no langsmith, no run). */
export async function activeRunTree() {
  const module = await loadLangsmith()
  if (module === null) return undefined
  try {
    return module.getCurrentRunTree(true) ?? undefined
  } catch {
    return undefined
  }
}

/** Merges `metadata` into a run tree's metadata (no-op without a run tree or metadata). */
export function addMetadata(runTree, metadata) {
  if (!runTree || !metadata || Object.keys(metadata).length === 0) return
  try {
    runTree.metadata = { ...(runTree.extra?.metadata ?? {}), ...metadata }
  } catch {
    // observability never changes a payment
  }
}

/** Deletes `keys` from a run tree's metadata in place (the raw payment_token a caller put there). */
export function redactMetadataKeys(runTree, ...keys) {
  if (!runTree || keys.length === 0) return
  try {
    const metadata = runTree.extra?.metadata
    if (metadata && typeof metadata === 'object') for (const key of keys) delete metadata[key]
  } catch (error) {
    console.warn(`nvm-x402 langsmith: could not remove [${keys.join(', ')}] from the run's metadata; a credential may remain in the trace`, error)
  }
}

const round2 = (ms) => Math.round(ms * 100) / 100

/** `nvm.*` metadata of a verify span: `{planIds, scheme?, network?, agentId?, verification?, durationMs?, token?}`. */
export function buildVerifyMetadata({ planIds = [], scheme, network, agentId, verification, durationMs, token } = {}) {
  const md = { 'nvm.plan_ids': [...planIds] }
  if (scheme) md['nvm.scheme'] = scheme
  if (network) md['nvm.network'] = network
  if (agentId) md['nvm.agent_id'] = agentId
  if (durationMs !== undefined) md['nvm.verify.duration_ms'] = round2(durationMs)
  const shown = abbreviateToken(token)
  if (shown) md['nvm.payment_token'] = shown
  if (verification) {
    if (verification.payer) md['nvm.payer'] = verification.payer
    if (verification.network && !('nvm.network' in md)) md['nvm.network'] = verification.network
    if (verification.agentRequestId) md['nvm.agent_request_id'] = verification.agentRequestId
  }
  return md
}

/** `nvm.*` metadata of a settlement span: `{settlement, planIds, agentId?, durationMs?, token?}` (credits and balance stay strings). */
export function buildSettleMetadata({ settlement = {}, planIds = [], agentId, durationMs, token } = {}) {
  const md = { 'nvm.plan_ids': [...planIds] }
  if (agentId) md['nvm.agent_id'] = agentId
  if (durationMs !== undefined) md['nvm.settle.duration_ms'] = round2(durationMs)
  const shown = abbreviateToken(token)
  if (shown) md['nvm.payment_token'] = shown
  if (settlement.creditsRedeemed != null) md['nvm.credits_redeemed'] = settlement.creditsRedeemed
  if (settlement.remainingBalance != null) md['nvm.balance.after'] = settlement.remainingBalance
  if (settlement.transaction) md['nvm.tx_hash'] = settlement.transaction
  if (settlement.network) md['nvm.network'] = settlement.network
  if (settlement.payer) md['nvm.payer'] = settlement.payer
  return md
}

const INACTIVE = Object.freeze({ runTree: undefined, addMetadata() {}, async end() {} })

async function openSpan(name, inputs) {
  const parent = await activeRunTree()
  if (!parent) return INACTIVE
  let child
  try {
    child = parent.createChild({ name, run_type: 'tool', inputs })
  } catch {
    return INACTIVE
  }
  return {
    runTree: child,
    addMetadata: (metadata) => addMetadata(child, metadata),
    async end(error) {
      try {
        await child.end(undefined, error === undefined ? undefined : error instanceof Error ? error.message : String(error))
        await child.postRun()
      } catch {
        // a span that can't be sent changes nothing
      }
    },
  }
}

/** Opens an `nvm:verify` child span of the active run (`{planIds, scheme?, network?, agentId?}`); inactive without one. */
export function verifySpan({ planIds = [], scheme, network, agentId } = {}) {
  const inputs = { plan_ids: [...planIds] }
  if (scheme) inputs.scheme = scheme
  if (network) inputs.network = network
  if (agentId) inputs.agent_id = agentId
  return openSpan(NVM_VERIFY_SPAN, inputs)
}

/** Opens an `nvm:settlement` child span of the active run (`{planIds, agentId?}`); inactive without one. */
export function settlementSpan({ planIds = [], agentId } = {}) {
  const inputs = { plan_ids: [...planIds] }
  if (agentId) inputs.agent_id = agentId
  return openSpan(NVM_SETTLEMENT_SPAN, inputs)
}
