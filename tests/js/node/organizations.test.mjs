// payments.organizations (#23), written from what the official SDK's unit tests
// assert (nevermined-io/payments tests/unit/organizations-api.test.ts): the
// requests each call sends, the answers it gives back (onboarding never
// discloses another's account, never "succeeds" without a key), the
// organization header, the official enums; then the same calls against nvm-local.
import test from 'node:test'
import assert from 'node:assert/strict'
import { CURRENT_ORG_ID_HEADER, OrganizationActivityEventType, OrganizationMemberRole, OrganizationType, Payments, getFixedCreditsConfig, getFreePriceConfig } from 'nvm-x402'
import * as agent from 'nvm-x402/agent'
import { KEY, NVM_LOCAL_BUILT, assertNoSecrets, assertRequests, backendFor, clientFor, liveBackendFor, paymentsError } from '../support/nvm.mjs'

const ACCOUNT = '/api/v1/organizations/account'
const NEW_KEY = 'local:eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIweDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwYjEifQ.c2lnbmF0dXJl'

test('the official enums and header name, with the official values', () => {
  assert.equal(CURRENT_ORG_ID_HEADER, 'X-Current-Org-Id')
  assert.deepEqual({ ...OrganizationMemberRole }, { Admin: 'Admin', Member: 'Member', Client: 'Client' })
  assert.deepEqual({ ...OrganizationType }, { Premium: 'Premium', Enterprise: 'Enterprise', Lapsed: 'Lapsed', Other: 'Other' })
  // The official enum's members, as its source lists them (tests/unit assert a few by value).
  assert.equal(OrganizationActivityEventType.MemberInvited, 'member.invited')
  assert.equal(OrganizationActivityEventType.MemberRoleChanged, 'member.role_changed')
  assert.equal(OrganizationActivityEventType.PlanCreated, 'plan.created')
  assert.equal(OrganizationActivityEventType.WebhookFailed, 'webhook.failed')
  assert.equal(Object.keys(OrganizationActivityEventType).length, 20)
  for (const [name, value] of Object.entries(OrganizationActivityEventType)) {
    // MemberRoleChanged <-> member.role_changed: every name is its value in PascalCase.
    assert.equal(value.replace(/(^|[._])(\w)/g, (_, _s, c) => c.toUpperCase()), name)
  }
  for (const e of [OrganizationMemberRole, OrganizationType, OrganizationActivityEventType]) assert.ok(Object.isFrozen(e))
  // An organization admin's calls are the default entry's: the serving entries don't carry them.
  assert.equal(agent.OrganizationMemberRole, undefined)
})

test('getMyMemberships: GET my-memberships, authenticated; a non-list answer is no memberships', async (t) => {
  const backend = await backendFor(t)
  const list = [{ orgId: 'org-1', orgName: 'Acme', role: 'Admin', orgType: 'Premium', isAdmin: true, hasSubscriptionHistory: false }]
  backend.respond('GET', '/api/v1/organizations/my-memberships', { json: list })
  const payments = clientFor(backend)
  assert.deepEqual(await payments.organizations.getMyMemberships(), list)
  backend.respond('GET', '/api/v1/organizations/my-memberships', { json: { unexpected: true } })
  assert.deepEqual(await payments.organizations.getMyMemberships(), [])
  assertRequests(backend, [
    { method: 'GET', url: '/api/v1/organizations/my-memberships' },
    { method: 'GET', url: '/api/v1/organizations/my-memberships' },
  ])
  backend.respond('GET', '/api/v1/organizations/my-memberships', { status: 500, json: { message: 'boom' } })
  await paymentsError(payments.organizations.getMyMemberships(), { httpStatus: 500, message: /boom/ })
})

test('getOrganizationActivity: filters in the query (a list comma-separated, empty ones left out), the org id encoded; {items, total}', async (t) => {
  const backend = await backendFor(t)
  const event = { id: 'ae-1', eventType: 'member.invited', actorUserId: null, subject: { kind: 'member', id: 'om-1' }, metadata: null, occurredAt: '2026-01-02T00:00:00Z' }
  backend.respond('GET', '*', { json: { items: [event], total: 1, page: 2 } })
  const orgs = clientFor(backend).organizations
  const page = await orgs.getOrganizationActivity('org-xyz', {
    eventType: OrganizationActivityEventType.MemberInvited,
    actorUserId: 'us-1',
    from: '2026-01-01T00:00:00Z',
    to: '2026-12-31T23:59:59Z',
    page: 2,
    limit: 25,
  })
  // Only items and total: the official SDK's page.
  assert.deepEqual(page, { items: [event], total: 1 })
  await orgs.getOrganizationActivity('org-xyz', { eventType: [OrganizationActivityEventType.PlanCreated, 'agent.created'] })
  await orgs.getOrganizationActivity('org-xyz', { eventType: [], actorUserId: '' })
  await orgs.getOrganizationActivity('org 1/x')
  const urls = backend.requests.map((r) => new URL(r.url, backend.url))
  assert.equal(urls[0].pathname, '/api/v1/organizations/org-xyz/activity')
  assert.deepEqual(Object.fromEntries(urls[0].searchParams), { eventType: 'member.invited', actorUserId: 'us-1', from: '2026-01-01T00:00:00Z', to: '2026-12-31T23:59:59Z', page: '2', limit: '25' })
  assert.equal(urls[1].searchParams.get('eventType'), 'plan.created,agent.created')
  assert.equal(urls[2].search, '')
  assert.equal(backend.requests[3].url, '/api/v1/organizations/org%201%2Fx/activity')
  // An answer without them: none and 0.
  backend.respond('GET', '*', { json: {} })
  assert.deepEqual(await orgs.getOrganizationActivity('org-xyz'), { items: [], total: 0 })
  const sent = backend.requests.length
  for (const orgId of ['', '  ', undefined]) await paymentsError(orgs.getOrganizationActivity(orgId), { code: 'validation', message: /orgId/ })
  await paymentsError(orgs.getOrganizationActivity('org-xyz', { page: -1 }), { code: 'validation', message: /page/ })
  assert.equal(backend.requests.length, sent, 'nothing sent for a refused call')
  backend.respond('GET', '*', { status: 403, json: { code: 'BCK.ORG.0900', message: 'Not a member of this organization' } })
  await paymentsError(orgs.getOrganizationActivity('org-forbidden'), { code: 'BCK.ORG.0900', httpStatus: 403 })
})

test('the organization header: the organizationId option on every call, setOrganizationId changes the later ones', async (t) => {
  const backend = await backendFor(t)
  backend.respond('GET', '*', { json: [] })
  const pinned = clientFor(backend, { organizationId: 'org-pin' })
  await pinned.organizations.getMyMemberships()
  const payments = clientFor(backend)
  await payments.organizations.getMyMemberships()
  payments.setOrganizationId('org-after-set')
  await payments.organizations.getMyMemberships()
  payments.setOrganizationId(null)
  await payments.organizations.getMyMemberships()
  const header = CURRENT_ORG_ID_HEADER.toLowerCase()
  assert.deepEqual(backend.requests.map((r) => r.headers[header]), ['org-pin', undefined, 'org-after-set', undefined])
})

test('publicationOptions: a registration goes to its organizationId for that call only; the pin otherwise', async (t) => {
  const backend = await backendFor(t)
  backend.respond('POST', '/api/v1/protocol/agents', { json: { data: { agentId: 'ag-1' } } })
  backend.respond('POST', '/api/v1/protocol/agents/plans', { json: { data: { agentId: 'ag-3', planId: 'pl-3' }, txHash: '0xabc' } })
  backend.respond('POST', '/api/v1/protocol/plans', { json: { planId: 'pl-4' } })
  const payments = clientFor(backend, { organizationId: 'org-pinned' })
  const api = { endpoints: [{ POST: 'https://example.com/run' }] }
  const [price, credits] = [getFreePriceConfig(), getFixedCreditsConfig(1n)]
  await payments.agents.registerAgent({ name: 'Bot' }, api, ['plan-1'], { organizationId: 'org-override' })
  await payments.agents.registerAgent({ name: 'Bot' }, api, ['plan-1'])
  await payments.agents.registerAgentAndPlan({ name: 'Bot' }, api, { name: 'Plan' }, price, credits, undefined, { organizationId: 'org-c' })
  await payments.plans.registerPlan({ name: 'P' }, price, credits, undefined, undefined, { organizationId: 'org-d' })
  await payments.plans.registerCreditsPlan({ name: 'P' }, price, credits, { organizationId: 'org-e' })
  // Empty or blank: the pin, as the official's `if (options?.organizationId)` (and setOrganizationId's blank).
  await payments.plans.registerCreditsPlan({ name: 'P' }, price, credits, { organizationId: '' })
  await payments.plans.registerCreditsPlan({ name: 'P' }, price, credits, { organizationId: '   ' })
  const header = CURRENT_ORG_ID_HEADER.toLowerCase()
  assert.deepEqual(backend.requests.map((r) => r.headers[header]), ['org-override', 'org-pinned', 'org-c', 'org-d', 'org-e', 'org-pinned', 'org-pinned'])
  // (Node joins a repeated header with ", ": each request had one.) The instance pin is untouched.
  assert.equal(payments.getOrganizationId(), 'org-pinned')
  // Bad options are refused before sending.
  for (const options of ['org-x', { organizationId: 7 }]) {
    await paymentsError(payments.agents.registerAgent({ name: 'Bot' }, api, ['plan-1'], options), { code: 'validation', message: /publicationOptions/ })
  }
  // This package's earlier registerPlan form (accessLimit fourth) takes nothing after it:
  // options there were meant for the official order, and would otherwise be dropped.
  await paymentsError(payments.plans.registerPlan({ name: 'P' }, price, credits, 'time', { organizationId: 'org-wanted' }), { code: 'validation', message: /accessLimit.*fifth/ })
  assert.equal(backend.requests.length, 7)
})

test('createMember: {uniqueExternalId, email?, role?}; the walletResult with its hash as nvmApiKey; an answer without a key is an error', async (t) => {
  const backend = await backendFor(t)
  const wallet = { hash: NEW_KEY, userId: 'us-1', userWallet: '0x00000000000000000000000000000000000000b1', alreadyMember: false }
  backend.respond('POST', ACCOUNT, { status: 201, json: { success: true, walletResult: wallet } })
  const orgs = clientFor(backend).organizations
  assert.deepEqual(await orgs.createMember('ext-1', 'm@example.com', OrganizationMemberRole.Member), { ...wallet, nvmApiKey: NEW_KEY })
  await orgs.createMember('ext-2')
  assertRequests(backend, [
    { method: 'POST', url: ACCOUNT, body: { uniqueExternalId: 'ext-1', email: 'm@example.com', role: 'Member' } },
    { method: 'POST', url: ACCOUNT, body: { uniqueExternalId: 'ext-2' } },
  ])
  for (const userId of ['', ' ', undefined]) await paymentsError(orgs.createMember(userId), { code: 'validation', message: /userId/ })
  assert.equal(backend.requests.length, 2)
  backend.respond('POST', ACCOUNT, { status: 201, json: { success: true, walletResult: { userId: 'us-1' } } })
  await paymentsError(orgs.createMember('ext-3'), { code: 'invalid_response', message: /no API key/ })
  backend.respond('POST', ACCOUNT, { status: 400, json: { code: 'BCK.ORG.0001', message: 'Seat limit reached' } })
  await paymentsError(orgs.createMember('ext-4'), { code: 'BCK.ORG.0001', httpStatus: 400, message: /Seat limit reached/ })
})

test("onboardCustomer: as=customer; the usable key; consent pending (202 or the flag) discloses nothing; a 2xx without a key is an error", async (t) => {
  const backend = await backendFor(t)
  const orgs = clientFor(backend).organizations
  // The official test's answer: the lookup hash is not the key, nvmApiKey is.
  backend.respond('POST', ACCOUNT, { status: 201, json: { success: true, message: 'Customer onboarded', walletResult: { hash: 'lookup-hash', userId: 'us-123', userWallet: '0xabc', nvmApiKey: 'nvm-real-usable-key', isCustomer: true, customerRecorded: true, alreadyMember: false } } })
  assert.deepEqual(await orgs.onboardCustomer('customer@example.com'), { consentRequired: false, nvmApiKey: 'nvm-real-usable-key', userId: 'us-123', userWallet: '0xabc', isCustomer: true, customerRecorded: true })
  assertRequests(backend, [{ method: 'POST', url: ACCOUNT, body: { email: 'customer@example.com', as: 'customer' } }])
  for (const answer of [
    { status: 202, json: { success: true, walletResult: { alreadyMember: false, consentRequired: true, userId: 'us-other', nvmApiKey: 'should-not-leak' } } },
    { status: 202, json: { success: true, walletResult: { alreadyMember: false } } },
    { status: 201, json: { success: true, walletResult: { consentRequired: true, userWallet: '0xdef' } } },
    // A flag that is not a literal true still means consent pending: another's key is never handed back.
    { status: 201, json: { success: true, walletResult: { consentRequired: 'true', nvmApiKey: 'OTHER-ACCOUNTS-KEY-123456', userId: 'us-victim' } } },
    { status: 201, json: { success: true, walletResult: { consentRequired: 1, nvmApiKey: 'OTHER-ACCOUNTS-KEY-123456' } } },
  ]) {
    backend.respond('POST', ACCOUNT, answer)
    assert.deepEqual(await orgs.onboardCustomer('stranger@example.com'), { consentRequired: true })
  }
  backend.respond('POST', ACCOUNT, { status: 201, json: { success: true, walletResult: { userId: 'us-1', isCustomer: true } } })
  await paymentsError(orgs.onboardCustomer('customer@example.com'), { code: 'invalid_response', message: /did not return an API key/ })
  backend.respond('POST', ACCOUNT, { status: 500, json: { message: 'boom' } })
  await paymentsError(orgs.onboardCustomer('customer@example.com'), { httpStatus: 500, message: /boom/ })
})

test('getMembers: positional (role, isActive, page = 1, offset = 100) in the body; {members, total} from totalResults', async (t) => {
  const backend = await backendFor(t)
  const member = { id: 'om-1', userId: 'us-1', orgId: 'org-1', userAddress: '0xabc', role: 'Member', isActive: true, createdAt: 'x', updatedAt: 'y' }
  backend.respond('POST', '/api/v1/organizations/members', { json: { members: [member], totalResults: 7 } })
  const orgs = clientFor(backend).organizations
  assert.deepEqual(await orgs.getMembers(), { members: [member], total: 7 })
  await orgs.getMembers(OrganizationMemberRole.Admin, false, 2, 25)
  assertRequests(backend, [
    { method: 'POST', url: '/api/v1/organizations/members', body: { page: 1, offset: 100 } },
    { method: 'POST', url: '/api/v1/organizations/members', body: { role: 'Admin', isActive: false, page: 2, offset: 25 } },
  ])
  await paymentsError(orgs.getMembers(undefined, 'yes'), { code: 'validation', message: /isActive/ })
  await paymentsError(orgs.getMembers(undefined, undefined, 1.5), { code: 'validation', message: /page/ })
  assert.equal(backend.requests.length, 2)
})

test('connectStripeAccount: {userEmail, userCountryCode, returnUrl}; the link as answered', async (t) => {
  const backend = await backendFor(t)
  const link = { stripeAccountId: 'acct_1', stripeAccountLink: 'https://connect.stripe.example/acct_1', userId: 'us-1', userCountryCode: 'ES', linkCreatedAt: 1, linkExpiresAt: 2 }
  backend.respond('POST', '/api/v1/fiat/stripe/account', { status: 201, json: link })
  assert.deepEqual(await clientFor(backend).organizations.connectStripeAccount('s@example.com', 'ES', 'https://seller.example/done'), link)
  assertRequests(backend, [{ method: 'POST', url: '/api/v1/fiat/stripe/account', body: { userEmail: 's@example.com', userCountryCode: 'ES', returnUrl: 'https://seller.example/done' } }])
})

test('nvm-local: the builder administers the demo organization through the package', { skip: !NVM_LOCAL_BUILT && 'nvm-local is not built' }, async (t) => {
  const live = await liveBackendFor(t)
  const builder = Payments.getInstance({ nvmApiKey: live.world.accounts.builder.apiKey, backendUrl: live.url })
  const [mine] = await builder.organizations.getMyMemberships()
  assert.equal(mine.role, OrganizationMemberRole.Admin)
  assert.equal(mine.isAdmin, true)
  const member = await builder.organizations.createMember('ext-js-1', 'js@example.com', OrganizationMemberRole.Member)
  assert.match(member.nvmApiKey, /^local:/)
  assert.equal(member.nvmApiKey, member.hash)
  const { members, total } = await builder.organizations.getMembers(OrganizationMemberRole.Member, true)
  assert.equal(total, 1)
  assert.equal(members[0].userAddress, member.userWallet)
  // The member's key works, and a member may not enrol others.
  const asMember = Payments.getInstance({ nvmApiKey: member.nvmApiKey, backendUrl: live.url })
  const refused = await paymentsError(asMember.organizations.createMember('ext-js-2'), { code: 'BCK.ORG.0900', httpStatus: 403 })
  assertNoSecrets(refused, member.nvmApiKey, KEY)
  const customer = await builder.organizations.onboardCustomer('js-customer@example.com')
  assert.equal(customer.consentRequired, false)
  assert.match(customer.nvmApiKey, /^local:/)
  const feed = await builder.organizations.getOrganizationActivity(mine.orgId, { eventType: [OrganizationActivityEventType.MemberJoined, OrganizationActivityEventType.CustomerAdded] })
  assert.equal(feed.total, 2)
  assert.deepEqual(feed.items.map((e) => e.eventType).sort(), ['customer.added', 'member.joined'])
  const link = await builder.organizations.connectStripeAccount('b@example.com', 'US', 'http://127.0.0.1:9/back')
  assert.equal(link.userCountryCode, 'US')
})
