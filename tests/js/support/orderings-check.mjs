// The assertions on a report of tests/js/support/orderings.js (issue #20, item 1),
// shared by the Node/Deno/Bun and the Chromium runs: each side's expectations
// come from that side's own configuration (SIDES).
import assert from 'node:assert/strict'
import { SIDES } from './orderings.js'

/** What every report must show, from the two sides' own configurations. */
export function assertKeptApart(report, { asset = false } = {}) {
  const where = `${report.kind}, ${report.ordering}`
  assert.equal(report.instances, 1, `${where}: one core instance in the realm`)
  if (!asset) assert.deepEqual(report.early, {}, `${where}: nothing refused to build`)
  else for (const code of Object.values(report.early)) assert.equal(code, 'not_ready', where)
  for (const [name, side] of Object.entries(SIDES)) {
    const out = report.sides[name]
    const at = `${where}, side ${name}`
    assert.equal(out.client.accountAddress, side.address, `${at}: its own account`)
    assert.ok(out.client.bearer.length > 0, at)
    for (const bearer of out.client.bearer) assert.equal(bearer, `Bearer ${side.key}`, `${at}: backend calls carry its own key`)
    assert.equal(out.client.balanceHolder, report.kind === 'client' ? side.address : 'not_in_entry', `${at}: balance of its own account`)
    assert.deepEqual(out.notInEntry, { code: 'not_in_entry' }, at)
    if (report.kind === 'agent') {
      const { paywall } = out
      for (const unpaid of paywall.unpaid) assert.deepEqual(unpaid, { status: 402, planId: side.planId, agentId: side.agentId }, `${at}: a paid route never answers unpaid, and offers its own plan`)
      assert.equal(paywall.handledUnpaid, 0, `${at}: the handler never ran unpaid`)
      assert.deepEqual(paywall.wrongPlan, { status: 402, backendCalls: 0 }, `${at}: the other side's plan is refused before the backend`)
      assert.deepEqual(paywall.otherRoute, { status: 200, body: 'paid content' }, `${at}: the other side's route is not one of its own`)
      assert.deepEqual(paywall.paid, { status: 200, body: 'paid content', bearer: `Bearer ${side.key}`, planId: side.planId, agentId: side.agentId, maxAmount: String(side.credits) }, `${at}: a paid request verifies with its own key, plan and price`)
    }
    if (report.kind === 'mcp') {
      const { mcp } = out
      assert.equal(mcp.unpaid.isError, true, at)
      assert.equal(mcp.unpaid.planId, side.planId, `${at}: offers its own plan`)
      assert.ok(mcp.unpaid.resource.startsWith(`mcp://${side.server}/tools/echo`), `${at}: its own server name (${mcp.unpaid.resource})`)
      assert.equal(mcp.handledUnpaid, 0, `${at}: the tool never ran unpaid`)
      assert.equal(mcp.wrongPlan.isError, true, `${at}: the other side's plan is refused`)
      assert.equal(mcp.wrongPlan.planId, side.planId, at)
      assert.deepEqual(mcp.paid, { text: 'hi', bearer: `Bearer ${side.key}`, planId: side.planId, maxAmount: String(side.credits) }, `${at}: a paid call verifies with its own key, plan and price`)
    }
  }
}
