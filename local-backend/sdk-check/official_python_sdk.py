"""Drives a running nvm-local with the official Python SDK (payments-py), unchanged.

Manual check (needs PyPI, so it is not part of `cargo test`):

    python3 -m venv /tmp/nvm-sdk && /tmp/nvm-sdk/bin/pip install payments-py==1.18.0
    cargo run -p nvm-local -- --memory --port 3911 &
    NVM_BACKEND_URL=http://127.0.0.1:3911 /tmp/nvm-sdk/bin/python local-backend/sdk-check/official_python_sdk.py

Exits non-zero when any step fails.
"""
import json
import os
import sys
import urllib.request
import warnings

warnings.simplefilter("ignore")
from payments_py import Payments, PaymentOptions  # noqa: E402
from payments_py.common.types import PlanMetadata  # noqa: E402
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
step("agents.get_agent_plans", lambda: subscriber.agents.get_agent_plans(agent), lambda r: len(r["plans"]) == 2)
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
step("plans.get_user_plans", lambda: builder.plans.get_user_plans(), lambda r: r["total"] == 3)
step("plans.order_fiat_plan", lambda: subscriber.plans.order_fiat_plan(fiat), lambda r: r["result"]["checkoutLink"].startswith(base))
print(f"{len(failures)} failed" if failures else "all steps passed")
sys.exit(1 if failures else 0)
