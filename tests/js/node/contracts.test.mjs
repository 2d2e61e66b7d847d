// payments.contracts.getDeploymentInfo: the request the official SDK sends
// (its tests/unit/api-version.test.ts: a public GET of the backend root, the
// version header), its refusals, and the answer of nvm-local.
import test from 'node:test'
import assert from 'node:assert/strict'
import { Payments } from 'nvm-x402'
import * as agentEntry from 'nvm-x402/agent'
import { NVM_LOCAL_BUILT, assertRequests, backendFor, clientFor, liveBackendFor, makeKey, paymentsError } from '../support/nvm.mjs'

const KEY = makeKey('local', { sub: '0x00000000000000000000000000000000000000a1', o11y: 'x' })
const skip = !NVM_LOCAL_BUILT && 'target/release/nvm-local is not built (scripts/build.sh --all)'

test('contracts.getDeploymentInfo: public GET of the backend root with the version header; the deployment', async (t) => {
  const backend = await backendFor(t)
  const deployment = { version: '1.2.3', chainId: 84532, contracts: { PaymentsVault: '0x1', PayAsYouGoTemplate: '0x2' } }
  backend.respond('GET', '/', { json: { name: 'api', deployment } })
  const payments = clientFor(backend, { nvmApiKey: KEY })
  assert.deepEqual(await payments.contracts.getDeploymentInfo(), deployment)
  // Asked each time (the official SDK keeps the first answer: README, Differences).
  assert.deepEqual(await payments.contracts.getDeploymentInfo(), deployment)
  assertRequests(backend, [
    { method: 'GET', url: '/', key: null },
    { method: 'GET', url: '/', key: null },
  ])
  // No contracts, or no deployment: refused as the official SDK refuses it.
  for (const answer of [{ deployment: { version: '1' } }, { version: '1' }, []]) {
    backend.respond('GET', '/', { json: answer })
    await paymentsError(payments.contracts.getDeploymentInfo(), { code: 'invalid_response', message: 'Deployment info not found in API response' })
  }
  backend.respond('GET', '/', { status: 502, body: '<html>Bad gateway</html>' })
  await paymentsError(payments.contracts.getDeploymentInfo(), { code: 'http_502' })
})

test("getDeploymentInfo is the default entry's: nvm-x402/agent answers not_in_entry, sending nothing", async (t) => {
  const backend = await backendFor(t)
  const payments = agentEntry.Payments.getInstance({ nvmApiKey: KEY, backendUrl: backend.url })
  await paymentsError(payments.contracts.getDeploymentInfo(), { code: 'not_in_entry' })
  assert.equal(backend.requests.length, 0)
})

test('live: nvm-local names every contract the official SDKs read', { skip }, async (t) => {
  const live = await liveBackendFor(t)
  const builder = Payments.getInstance({ nvmApiKey: live.world.accounts.builder.apiKey, backendUrl: live.url })
  const deployment = await builder.contracts.getDeploymentInfo()
  assert.equal(deployment.chainId, 84532)
  assert.equal(Object.keys(deployment.contracts).length, 19)
  for (const address of Object.values(deployment.contracts)) assert.match(address, /^0x[0-9a-f]{40}$/)
})
