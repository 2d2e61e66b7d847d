// The official Python SDK (payments-py, pinned, installed by scripts/setup.sh)
// drives a live nvm-local through its whole flow, unchanged
// (local-backend/sdk-check/official_python_sdk.py): reads, orders, delegations,
// v2 and v3 tokens, verify and settle, plan and agent registration — nvm-local
// answers the official client as the hosted backend would (issue #10, item 3).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { liveBackendFor } from '../support/nvm.mjs'
import { ROOT } from '../support/servers.mjs'

const PYTHON = join(ROOT, '.cache/payments-py/bin/python')

test('payments-py runs its whole flow against nvm-local', async (t) => {
  assert.ok(existsSync(PYTHON), 'payments-py is not installed: scripts/setup.sh installs it into .cache/payments-py')
  const live = await liveBackendFor(t)
  let stdout
  try {
    ;({ stdout } = await promisify(execFile)(PYTHON, [join(ROOT, 'local-backend/sdk-check/official_python_sdk.py')], { env: { ...process.env, NVM_BACKEND_URL: live.url.replace(/\/$/, '') }, timeout: 120_000 }))
  } catch (error) {
    assert.fail(`the SDK check failed:\n${error.stdout}\n${error.stderr}`)
  }
  const steps = stdout.split('\n').filter((l) => l.startsWith('ok  ') || l.startsWith('FAIL'))
  assert.deepEqual(steps.filter((l) => l.startsWith('FAIL')), [])
  assert.ok(steps.length >= 25, `only ${steps.length} steps ran`)
  assert.match(stdout, /all steps passed/)
})
