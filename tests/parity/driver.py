"""Drives the official Python SDK (payments-py, pinned in scripts/setup.sh)
through tests/parity/calls.json against a recording backend.

    NVM_BACKEND_URL=http://127.0.0.1:PORT NVM_API_KEY=local:... python driver.py calls.json

Before each call it posts `{"id": ...}` to `/__parity/mark`, so the recorder
knows which requests belong to which call. Each call's outcome (ok, or the
error) is printed as one JSON line; a call the SDK refuses to send is not a
driver failure (the test compares what was sent).
"""
import json
import os
import sys
import urllib.request
import warnings

warnings.simplefilter("ignore")

from payments_py import Payments, PaymentOptions, detect_access_token_version, is_access_token_already_used, is_single_use_access_token  # noqa: E402
from payments_py.common.payments_error import PaymentsError  # noqa: E402
from payments_py.common.types import AgentAPIAttributes, AgentMetadata, Endpoint, OrganizationActivityFilters, PaginationOptions, PlanMetadata  # noqa: E402
from payments_py.plans import (  # noqa: E402
    get_crypto_price_config,
    get_dynamic_credits_config,
    get_erc20_price_config,
    get_eurc_price_config,
    get_expirable_duration_config,
    get_fiat_price_config,
    get_fixed_credits_config,
    get_free_price_config,
    get_native_token_price_config,
    get_non_expirable_duration_config,
    get_pay_as_you_go_credits_config,
)
from payments_py.x402.delegation_api import CreateDelegationPayload  # noqa: E402
from payments_py.x402.helpers import build_payment_required  # noqa: E402
from payments_py.x402.token import encode_access_token  # noqa: E402
from payments_py.x402.types import DelegationConfig, X402TokenOptions  # noqa: E402

base = os.environ["NVM_BACKEND_URL"].rstrip("/")
spec = json.load(open(sys.argv[1]))
receiver, token_address = spec["receiver"], spec["token"]
payments = Payments.get_instance(PaymentOptions(nvm_api_key=os.environ["NVM_API_KEY"], environment="custom"))


def mark(call_id):
    request = urllib.request.Request(base + "/__parity/mark", data=json.dumps({"id": call_id}).encode(), method="POST", headers={"content-type": "application/json"})
    urllib.request.urlopen(request).read()


def price(p):
    kind, *args = p
    if kind == "free":
        return get_free_price_config()
    if kind == "native":
        return get_native_token_price_config(int(args[0]), receiver)
    if kind == "crypto":
        return get_crypto_price_config(int(args[0]), receiver)
    if kind == "erc20":
        return get_erc20_price_config(int(args[0]), token_address, receiver)
    if kind == "eurc":
        return get_eurc_price_config(int(args[0]), receiver)
    if kind == "fiat":
        return get_fiat_price_config(int(args[0]), receiver, *args[1:])
    if kind == "payg":  # the template from GET / (the plans API's first read of it)
        return payments.plans.get_pay_as_you_go_price_config(int(args[0]), receiver, token_address)
    raise ValueError(kind)


def credits(c):
    kind, *args = c
    if kind == "fixed":
        return get_fixed_credits_config(int(args[0]), int(args[1]))
    if kind == "dynamic":
        return get_dynamic_credits_config(int(args[0]), int(args[1]), int(args[2]))
    if kind == "expirable":
        return get_expirable_duration_config(int(args[0]))
    if kind == "nonExpirable":
        return get_non_expirable_duration_config()
    if kind == "payg":
        return get_pay_as_you_go_credits_config()
    raise ValueError(kind)


def agent_api(c):
    endpoints = [Endpoint(verb=verb, url=url) for verb, url in c.get("endpoints", [])] or None
    return AgentAPIAttributes(endpoints=endpoints, agent_definition_url=c.get("definitionUrl"))


def payment_required(c):
    return build_payment_required(c["planId"], endpoint=c["endpoint"], agent_id=c["agentId"], http_verb=c["httpVerb"], network="eip155:84532")


def run(c):
    p, kind = payments, c["call"]
    if kind in ("registerCreditsPlan", "registerTimePlan", "registerCreditsTrialPlan", "registerTimeTrialPlan"):
        method = {"registerCreditsPlan": p.plans.register_credits_plan, "registerTimePlan": p.plans.register_time_plan, "registerCreditsTrialPlan": p.plans.register_credits_trial_plan, "registerTimeTrialPlan": p.plans.register_time_trial_plan}[kind]
        return method(PlanMetadata(**c["metadata"]), price(c["price"]), credits(c["credits"]), organization_id=c.get("organizationId"))
    if kind == "registerAgent":
        return p.agents.register_agent(AgentMetadata(**c["metadata"]), agent_api(c), c["plans"], organization_id=c.get("organizationId"))
    if kind == "registerAgentAndPlan":
        return p.agents.register_agent_and_plan(AgentMetadata(**c["metadata"]), agent_api(c), PlanMetadata(**c["plan"]), price(c["price"]), credits(c["credits"]), organization_id=c.get("organizationId"))
    if kind == "getPlan":
        return p.plans.get_plan(c["planId"])
    if kind == "getPlans":
        pagination = PaginationOptions(page=c["page"], offset=c["offset"], sort_by=c["sortBy"], sort_order=c["sortOrder"]) if "page" in c else None
        return p.plans.get_user_plans(pagination=pagination)
    if kind == "getAgent":
        return p.agents.get_agent(c["agentId"])
    if kind == "getAgentPlans":
        pagination = PaginationOptions(page=c["page"], offset=c["offset"]) if "page" in c else None
        return p.agents.get_agent_plans(c["agentId"], pagination)
    if kind == "getPlanBalance":
        return p.plans.get_plan_balance(c["planId"], c["holder"])
    if kind == "orderPlan":
        return p.plans.order_plan(c["planId"])
    if kind == "orderFiatPlan":
        return p.plans.order_fiat_plan(c["planId"])
    if kind == "createDelegation":
        fields = {"providerPaymentMethodId": "provider_payment_method_id", "spendingLimitCents": "spending_limit_cents", "durationSecs": "duration_secs", "maxTransactions": "max_transactions"}
        return p.delegation.create_delegation(CreateDelegationPayload(**{fields.get(k, k): v for k, v in c["payload"].items()}))
    if kind == "listDelegations":
        return p.delegation.list_delegations()
    if kind == "listPaymentMethods":
        return p.delegation.list_payment_methods(provider=c["provider"]) if "provider" in c else p.delegation.list_payment_methods()
    if kind == "getX402AccessToken":
        if "inline" in c:
            fields = {"providerPaymentMethodId": "provider_payment_method_id", "spendingLimitCents": "spending_limit_cents", "durationSecs": "duration_secs"}
            config = DelegationConfig(**{fields.get(k, k): v for k, v in c["inline"].items()})
        else:
            config = DelegationConfig(delegation_id=c["delegationId"])
        options = {"delegation_config": config}
        for ours, theirs in (("scheme", "scheme"), ("network", "network"), ("tokenVersion", "token_version"), ("resource", "resource"), ("httpVerb", "http_verb")):
            if ours in c:
                options[theirs] = c[ours]
        return p.x402.get_x402_access_token(c["planId"], c.get("agentId"), token_options=X402TokenOptions(**options))
    if kind == "verifyPermissions":
        return p.facilitator.verify_permissions(payment_required(c), c["token"], max_amount=c.get("maxAmount"))
    if kind == "settlePermissions":
        return p.facilitator.settle_permissions(payment_required(c), c["token"], max_amount=c["maxAmount"], agent_request_id=c["agentRequestId"])
    if kind == "requiresPayment":
        from payments_py.x402.langchain import requires_payment

        @requires_payment(payments=p, plan_id=c["planId"], credits=c["credits"], agent_id=c["agentId"])
        def search(query, config=None):
            return "results for " + query

        return search(query="q", config={"configurable": {"payment_token": encode_access_token(c["tokenClaims"])}})
    if kind == "getDeploymentInfo":
        return p.contracts_api.get_deployment_info()
    if kind == "getAgents":
        pagination = PaginationOptions(page=c["page"], offset=c["offset"], sort_by=c["sortBy"], sort_order=c["sortOrder"]) if "page" in c else None
        return p.agents.get_user_agents(org_id=c.get("orgId"), pagination=pagination)
    if kind == "getAgentsAssociatedToAPlan":
        pagination = PaginationOptions(page=c["page"], offset=c["offset"]) if "page" in c else None
        return p.plans.get_agents_associated_to_plan(c["planId"], pagination)
    if kind == "updateAgentMetadata":
        return p.agents.update_agent_metadata(c["agentId"], AgentMetadata(**c["metadata"]), agent_api(c))
    if kind == "addPlanToAgent":
        return p.agents.add_plan_to_agent(c["planId"], c["agentId"])
    if kind == "removePlanFromAgent":
        return p.agents.remove_plan_from_agent(c["planId"], c["agentId"])
    if kind == "createOrder":
        o = dict(c["options"])
        names = {"buyerRef": "buyer_ref", "idempotencyKey": "idempotency_key", "lineItems": "line_items", "captureMode": "capture_mode", "paymentProvider": "payment_provider"}
        amount = o.pop("amountMinor")
        return p.orders.create_order(amount, **{names.get(k, k): v for k, v in o.items()})
    if kind == "getOrder":
        return p.orders.get_order(c["orderId"])
    if kind == "createMember":
        return p.organizations.create_member(c["userId"], c.get("email"), c.get("role"))
    if kind == "onboardCustomer":
        return p.organizations.onboard_customer(c["email"])
    if kind == "getMembers":
        if "page" in c:
            return p.organizations.get_members(c["role"], c["isActive"], c["page"], c["offset"])
        return p.organizations.get_members()
    if kind == "getMyMemberships":
        return p.organizations.get_my_memberships()
    if kind == "getOrganizationActivity":
        f = c.get("filters")
        names = {"eventType": "event_type", "actorUserId": "actor_user_id"}
        return p.organizations.get_organization_activity(c["orgId"], OrganizationActivityFilters(**{names.get(k, k): v for k, v in f.items()}) if f else None)
    if kind == "connectStripeAccount":
        return p.organizations.connect_stripe_account(c["email"], c["countryCode"], c["returnUrl"])
    raise ValueError(f"unknown call {kind}")


for c in spec["calls"]:
    mark(c["id"])
    try:
        run(c)
        print(json.dumps({"id": c["id"], "ok": True}))
    except Exception as e:  # noqa: BLE001 - every outcome is reported, the test decides
        print(json.dumps({"id": c["id"], "ok": False, "error": f"{type(e).__name__}: {str(e)[:300]}"}))


def pure(c):
    if c["helper"] == "tokenVersion":
        token = c["raw"] if "raw" in c else encode_access_token(c["token"])
        return [detect_access_token_version(token), is_single_use_access_token(token)]
    if c["helper"] == "alreadyUsed":
        return is_access_token_already_used(PaymentsError("refused", c["code"]))
    raise ValueError(c["helper"])


for c in spec.get("pure", []):
    try:
        print(json.dumps({"id": c["id"], "ok": True, "value": pure(c)}))
    except Exception as e:  # noqa: BLE001 - every outcome is reported, the test decides
        print(json.dumps({"id": c["id"], "ok": False, "error": f"{type(e).__name__}: {str(e)[:300]}"}))
