// Drives this package through tests/parity/calls.json against a recording
// backend, exactly as driver.py drives payments-py:
//   NVM_BACKEND_URL=http://127.0.0.1:PORT NVM_API_KEY=local:... node driver.mjs calls.json
// Before each call it posts {"id"} to /__parity/mark; each outcome is one JSON line.
import { readFileSync } from 'node:fs'
import { requiresPayment } from 'nvm-x402/langchain'
import { Payments, PaymentsError, buildPaymentRequired, detectAccessTokenVersion, encodeAccessToken, isAccessTokenAlreadyUsed, isSingleUseAccessToken } from 'nvm-x402'

const base = process.env.NVM_BACKEND_URL.replace(/\/$/, '')
const spec = JSON.parse(readFileSync(process.argv[2], 'utf8'))
const { receiver, token: tokenAddress } = spec
const payments = Payments.getInstance({ nvmApiKey: process.env.NVM_API_KEY, backendUrl: base })
const p = payments.plans

const mark = (id) => fetch(`${base}/__parity/mark`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id }) }).then((r) => r.text())

function price([kind, ...args]) {
  switch (kind) {
    case 'free': return p.getFreePriceConfig()
    case 'native': return p.getNativeTokenPriceConfig(BigInt(args[0]), receiver)
    case 'crypto': return p.getCryptoPriceConfig(BigInt(args[0]), receiver)
    case 'erc20': return p.getERC20PriceConfig(BigInt(args[0]), tokenAddress, receiver)
    case 'eurc': return p.getEURCPriceConfig(BigInt(args[0]), receiver)
    case 'fiat': return p.getFiatPriceConfig(BigInt(args[0]), receiver, ...args.slice(1))
    case 'payg': return p.getPayAsYouGoPriceConfig(BigInt(args[0]), receiver, tokenAddress) // the template from GET /
  }
  throw new Error(kind)
}

function credits([kind, ...args]) {
  switch (kind) {
    case 'fixed': return p.getFixedCreditsConfig(BigInt(args[0]), BigInt(args[1]))
    case 'dynamic': return p.getDynamicCreditsConfig(BigInt(args[0]), BigInt(args[1]), BigInt(args[2]))
    case 'expirable': return p.getExpirableDurationConfig(BigInt(args[0]))
    case 'nonExpirable': return p.getNonExpirableDurationConfig()
    case 'payg': return p.getPayAsYouGoCreditsConfig()
  }
  throw new Error(kind)
}

const agentApi = (c) => ({
  ...(c.endpoints ? { endpoints: c.endpoints.map(([verb, url]) => ({ [verb]: url })) } : {}),
  ...(c.definitionUrl ? { agentDefinitionUrl: c.definitionUrl } : {}),
})
const paymentRequired = (c) => buildPaymentRequired(c.planId, { endpoint: c.endpoint, agentId: c.agentId, httpVerb: c.httpVerb, network: 'eip155:84532' })

const publication = (c) => (c.organizationId ? { organizationId: c.organizationId } : undefined)

async function run(c) {
  switch (c.call) {
    case 'registerCreditsPlan':
    case 'registerTimePlan':
    case 'registerCreditsTrialPlan':
    case 'registerTimeTrialPlan':
      return p[c.call](c.metadata, await price(c.price), credits(c.credits), publication(c))
    case 'registerAgent': return payments.agents.registerAgent(c.metadata, agentApi(c), c.plans, publication(c))
    case 'registerAgentAndPlan': return payments.agents.registerAgentAndPlan(c.metadata, agentApi(c), c.plan, price(c.price), credits(c.credits), undefined, publication(c))
    case 'getPlan': return p.getPlan(c.planId)
    case 'getPlans': return p.getPlans(...(c.page ? [{ page: c.page, offset: c.offset, sortBy: c.sortBy, sortOrder: c.sortOrder }] : []))
    case 'getAgent': return payments.agents.getAgent(c.agentId)
    case 'getAgentPlans': return payments.agents.getAgentPlans(c.agentId, ...(c.page ? [{ page: c.page, offset: c.offset }] : []))
    case 'getPlanBalance': return p.getPlanBalance(c.planId, c.holder)
    case 'orderPlan': return p.orderPlan(c.planId)
    case 'orderFiatPlan': return p.orderFiatPlan(c.planId)
    case 'createDelegation': return payments.delegation.createDelegation(c.payload)
    case 'listDelegations': return payments.delegation.listDelegations()
    case 'listPaymentMethods': return payments.delegation.listPaymentMethods(...(c.provider ? [{ provider: c.provider }] : []))
    case 'getX402AccessToken': {
      const options = { delegationConfig: c.inline ?? { delegationId: c.delegationId } }
      for (const key of ['scheme', 'network', 'tokenVersion', 'httpVerb']) if (key in c) options[key] = c[key]
      if (c.resource) options.resource = { url: c.resource }
      return payments.x402.getX402AccessToken(c.planId, c.agentId, options)
    }
    case 'verifyPermissions': return payments.facilitator.verifyPermissions({ paymentRequired: paymentRequired(c), x402AccessToken: c.token, ...(c.maxAmount ? { maxAmount: c.maxAmount } : {}) })
    case 'settlePermissions': return payments.facilitator.settlePermissions({ paymentRequired: paymentRequired(c), x402AccessToken: c.token, maxAmount: c.maxAmount, agentRequestId: c.agentRequestId })
    case 'requiresPayment': {
      // A LangChain tool's function (nvm-x402/langchain), called as LangChain calls it.
      const paid = requiresPayment(async function search({ query }) {
        return `results for ${query}`
      }, { payments, planId: c.planId, agentId: c.agentId, credits: c.credits })
      return paid({ query: 'q' }, { configurable: { payment_token: encodeAccessToken(c.tokenClaims) } })
    }
    // A new instance: payments-py's `contracts_api` keeps the deployment apart from its
    // plans API's (read by plan-payg); ours keeps one per instance, so this one would send nothing.
    case 'getDeploymentInfo': return Payments.getInstance({ nvmApiKey: process.env.NVM_API_KEY, backendUrl: base }).contracts.getDeploymentInfo()
    case 'getAgents': return payments.agents.getAgents(...(c.page ? [c.page, c.offset, c.sortBy, c.sortOrder, c.orgId] : []))
    case 'getAgentsAssociatedToAPlan': return p.getAgentsAssociatedToAPlan(c.planId, ...(c.page ? [{ page: c.page, offset: c.offset }] : []))
    case 'updateAgentMetadata': return payments.agents.updateAgentMetadata(c.agentId, c.metadata, agentApi(c))
    case 'addPlanToAgent': return payments.agents.addPlanToAgent(c.planId, c.agentId)
    case 'removePlanFromAgent': return payments.agents.removePlanFromAgent(c.planId, c.agentId)
    case 'createOrder': return payments.orders.createOrder(c.options)
    case 'getOrder': return payments.orders.getOrder(c.orderId)
    case 'createMember': return payments.organizations.createMember(c.userId, c.email, c.role)
    case 'onboardCustomer': return payments.organizations.onboardCustomer(c.email)
    case 'getMembers': return payments.organizations.getMembers(c.role, c.isActive, c.page, c.offset)
    case 'getMyMemberships': return payments.organizations.getMyMemberships()
    case 'getOrganizationActivity': return payments.organizations.getOrganizationActivity(c.orgId, c.filters)
    case 'connectStripeAccount': return payments.organizations.connectStripeAccount(c.email, c.countryCode, c.returnUrl)
  }
  throw new Error(`unknown call ${c.call}`)
}

for (const c of spec.calls) {
  await mark(c.id)
  try {
    await run(c)
    console.log(JSON.stringify({ id: c.id, ok: true }))
  } catch (error) {
    console.log(JSON.stringify({ id: c.id, ok: false, error: `${error.code ?? error.name}: ${String(error.message).slice(0, 300)}` }))
  }
}

function pure(c) {
  if (c.helper === 'tokenVersion') {
    const token = 'raw' in c ? c.raw : encodeAccessToken(c.token)
    return [detectAccessTokenVersion(token), isSingleUseAccessToken(token)]
  }
  if (c.helper === 'alreadyUsed') return isAccessTokenAlreadyUsed(new PaymentsError({ code: c.code, message: 'refused' }))
  throw new Error(`unknown helper ${c.helper}`)
}

for (const c of spec.pure ?? []) {
  try {
    console.log(JSON.stringify({ id: c.id, ok: true, value: pure(c) }))
  } catch (error) {
    console.log(JSON.stringify({ id: c.id, ok: false, error: `${error.code ?? error.name}: ${String(error.message).slice(0, 300)}` }))
  }
}
