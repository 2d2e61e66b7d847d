// The package's entries, each loading its own core (scripts/build.sh,
// Cargo.toml's features): nvm-x402 (subscriber and builder), nvm-x402/agent
// (the HTTP paywall), nvm-x402/mcp (the MCP paywall), nvm-x402/a2a (the A2A
// paywall) and nvm-x402/a2a-client (the subscriber's calls and the A2A client). What one lacks is a
// PaymentsError `not_in_entry` that names the entry to import, thrown before
// anything is sent; errors from any entry are one PaymentsError.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import * as client from 'nvm-x402'
import * as agent from 'nvm-x402/agent'
import * as mcp from 'nvm-x402/mcp'
import * as a2a from 'nvm-x402/a2a'
import * as a2aClient from 'nvm-x402/a2a-client'
import { KEY, backendFor } from '../support/nvm.mjs'

const notInEntry = (entry, home) => (e) => {
  assert.ok(e instanceof client.PaymentsError, `a PaymentsError, got ${e?.stack ?? e}`)
  assert.equal(e.code, 'not_in_entry')
  assert.match(e.message, new RegExp(`is not in ${entry.replace('/', '\\/')},`))
  assert.equal(e.hint, `import { Payments } from '${home}' for it`)
  return true
}

test('each entry has its own paywall; the others say where it is, and send nothing', async (t) => {
  const backend = await backendFor(t)
  const options = { nvmApiKey: KEY, backendUrl: backend.url }
  const routes = { agentId: 'agent-1', routes: { 'POST /tasks': { planId: '7', scheme: 'nvm:erc4337' } } }
  const gate = agent.Payments.getInstance(options).paywall(routes)
  assert.equal((await gate.handle(new Request('http://127.0.0.1:8787/tasks', { method: 'POST' }), () => new Response('paid'))).status, 402)
  assert.throws(() => client.Payments.getInstance(options).paywall(routes), notInEntry('nvm-x402', 'nvm-x402/agent'))
  assert.throws(() => mcp.Payments.getInstance(options).paywall(routes), notInEntry('nvm-x402/mcp', 'nvm-x402/agent'))
  assert.throws(() => a2a.Payments.getInstance(options).paywall(routes), notInEntry('nvm-x402/a2a', 'nvm-x402/agent'))
  assert.throws(() => a2a.Payments.getInstance(options).mcp.configure({ agentId: 'agent-1', serverName: 'entries', planId: '7' }), notInEntry('nvm-x402/a2a', 'nvm-x402/mcp'))
  // payments.a2a is on every Payments (as the official's): the A2A paywall only in nvm-x402/a2a,
  // getClient only in nvm-x402/a2a-client, a not_in_entry stand-in elsewhere.
  const card = a2a.buildPaymentAgentCard({ name: 'e', url: 'http://127.0.0.1:9/a2a' }, { agentId: 'agent-1', planId: '7', credits: 1, paymentType: 'fixed' })
  const a2aServer = { agentCard: card, executor: { execute() {} } }
  assert.equal(typeof a2a.Payments.getInstance(options).a2a.paywall(a2aServer).fetch, 'function')
  assert.equal(typeof a2aClient.Payments.getInstance(options).a2a.getClient, 'function')
  for (const [m, entry] of [[client, 'nvm-x402'], [agent, 'nvm-x402/agent'], [mcp, 'nvm-x402/mcp'], [a2aClient, 'nvm-x402/a2a-client']]) {
    assert.throws(() => m.Payments.getInstance(options).a2a.paywall(a2aServer), notInEntry(entry, 'nvm-x402/a2a'))
  }
  for (const [m, entry] of [[client, 'nvm-x402'], [agent, 'nvm-x402/agent'], [mcp, 'nvm-x402/mcp'], [a2a, 'nvm-x402/a2a']]) {
    assert.throws(() => m.Payments.getInstance(options).a2a.getClient({ agentBaseUrl: 'http://127.0.0.1:9/' }), notInEntry(entry, 'nvm-x402/a2a-client'))
  }
  // Only nvm-x402's Payments signs a web page's payer in (signin.js; the browser feature of its core).
  assert.equal(typeof client.Payments.getBrowserInstance, 'function')
  assert.ok(client.Payments.getInstance(options) instanceof client.Payments)
  for (const m of [agent, mcp, a2a, a2aClient]) assert.equal(m.Payments.getBrowserInstance, undefined)

  const server = { agentId: 'agent-1', serverName: 'entries', planId: '7' }
  mcp.Payments.getInstance(options).mcp.configure(server)
  for (const payments of [client.Payments.getInstance(options), agent.Payments.getInstance(options)]) {
    const entry = payments instanceof client.Payments ? 'nvm-x402' : 'nvm-x402/agent'
    assert.throws(() => payments.mcp.configure(server), notInEntry(entry, 'nvm-x402/mcp'))
    assert.throws(() => payments.mcp.withPaywall(() => ({}), { kind: 'tool', name: 'echo' }), notInEntry(entry, 'nvm-x402/mcp'))
  }
  assert.equal(backend.requests.length, 0)
})

test('the serving entries answer not_in_entry for the subscriber and builder API, before any request', async (t) => {
  const backend = await backendFor(t)
  for (const [entry, m] of [['nvm-x402/agent', agent], ['nvm-x402/mcp', mcp], ['nvm-x402/a2a', a2a]]) {
    backend.requests.length = 0
    const payments = m.Payments.getInstance({ nvmApiKey: KEY, backendUrl: backend.url })
    const absent = notInEntry(entry, 'nvm-x402')
    await assert.rejects(payments.x402.getX402AccessToken('7'), absent)
    await assert.rejects(payments.plans.orderPlan('7'), absent)
    await assert.rejects(payments.plans.getPlanBalance('7'), absent)
    await assert.rejects(payments.plans.registerCreditsPlan({ name: 'p' }, client.getFreePriceConfig(), client.getFixedCreditsConfig(10n)), absent)
    await assert.rejects(payments.agents.registerAgent({ name: 'a' }, { endpoints: [] }, ['7']), absent)
    await assert.rejects(payments.delegation.listPaymentMethods(), absent)
    await assert.rejects(payments.fetch('http://127.0.0.1:9/tasks', {}, { planIds: ['7'] }), (e) => absent(e) && /^fetchWithPayment /.test(e.message))
    await assert.rejects(payments.queryAgent({ agentUrl: 'http://127.0.0.1:9/tasks', prompt: 'hi', planId: '7' }), absent)
    assert.deepEqual(backend.requests.map((r) => `${r.method} ${r.path}`), [], `${entry} sent nothing`)
    // What every core has: the agent side's own backend calls and the pure functions.
    await payments.plans.getPlan('7').catch(() => {})
    assert.equal(backend.requests.at(-1).path, '/api/v1/protocol/plans/7')
    assert.equal(m.decodeAccessToken(client.encodeAccessToken({ planId: '7' })).planId, '7')
  }
})

test('one PaymentsError for every entry and module system: instanceof holds across them', () => {
  const required = createRequire(import.meta.url)('nvm-x402')
  let fromCjs
  try {
    required.Payments.getInstance({ nvmApiKey: 'not-a-key' })
  } catch (e) {
    fromCjs = e
  }
  assert.equal(fromCjs.code, 'validation')
  assert.notEqual(required.PaymentsError, client.PaymentsError, 'require() loads its own copy of the facade')
  for (const m of [client, agent, mcp]) {
    assert.ok(fromCjs instanceof m.PaymentsError)
    assert.ok(new m.PaymentsError({ code: 'x', message: 'y' }) instanceof required.PaymentsError)
  }
  assert.ok(!(new Error('plain') instanceof client.PaymentsError))
  assert.ok(!({ code: 'validation', message: 'a look-alike' } instanceof client.PaymentsError))
  assert.ok(fromCjs instanceof Error)
})

test('nvm-x402/a2a-client: the subscriber\'s calls and the A2A client, without registering plans and agents', async (t) => {
  const backend = await backendFor(t)
  const payments = a2aClient.Payments.getInstance({ nvmApiKey: KEY, backendUrl: backend.url })
  const absent = notInEntry('nvm-x402/a2a-client', 'nvm-x402')
  await assert.rejects(payments.plans.registerCreditsPlan({ name: 'p' }, client.getFreePriceConfig(), client.getFixedCreditsConfig(10n)), absent)
  await assert.rejects(payments.agents.registerAgent({ name: 'a' }, { endpoints: [] }, ['7']), absent)
  assert.deepEqual(backend.requests, [], 'sent nothing')
  // Its subscriber calls reach the backend, and the A2A client reads the card first.
  await payments.plans.getPlanBalance('7').catch(() => {})
  assert.match(backend.requests.at(-1).path, /^\/api\/v1\/protocol\/plans\/7\/balance\//)
  backend.respond('GET', '/.well-known/agent-card.json', { json: { url: 'http://127.0.0.1:9/elsewhere', capabilities: {} } })
  await assert.rejects(payments.a2a.getClient({ agentBaseUrl: `${backend.url}`, planId: '7' }), (e) => e.code === 'redirect_not_followed')
  assert.equal(backend.requests.at(-1).path, '/.well-known/agent-card.json')
})
