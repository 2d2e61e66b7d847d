"""Drives a running nvm-local with the official Python SDK (payments-py), unchanged.

Run by the README's test command (tests/js/node/official-sdk.test.mjs starts
nvm-local on a free port); by hand, with the venv scripts/setup.sh installs:

    target/release/nvm-local --memory --port 3911 &
    NVM_BACKEND_URL=http://127.0.0.1:3911 .cache/payments-py/bin/python local-backend/sdk-check/official_python_sdk.py

An agent with endpoints is registered over the raw API: payments-py can't
register one (its Endpoint model sends {verb, url}, payments-py#274). Exits
non-zero when any step fails.
"""
import json
import os
import sys
import urllib.request
import warnings

warnings.simplefilter("ignore")
from payments_py import Payments, PaymentOptions  # noqa: E402
from payments_py.common.types import AgentAPIAttributes, AgentMetadata, PlanMetadata  # noqa: E402
from payments_py.x402.delegation_api import CreateDelegationPayload  # noqa: E402
from payments_py.x402.helpers import build_payment_required  # noqa: E402
from payments_py.x402.types import DelegationConfig, X402TokenOptions  # noqa: E402

base = os.environ.get("NVM_BACKEND_URL", "http://localhost:3001")
world = json.load(urllib.request.urlopen(base + "/local/v1/demo"))
subscriber = Payments.get_instance(PaymentOptions(nvm_api_key=world["accounts"]["subscriber"]["apiKey"], environment="custom"))
builder = Payments.get_instance(PaymentOptions(nvm_api_key=world["accounts"]["builder"]["apiKey"], environment="custom"))
free, fiat, agent = world["plans"]["free"]["planId"], world["plans"]["fiat"]["planId"], world["agent"]["agentId"]
failures = []


def step(name, run, check=lambda r: True):
    try:
        result = run()
        if not check(result):
            raise AssertionError(f"unexpected answer: {str(result)[:300]}")
        print("ok  ", name)
        return result
    except Exception as e:  # noqa: BLE001 - report every failing step
        print("FAIL", name, type(e).__name__, str(e)[:300])
        failures.append(name)
        return None


step("plans.get_plan", lambda: subscriber.plans.get_plan(free), lambda r: r["id"] == free)
step("agents.get_agent", lambda: subscriber.agents.get_agent(agent), lambda r: r["id"] == agent)
# The demo agent takes every demo plan (free, fiat, pay-as-you-go).
demo_plans = {p["planId"] for p in world["plans"].values()}
step("agents.get_agent_plans", lambda: subscriber.agents.get_agent_plans(agent), lambda r: {p["id"] for p in r["plans"]} == demo_plans)
step("plans.order_plan", lambda: subscriber.plans.order_plan(free), lambda r: r["success"])
step("plans.get_plan_balance", lambda: subscriber.plans.get_plan_balance(free), lambda r: int(r.balance) == 10)
step("delegation.list_payment_methods", lambda: subscriber.delegation.list_payment_methods(), lambda r: r[0].last4 == "4242")
delegation = step(
    "delegation.create_delegation",
    lambda: subscriber.delegation.create_delegation(CreateDelegationPayload(provider="erc4337", spending_limit_cents=1000, duration_secs=3600, currency="usdc")),
)
step("delegation.list_delegations", lambda: subscriber.delegation.list_delegations(), lambda r: r[0].id == delegation.delegation_id)
token = step(
    "x402.get_x402_access_token",
    lambda: subscriber.x402.get_x402_access_token(free, agent, token_options=X402TokenOptions(delegation_config=DelegationConfig(delegation_id=delegation.delegation_id))),
    lambda r: r["accessToken"],
)
required = build_payment_required(plan_id=free, endpoint=world["agent"]["url"], agent_id=agent, http_verb="POST")
step("facilitator.verify_permissions", lambda: builder.facilitator.verify_permissions(payment_required=required, x402_access_token=token["accessToken"], max_amount="1"), lambda r: r.is_valid)
step("facilitator.settle_permissions", lambda: builder.facilitator.settle_permissions(payment_required=required, x402_access_token=token["accessToken"], max_amount="1"), lambda r: r.success and r.remaining_balance == "9")
step("plans.get_plan_balance after settle", lambda: subscriber.plans.get_plan_balance(free), lambda r: int(r.balance) == 9)
step(
    "plans.register_credits_plan",
    lambda: builder.plans.register_credits_plan(PlanMetadata(name="py plan"), builder.plans.get_free_price_config(), builder.plans.get_fixed_credits_config(5, 1)),
    lambda r: r["planId"],
)
step("plans.get_user_plans", lambda: builder.plans.get_user_plans(), lambda r: r["total"] == len(demo_plans) + 1)
step("plans.order_fiat_plan", lambda: subscriber.plans.order_fiat_plan(fiat), lambda r: r["result"]["checkoutLink"].startswith(base))


def raw(method, path, key, body=None):
    request = urllib.request.Request(base + path, data=None if body is None else json.dumps(body).encode(), method=method, headers={"content-type": "application/json", "authorization": f"Bearer {key}"})
    return json.load(urllib.request.urlopen(request))


def refused(run, *signs):
    """A step that must fail; payments-py maps some codes to typed errors, so any of `signs` in the error's type, code and text will do."""
    def check():
        try:
            run()
        except Exception as e:  # noqa: BLE001
            if any(sign in f"{type(e).__name__} {getattr(e, 'code', '')} {e}" for sign in signs):
                return True
            raise
        raise AssertionError(f"expected a refusal ({signs[0]}), got success")
    return check


# An agent with an endpoint allowlist, over the raw API, then single-use (v3) tokens bound to it.
builder_key = world["accounts"]["builder"]["apiKey"]
endpoint = world["agent"]["url"].rsplit("/", 1)[0] + "/bound"
bound = step(
    "raw registerAgent with endpoints",
    lambda: raw("POST", "/api/v1/protocol/agents", builder_key, {"metadataAttributes": {"name": "py-bound"}, "agentApiAttributes": {"endpoints": [{"POST": endpoint}]}, "plans": [free]}),
    lambda r: r["data"]["agentId"],
)
bound_id = bound["data"]["agentId"] if bound else ""
v3 = step(
    "x402.get_x402_access_token v3 (resource + http_verb)",
    lambda: subscriber.x402.get_x402_access_token(free, bound_id, token_options=X402TokenOptions(delegation_config=DelegationConfig(delegation_id=delegation.delegation_id), token_version=3, resource=endpoint, http_verb="POST")),
    lambda r: r["tokenVersion"] == 3,
)
bound_required = build_payment_required(plan_id=free, endpoint=endpoint, agent_id=bound_id, http_verb="POST")
elsewhere = build_payment_required(plan_id=free, endpoint=endpoint + "/other", agent_id=bound_id, http_verb="POST")
step("facilitator.verify_permissions v3 off the allowlist", lambda: builder.facilitator.verify_permissions(payment_required=elsewhere, x402_access_token=v3["accessToken"], max_amount="1"), lambda r: not r.is_valid)
step("facilitator.verify_permissions v3", lambda: builder.facilitator.verify_permissions(payment_required=bound_required, x402_access_token=v3["accessToken"], max_amount="1"), lambda r: r.is_valid)
step("facilitator.settle_permissions v3", lambda: builder.facilitator.settle_permissions(payment_required=bound_required, x402_access_token=v3["accessToken"], max_amount="1"), lambda r: r.success and r.remaining_balance == "8")
step("facilitator.settle_permissions v3 again: single use", refused(lambda: builder.facilitator.settle_permissions(payment_required=bound_required, x402_access_token=v3["accessToken"], max_amount="1"), "BCK.X402.0059", "AccessTokenAlreadyUsedError"))
# Registration through payments-py itself: an agent with its plan (no endpoints), readable back.
both = step(
    "agents.register_agent_and_plan",
    lambda: builder.agents.register_agent_and_plan(AgentMetadata(name="py agent"), AgentAPIAttributes(), PlanMetadata(name="py agent plan"), builder.plans.get_fiat_price_config(2_000_000, world["accounts"]["builder"]["address"], "EUR"), builder.plans.get_fixed_credits_config(10, 1)),
    lambda r: r["agentId"] and r["planId"],
)
step("agents.get_agent_plans of it", lambda: subscriber.agents.get_agent_plans(both["agentId"]), lambda r: r["plans"][0]["id"] == both["planId"])
step("plans.get_plan keeps the EUR price", lambda: subscriber.plans.get_plan(both["planId"]), lambda r: r["registry"]["price"]["currency"] == "EUR")
step("a subscriber can't attach the builder's plan to an agent", refused(lambda: subscriber.agents.register_agent(AgentMetadata(name="thief"), AgentAPIAttributes(), [free]), "BCK.PROTOCOL.0908", "only its owner can attach it"))
# Card orders: the builder (the demo organization's Admin) is a merchant; anyone reads an order by its id.
order = step("orders.create_order", lambda: builder.orders.create_order(3437, description="py cart", idempotency_key="py-order-1", metadata={"k": 1}), lambda r: r.status == "requires_payment" and r.client_secret)
step("orders.create_order again: the same order", lambda: builder.orders.create_order(3437, idempotency_key="py-order-1"), lambda r: r.order_id == order.order_id)
step("orders.create_order with another amount: the conflict", refused(lambda: builder.orders.create_order(3438, idempotency_key="py-order-1"), "BCK.ORDER.0007"))
step("orders.create_order by a personal account", refused(lambda: subscriber.orders.create_order(500), "BCK.ORDER.0003"))
step("orders.get_order", lambda: subscriber.orders.get_order(order.order_id), lambda r: r.amount_minor == 3437 and r.amount_refunded_minor == 0 and r.client_secret == order.client_secret)
step("orders.get_order of an unknown id", refused(lambda: subscriber.orders.get_order("ord_nope"), "BCK.ORDER.0002"))
print(f"{len(failures)} failed" if failures else "all steps passed")
sys.exit(1 if failures else 0)
