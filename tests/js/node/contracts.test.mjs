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
  // Read once per instance, as the official SDK: what the backend answers next is not asked.
  backend.respond('GET', '/', { status: 502, body: '<html>Bad gateway</html>' })
  assert.deepEqual(await payments.contracts.getDeploymentInfo(), deployment)
  assertRequests(backend, [{ method: 'GET', url: '/', key: null }])
  // No contracts, or no deployment: refused as the official SDK refuses it (each by a new instance).
  for (const answer of [{ deployment: { version: '1' } }, { version: '1' }, []]) {
    backend.respond('GET', '/', { json: answer })
    await paymentsError(clientFor(backend, { nvmApiKey: KEY }).contracts.getDeploymentInfo(), { code: 'invalid_response', message: 'Deployment info not found in API response' })
  }
  backend.respond('GET', '/', { status: 502, body: '<html>Bad gateway</html>' })
  await paymentsError(clientFor(backend, { nvmApiKey: KEY }).contracts.getDeploymentInfo(), { code: 'http_502' })
})

test('contracts: the deployment is read once for getPayAsYouGoTemplateAddress and getDeploymentInfo; a failed read is not kept', async (t) => {
  const backend = await backendFor(t)
  const deployment = { contracts: { PayAsYouGoTemplate: '0x00000000000000000000000000000000000000b2' } }
  const payments = clientFor(backend, { nvmApiKey: KEY })
  const reads = () => backend.requests.filter((r) => r.method === 'GET' && r.path === '/').length
  // The backend fails first: the error, then the next call reads again.
  backend.respond('GET', '/', { status: 503, json: { message: 'down' } })
  await paymentsError(payments.contracts.getPayAsYouGoTemplateAddress(), { code: 'http_503' })
  // An answer without contracts is refused, and not kept either.
  backend.respond('GET', '/', { json: { deployment: {} } })
  await paymentsError(payments.contracts.getPayAsYouGoTemplateAddress(), { code: 'invalid_response' })
  backend.respond('GET', '/', { json: { deployment } })
  assert.equal(await payments.contracts.getPayAsYouGoTemplateAddress(), deployment.contracts.PayAsYouGoTemplate)
  assert.equal(reads(), 3)
  assert.equal(await payments.contracts.getPayAsYouGoTemplateAddress(), deployment.contracts.PayAsYouGoTemplate)
  assert.deepEqual(await payments.contracts.getDeploymentInfo(), deployment)
  assert.equal(reads(), 3, 'kept: two calls more, no read more')
  // Concurrent calls of a new instance: each may read, all answer the deployment.
  const fresh = clientFor(backend, { nvmApiKey: KEY })
  const answers = await Promise.all([fresh.contracts.getPayAsYouGoTemplateAddress(), fresh.contracts.getDeploymentInfo()])
  assert.deepEqual(answers, [deployment.contracts.PayAsYouGoTemplate, deployment])
  const afterFirst = reads()
  assert.ok(afterFirst === 4 || afterFirst === 5, `one read each at most: ${afterFirst}`)
  assert.deepEqual(await fresh.contracts.getDeploymentInfo(), deployment)
  assert.equal(reads(), afterFirst, 'then kept')
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

test('contracts.getContractAddress: a contract of the (kept) deployment by name; one it does not name is an error', async (t) => {
  const backend = await backendFor(t)
  backend.respond('GET', '/', { json: { deployment: { contracts: { PaymentsVault: '0x00000000000000000000000000000000000000a1', PayAsYouGoTemplate: '0x00000000000000000000000000000000000000a2' } } } })
  const contracts = clientFor(backend, { nvmApiKey: KEY }).contracts
  assert.equal(await contracts.getContractAddress('PaymentsVault'), '0x00000000000000000000000000000000000000a1')
  assert.equal(await contracts.getContractAddress('PayAsYouGoTemplate'), await contracts.getPayAsYouGoTemplateAddress())
  await paymentsError(contracts.getContractAddress('NoSuchContract'), { code: 'invalid_response', message: /Contract address not found for NoSuchContract/ })
  await paymentsError(contracts.getContractAddress(), { code: 'validation', message: /contractName/ })
  assertRequests(backend, [{ method: 'GET', url: '/', key: null }])
  // On a new instance, the mistake is found before the deployment is read: nothing is sent.
  const fresh = clientFor(backend, { nvmApiKey: KEY })
  await paymentsError(fresh.contracts.getContractAddress(), { code: 'validation', message: /contractName/, hint: 'Nothing was sent: fix the argument the message names.' })
  await paymentsError(fresh.plans.getPayAsYouGoPriceConfig(100n, '0x12'), { code: 'validation', message: /Receiver address "0x12"/ })
  assertRequests(backend, [{ method: 'GET', url: '/', key: null }])
})
