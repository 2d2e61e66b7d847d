// Wire parity with the official SDKs (issue #10): the official Python SDK
// (payments-py, pinned and installed by scripts/setup.sh into .cache/) and
// this package make the same list of calls (tests/parity/calls.json) against
// a recording backend; their requests must match call by call in method,
// path, query, significant headers and body JSON, except for the reviewed
// differences in tests/parity/allowlist.json (each with its reason).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { startParityBackend } from '../../parity/backend.mjs'
import { covers, diffCall } from '../../parity/compare.mjs'
import { makeKey } from '../support/nvm.mjs'
import { ROOT } from '../support/servers.mjs'

const run = promisify(execFile)
const DIR = join(ROOT, 'tests/parity')
const CALLS = join(DIR, 'calls.json')
const PYTHON = join(ROOT, '.cache/payments-py/bin/python')
const KEY = makeKey('local', { sub: '0x5b38da6a701c568545dcfcb03fcb875f56beddc4', o11y: 'parity' })

/** Runs one driver against a fresh recording backend: its requests by call id, and its outcomes. */
async function drive(command, script) {
  const backend = await startParityBackend()
  try {
    const { stdout } = await run(command, [join(DIR, script), CALLS], { cwd: ROOT, env: { ...process.env, NVM_BACKEND_URL: backend.url, NVM_API_KEY: KEY }, timeout: 60_000 })
    const outcomes = Object.fromEntries(stdout.trim().split('\n').map((line) => JSON.parse(line)).map((o) => [o.id, o]))
    return { calls: backend.calls, outcomes }
  } finally {
    await backend.close()
  }
}

/** Both drivers, run once for the tests below. */
let runs
const both = () => (runs ??= Promise.all([drive(PYTHON, 'driver.py'), drive(process.execPath, 'driver.mjs')]))

test('payments-py and nvm-x402 send the same requests for every call, but for reviewed differences', async () => {
  assert.ok(existsSync(PYTHON), 'payments-py is not installed: scripts/setup.sh installs it into .cache/payments-py')
  const { calls } = JSON.parse(readFileSync(CALLS, 'utf8'))
  const { entries } = JSON.parse(readFileSync(join(DIR, 'allowlist.json'), 'utf8'))
  const [py, js] = await both()
  const unexplained = []
  const used = new Set()
  let compared = 0
  for (const { id } of calls) {
    assert.ok(js.outcomes[id]?.ok, `nvm-x402 failed ${id}: ${js.outcomes[id]?.error}`)
    assert.ok(py.outcomes[id]?.ok, `payments-py failed ${id}: ${py.outcomes[id]?.error}`)
    const [pyRequests, jsRequests] = [py.calls.get(id) ?? [], js.calls.get(id) ?? []]
    assert.ok(jsRequests.length > 0, `${id}: nvm-x402 sent nothing`)
    compared += jsRequests.length
    for (const difference of diffCall(id, pyRequests, jsRequests)) {
      const entry = entries.findIndex((e) => covers(e, difference))
      if (entry === -1) unexplained.push(difference)
      else used.add(entry)
    }
  }
  assert.deepEqual(unexplained, [], `differences no allow-list entry explains:\n${unexplained.map((d) => JSON.stringify(d)).join('\n')}`)
  const stale = entries.filter((_, i) => !used.has(i))
  assert.deepEqual(stale, [], 'allow-list entries that no longer match anything (remove them)')
  assert.ok(entries.every((e) => typeof e.reason === 'string' && e.reason.length > 20), 'every entry says why')
  assert.ok(compared >= calls.length, `compared ${compared} requests`)
})

test('payments-py and nvm-x402 answer the same for every pure helper and input (the v3 token helpers)', async () => {
  assert.ok(existsSync(PYTHON), 'payments-py is not installed: scripts/setup.sh installs it into .cache/payments-py')
  const { pure } = JSON.parse(readFileSync(CALLS, 'utf8'))
  const [py, js] = await both()
  for (const { id } of pure) {
    assert.ok(py.outcomes[id]?.ok, `payments-py failed ${id}: ${py.outcomes[id]?.error}`)
    assert.ok(js.outcomes[id]?.ok, `nvm-x402 failed ${id}: ${js.outcomes[id]?.error}`)
    assert.deepEqual(js.outcomes[id].value, py.outcomes[id].value, id)
  }
  // The inputs tell the answers apart: both versions, and both answers of isAccessTokenAlreadyUsed, occur.
  const answers = new Set(pure.map(({ id }) => JSON.stringify(py.outcomes[id].value)))
  for (const seen of ['[3,true]', '[2,false]', 'true', 'false']) assert.ok(answers.has(seen), seen)
})
