//! What the package answers its users is described once too: each answer the
//! core hands to JS (through the same method table, `nvm_x402::bridge`, for the
//! answers it builds; through the call's parser for those it passes on from the
//! backend) reads into its description here and writes back the same JSON, so
//! a field the core adds, renames or retypes fails until the struct (and with
//! it the generated `wire-types.d.ts`) says so.

use nvm_x402::bridge;
use nvm_x402::json;
use nvm_x402::protocol::json::Value;
use nvm_x402::protocol::token::encode_access_token;
use nvm_x402::protocol::PaymentsOptions;
use nvm_x402::transport::{HttpRequest, HttpResponse, Transport};
use nvm_x402::Payments;
use nvm_x402_types::agents::{RegisterAgentAndPlanResult, RegisterAgentResult};
use nvm_x402_types::contracts::{ApiInfo, DeploymentInfo};
use nvm_x402_types::delegation::{DelegationList, PaymentMethodSummary, PurchasingPower};
use nvm_x402_types::fields;
use nvm_x402_types::orders::{CreateOrderResult, Order};
use nvm_x402_types::organizations::{
    CreateUserResponse, CustomerOnboardingResponse, MyMembership, OrganizationActivityPage,
    OrganizationMembersResponse, StripeAccountConnectResult,
};
use nvm_x402_types::plans::{
    CreditsConfig, CreditsConfigResult, FiatCheckoutResult, ListPlansOptions, OrderResult,
    PaginationOptions, PlansQuery, PriceConfig, PriceConfigResult, RegisterPlanResult,
};
use nvm_x402_types::x402::{AccessToken, ResolvedScheme, StartProcessingResult};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

/// The answer (JSON text) reads into `T`, and `T` writes the same JSON back:
/// nothing the answer carries is dropped, renamed or retyped. Returns the typed value.
fn reads_back<T: DeserializeOwned + Serialize>(answer: &str) -> T {
    let name = std::any::type_name::<T>();
    let typed: T = serde_json::from_str(answer)
        .unwrap_or_else(|e| panic!("{name} does not read the answer {answer}: {e}"));
    let sent: serde_json::Value = serde_json::from_str(answer).unwrap();
    assert_eq!(
        serde_json::to_value(&typed).unwrap(),
        sent,
        "{name} does not write back the answer"
    );
    typed
}

/// A backend that answers each request with `answer(request)`.
struct Backend<F: Fn(&HttpRequest) -> (u16, Value)>(F);

impl<F: Fn(&HttpRequest) -> (u16, Value)> Transport for Backend<F> {
    async fn send(&self, request: HttpRequest) -> nvm_x402::Result<HttpResponse> {
        let (status, body) = (self.0)(&request);
        Ok(HttpResponse {
            status,
            body: body.to_string(),
        })
    }

    fn now_ms(&self) -> u64 {
        1_700_000_000_000
    }
}

struct Noop;

impl Wake for Noop {
    fn wake(self: Arc<Self>) {}
}

/// Runs a future whose transport answers at once.
fn block_on<F: Future>(future: F) -> F::Output {
    let waker = Waker::from(Arc::new(Noop));
    let mut future = std::pin::pin!(future);
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut Context::from_waker(&waker)) {
            return out;
        }
    }
}

/// What the JS method `method` answers for `args` (a JSON array), against `backend`.
fn call(backend: impl Fn(&HttpRequest) -> (u16, Value), method: &str, args: Value) -> String {
    let options = PaymentsOptions {
        nvm_api_key: Some("sandbox:eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIweGFiYyJ9.c2ln".into()),
        ..Default::default()
    };
    let payments = Payments::new(&options, Backend(backend)).unwrap();
    block_on(bridge::call(&payments, method, &args.to_string()))
        .unwrap_or_else(|e| panic!("{method}: {e}"))
}

fn offline(request: &HttpRequest) -> (u16, Value) {
    panic!(
        "no backend call expected: {} {}",
        request.method, request.url
    )
}

/// A Nevermined access token, as nvm-local mints one.
fn token(nonce: bool) -> String {
    let mut authorization = json!({"from": "0xsub", "sessionKeysProvider": "zerodev", "sessionKeys": [{"id": "del-1", "data": "0x01"}]});
    if nonce {
        authorization["nonce"] = json!("n-1");
    }
    let token = json!({
        "x402Version": 2,
        "accepted": {"scheme": "nvm:erc4337", "network": "eip155:84532", "planId": "7", "extra": {"version": "1", "agentId": "agent-1"}},
        "payload": {"signature": "0xsig", "authorization": authorization},
        "extensions": {}
    });
    encode_access_token(token.as_object().unwrap())
}

#[test]
fn decoded_access_tokens() {
    let standard = include_str!("../../tests/vectors/x402-v2-http-spec.json");
    let doc: serde_json::Value = serde_json::from_str(standard).unwrap();
    let signature = doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["header"] == "payment-signature")
        .unwrap()["value"]
        .as_str()
        .unwrap()
        .to_owned();
    let card = encode_access_token(json!({"x402Version": 2, "accepted": {"scheme": "nvm:card-delegation", "network": "stripe", "planId": "7", "extra": {}}, "resource": {"url": "https://a.example/t"}, "payload": {"token": "jwt", "signature": "0x", "authorization": {"from": "0xsub"}}}).as_object().unwrap());
    for token in [token(false), token(true), card, signature] {
        for function in ["decodeAccessToken", "tryDecodeAccessToken"] {
            let answer = bridge::call_sync(function, &json!([token]).to_string()).unwrap();
            let decoded = if function == "decodeAccessToken" {
                answer
            } else {
                let v: serde_json::Value = serde_json::from_str(&answer).unwrap();
                assert_eq!(v["ok"], true, "{answer}");
                v["token"].to_string()
            };
            let typed: AccessToken = reads_back(&decoded);
            assert!(typed.payload.and_then(|p| p.authorization).is_some());
        }
    }
}

#[test]
fn start_processing_request() {
    let url = "https://agent.example/tasks";
    // No token: answered without a backend call.
    let answer = call(
        offline,
        "requests.startProcessingRequest",
        json!(["agent-1", null, url, "POST"]),
    );
    let typed: StartProcessingResult = reads_back(&answer);
    assert!(!typed.is_valid && typed.plan_id.is_none());
    let answer = call(
        offline,
        "requests.startProcessingRequest",
        json!(["agent-1", "not a token", url, "POST", {"planId": "7"}]),
    );
    let typed: StartProcessingResult = reads_back(&answer);
    assert_eq!(typed.balance.plan_id, "7");

    // Verify answers with the balance.
    let verified = |request: &HttpRequest| {
        assert!(
            request.url.ends_with("/api/v1/x402/verify"),
            "{}",
            request.url
        );
        (
            200,
            json!({"isValid": true, "payer": "0xsub", "agentRequestId": "req-1", "agentRequest": {"agentRequestId": "req-1", "balance": {"planId": 7, "planName": "Pro", "planType": "credits", "holderAddress": "0xsub", "balance": 9, "creditsContract": "0xc", "isSubscriber": true, "pricePerCredit": 1}}}),
        )
    };
    let answer = call(
        verified,
        "requests.startProcessingRequest",
        json!(["agent-1", token(false), url, "POST", {"credits": "2"}]),
    );
    let typed: StartProcessingResult = reads_back(&answer);
    assert_eq!(
        (typed.is_valid, typed.balance.balance.as_str()),
        (true, "9")
    );
    assert!(typed.payment_required.is_some());

    // Verify answers without one: the balance is asked for.
    let asked = |request: &HttpRequest| {
        if request.url.ends_with("/api/v1/x402/verify") {
            (200, json!({"isValid": true, "payer": "0xsub"}))
        } else {
            assert!(request.url.contains("/balance/0xsub"), "{}", request.url);
            (
                200,
                json!({"planId": "7", "holderAddress": "0xsub", "balance": "3", "isSubscriber": true}),
            )
        }
    };
    let answer = call(
        asked,
        "requests.startProcessingRequest",
        json!(["agent-1", token(true), url, "GET"]),
    );
    let typed: StartProcessingResult = reads_back(&answer);
    assert_eq!(typed.balance.balance.as_str(), "3");

    // A "no".
    let refused = |_: &HttpRequest| {
        (
            200,
            json!({"isValid": false, "invalidReason": "Insufficient balance"}),
        )
    };
    let answer = call(
        refused,
        "requests.startProcessingRequest",
        json!(["agent-1", token(false), url, "POST"]),
    );
    let typed: StartProcessingResult = reads_back(&answer);
    assert_eq!(
        typed.invalid_reason.as_deref(),
        Some("Insufficient balance")
    );
}

#[test]
fn resolve_scheme() {
    for (plan, scheme, network) in [
        (
            json!({"registry": {"price": {"isCrypto": true}}}),
            "nvm:erc4337",
            "eip155:84532",
        ),
        (
            json!({"registry": {"price": {"isCrypto": false}}, "metadata": {"plan": {"fiatPaymentProvider": "braintree"}}}),
            "nvm:card-delegation",
            "braintree",
        ),
    ] {
        let answer = call(
            |request: &HttpRequest| {
                assert!(request.url.ends_with("/api/v1/protocol/plans/7"));
                (200, plan.clone())
            },
            "resolveScheme",
            json!(["7"]),
        );
        let typed: ResolvedScheme = reads_back(&answer);
        assert_eq!(
            (typed.scheme.as_str(), typed.network.as_str()),
            (scheme, network)
        );
    }
}

#[test]
fn price_and_credits_helpers() {
    let receiver = "0x1234567890abcdef1234567890ABCDEF12345678";
    let usdc = "0x036CbD53842c5426634e7929541eC2318f3dCF7e";
    let prices = [
        ("getFreePriceConfig", json!([])),
        ("getCryptoPriceConfig", json!(["5", receiver])),
        ("getCryptoPriceConfig", json!([5, receiver, usdc])),
        ("getNativeTokenPriceConfig", json!([1, receiver])),
        ("getERC20PriceConfig", json!(["5", usdc, receiver])),
        ("getFiatPriceConfig", json!([1_000_000, receiver])),
        ("getFiatPriceConfig", json!(["3000000", receiver, "EUR"])),
        ("getEURCPriceConfig", json!([29_000_000, receiver])),
    ];
    for (helper, args) in prices {
        let answer = bridge::call_sync(helper, &args.to_string()).unwrap();
        let typed: PriceConfigResult = reads_back(&answer);
        assert!(typed.other.is_empty(), "{helper}: {answer}");
        // And it is a priceConfig the registration takes as it is.
        reads_back::<PriceConfig>(&answer);
    }
    let credits = [
        ("getFixedCreditsConfig", json!([100])),
        ("getFixedCreditsConfig", json!(["100", 2])),
        ("getDynamicCreditsConfig", json!([100, 1, 5])),
        ("getExpirableDurationConfig", json!([86_400])),
        ("getNonExpirableDurationConfig", json!([])),
    ];
    for (helper, args) in credits {
        let answer = bridge::call_sync(helper, &args.to_string()).unwrap();
        let typed: CreditsConfigResult = reads_back(&answer);
        assert!(
            typed.other.is_empty() && typed.redemption_type == 4,
            "{helper}: {answer}"
        );
        reads_back::<CreditsConfig>(&answer);
    }
}

#[test]
fn orders() {
    // As nvm-local answers, and with what the official SDK's NvmAPIResult adds.
    for sent in [
        json!({"success": true, "txHash": "0xabc", "message": "Plan 7 ordered: 100 credits granted"}),
        json!({"success": false, "message": "no", "httpStatus": 400, "data": {"a": 1}}),
    ] {
        let answer = call(
            |request: &HttpRequest| {
                // The plan (a crypto one: a fiat plan is refused before anything is bought),
                // the caller's balance, then the order.
                if request.url.ends_with("/api/v1/protocol/plans/7") {
                    return (
                        200,
                        json!({"id": "7", "registry": {"price": {"isCrypto": true}}}),
                    );
                }
                if request
                    .url
                    .ends_with("/api/v1/protocol/plans/7/balance/0xabc")
                {
                    return (
                        200,
                        json!({"planId": "7", "balance": "7", "isSubscriber": true}),
                    );
                }
                assert!(request.url.ends_with("/api/v1/protocol/plans/7/order"));
                (200, sent.clone())
            },
            "plans.orderPlan",
            json!(["7"]),
        );
        let typed: OrderResult = reads_back(&answer);
        assert_eq!(
            (typed.already_subscribed, typed.balance_before.as_deref()),
            (Some(true), Some("7"))
        );
    }
    // Times as nvm-local writes them (ISO 8601) and as the official SDK types them (epoch ms).
    for sent in [
        json!({"result": {"stripeCheckoutSessionId": "cs_1", "checkoutLink": "http://127.0.0.1:3001/checkout/cs_1", "clientReferenceId": "0xsub", "linkCreatedAt": "2026-01-01T00:00:00.000Z", "linkExpiresAt": "2026-01-01T00:30:00.000Z"}}),
        json!({"result": {"stripeCheckoutSessionId": "cs_2", "checkoutLink": "https://checkout.stripe.com/c/cs_2", "clientReferenceId": "0xsub", "paymentStatus": "unpaid", "linkCreatedAt": 1_767_225_600_000_u64, "linkExpiresAt": 1_767_227_400_000_u64}}),
    ] {
        let answer = call(
            |request: &HttpRequest| {
                assert!(request.url.ends_with("/api/v1/fiat/stripe/payment"));
                (200, sent.clone())
            },
            "plans.orderFiatPlan",
            json!(["7"]),
        );
        let typed: FiatCheckoutResult = reads_back(&answer);
        assert!(typed.result.checkout_link.contains("cs_"));
    }
}

#[test]
fn card_orders() {
    // As nvm-local answers, and as the official SDK's tests have the backend answer.
    for sent in [
        json!({"orderId": "ord_1", "status": "requires_payment", "clientSecret": "pi_1_secret_2"}),
        json!({"orderId": "ord_1", "status": "paid"}),
    ] {
        let answer = call(
            |request: &HttpRequest| {
                assert!(request.url.ends_with("/api/v1/orders"));
                (201, sent.clone())
            },
            "orders.createOrder",
            json!([{"amountMinor": 3437}]),
        );
        let typed: CreateOrderResult = reads_back(&answer);
        assert_eq!(typed.order_id, "ord_1");
    }
    for sent in [
        json!({"id": "ord_1", "amountMinor": 3437, "currency": "usd", "status": "requires_payment", "amountRefundedMinor": 0, "description": "Cart", "buyerRef": null, "paymentIntentId": "pi_1", "expiresAt": null, "clientSecret": "pi_1_secret_2"}),
        json!({"id": "ord_1", "amountMinor": 3437, "currency": "usd", "status": "partially_refunded", "amountRefundedMinor": 1000, "description": null, "buyerRef": "cart-9", "paymentIntentId": "pi_1", "expiresAt": "2026-01-02T00:00:00.000Z"}),
    ] {
        let answer = call(
            |request: &HttpRequest| {
                assert!(request.url.ends_with("/api/v1/orders/ord_1"));
                assert_eq!(request.header("authorization"), None);
                (200, sent.clone())
            },
            "orders.getOrder",
            json!(["ord_1"]),
        );
        let typed: Order = reads_back(&answer);
        assert!(nvm_x402_types::orders::ORDER_STATUSES.contains(&typed.status.as_str()));
    }
}

#[test]
fn pagination_options_are_what_the_core_reads() {
    assert_eq!(
        fields::<PaginationOptions>(),
        ["sortBy", "sortOrder", "page", "offset"]
    );
    let options = PaginationOptions {
        sort_by: Some("name".into()),
        sort_order: Some("asc".into()),
        page: Some(3),
        offset: Some(25),
    };
    let given = serde_json::to_value(&options).unwrap();
    for (method, page_size) in [
        ("plans.getPlans", "offset"),
        ("agents.getAgentPlans", "pageSize"),
    ] {
        let args = if method == "plans.getPlans" {
            json!([given])
        } else {
            json!(["agent-1", given])
        };
        call(
            |request: &HttpRequest| {
                let query = request.url.split_once('?').map_or("", |(_, q)| q);
                let sent: PlansQuery = serde_urlencoded::from_str(query).unwrap();
                let size = if page_size == "offset" {
                    sent.offset
                } else {
                    sent.page_size
                };
                assert_eq!(
                    (
                        sent.sort_by.as_deref(),
                        sent.sort_order.as_deref(),
                        sent.page,
                        size
                    ),
                    (Some("name"), Some("asc"), Some(3), Some(25)),
                    "{method}: {}",
                    request.url
                );
                (200, json!({"plans": []}))
            },
            method,
            args,
        );
    }
}

#[test]
fn delegation_lists() {
    // As nvm-local lists them (a bare list; cents as numbers; both SDKs' field names), and as the
    // official SDK types a page of them (cents as decimal strings).
    let card = json!({"delegationId": "del-1", "id": "del-1", "provider": "stripe", "providerPaymentMethodId": "pm_1", "cardId": "pm_1", "status": "active", "spendingLimitCents": 1000, "amountSpentCents": 100, "spentCents": 100, "remainingBudgetCents": 900, "currency": "usd", "transactionCount": 1, "maxTransactions": null, "durationSecs": 3600, "expiresAt": "2026-01-01T01:00:00.000Z", "createdAt": "2026-01-01T00:00:00.000Z", "planId": null, "merchantAccountId": null, "apiKeyId": null});
    let mut crypto = card.clone();
    for (key, value) in [
        ("delegationId", json!("del-2")),
        ("provider", json!("erc4337")),
        ("providerPaymentMethodId", Value::Null),
        ("cardId", Value::Null),
        ("currency", json!("usdc")),
        ("apiKeyId", json!("key-1")),
    ] {
        crypto[key] = value;
    }
    let official = json!({"delegations": [{"delegationId": "del-3", "provider": "visa", "providerPaymentMethodId": "vt_1", "status": "Active", "spendingLimitCents": "5000", "amountSpentCents": "0", "remainingBudgetCents": "5000", "currency": "usd", "transactionCount": 0, "expiresAt": "2026-02-01T00:00:00.000Z", "createdAt": "2026-01-01T00:00:00.000Z", "apiKeyId": null}], "totalResults": 11, "page": 2, "offset": 10});
    for sent in [json!([card, crypto]), official, json!([])] {
        let answer = call(
            |request: &HttpRequest| {
                assert!(request.url.contains("/api/v1/delegation"));
                (200, sent.clone())
            },
            "delegation.listDelegations",
            json!([{"accessible": true}]),
        );
        let typed: DelegationList = reads_back(&answer);
        assert!(typed.delegations.len() as u64 <= typed.total_results);
    }

    // As nvm-local lists them (`alias` null when unset), and with the official SDK's `allowedApiKeyIds`.
    let methods = json!([
        {"id": "pm_1", "type": "card", "brand": "visa", "last4": "4242", "expMonth": 12, "expYear": 2030, "provider": "stripe", "alias": null, "status": "Active"},
        {"id": "0xabc", "type": "crypto_wallet", "brand": "ethereum", "last4": "0abc", "expMonth": 0, "expYear": 0, "provider": "erc4337", "alias": "wallet", "status": "Active", "allowedApiKeyIds": ["key-1"]},
        {"id": "pm_2", "type": "card", "brand": "mastercard", "allowedApiKeyIds": null},
    ]);
    for sent in [methods.clone(), json!({"paymentMethods": methods})] {
        let answer = call(
            |request: &HttpRequest| {
                assert!(request.url.contains("/api/v1/payment-methods"));
                (200, sent.clone())
            },
            "delegation.listPaymentMethods",
            json!([{"provider": "stripe"}]),
        );
        let typed: Vec<PaymentMethodSummary> = reads_back(&answer);
        assert_eq!(typed.len(), 3);
    }
}

#[test]
fn registrations() {
    let receiver = "0x1234567890abcdef1234567890ABCDEF12345678";
    let price = json!({"amounts": [1], "receivers": [receiver], "isCrypto": true});
    let credits = json!({"amount": 10, "minAmount": 1, "maxAmount": 1});
    // The backend's answers in their two shapes (top level, or under `data`).
    for sent in [
        json!({"planId": "7", "txHash": "0x1"}),
        json!({"data": {"planId": 7}}),
    ] {
        let answer = call(
            |_: &HttpRequest| (200, sent.clone()),
            "plans.registerCreditsPlan",
            json!([{"name": "P"}, price, credits]),
        );
        let typed: RegisterPlanResult = reads_back(&answer);
        assert_eq!(typed.plan_id, "7");
    }
    for sent in [
        json!({"data": {"agentId": "a-1", "txHash": "0x1"}}),
        json!({"agentId": "a-1"}),
    ] {
        let answer = call(
            |_: &HttpRequest| (200, sent.clone()),
            "agents.registerAgent",
            json!([{"name": "A"}, null, ["7"]]),
        );
        reads_back::<RegisterAgentResult>(&answer);
    }
    for sent in [
        json!({"data": {"agentId": "a-1", "planId": "7"}, "txHash": "0x1"}),
        json!({"agentId": "a-1", "planId": 7}),
    ] {
        let answer = call(
            |_: &HttpRequest| (200, sent.clone()),
            "agents.registerAgentAndPlan",
            json!([{"name": "A"}, null, {"name": "P"}, price, credits]),
        );
        let typed: RegisterAgentAndPlanResult = reads_back(&answer);
        assert_eq!(typed.plan_id, "7");
    }
}

#[test]
fn get_agents_takes_what_get_plans_takes() {
    let options = ListPlansOptions {
        pagination: PaginationOptions {
            sort_by: Some("name".into()),
            sort_order: Some("asc".into()),
            page: Some(2),
            offset: Some(25),
        },
        org_id: Some("org-1".into()),
    };
    let given = serde_json::to_value(&options).unwrap();
    // One object, or the official SDK's positional arguments: the same query.
    for method in ["plans.getPlans", "agents.getAgents"] {
        for args in [json!([given]), json!([2, 25, "name", "asc", "org-1"])] {
            call(
                |request: &HttpRequest| {
                    let query = request.url.split_once('?').map_or("", |(_, q)| q);
                    let sent: PlansQuery = serde_urlencoded::from_str(query).unwrap();
                    let read = ListPlansOptions {
                        pagination: PaginationOptions {
                            sort_by: sent.sort_by,
                            sort_order: sent.sort_order,
                            page: sent.page,
                            offset: sent.offset,
                        },
                        org_id: sent.org_id,
                    };
                    assert_eq!(read, options, "{method}: {}", request.url);
                    (200, json!({"total": 0}))
                },
                method,
                args,
            );
        }
    }
}

#[test]
fn deployment_and_purchasing_power() {
    // As nvm-local answers (every contract payments-py's Contracts model requires) and with the TS SDK's chainId.
    let info = json!({"version": "0.1.0", "deployment": {"version": "0.1.0", "chainId": 84532, "contracts": {"PayAsYouGoTemplate": "0x01", "PaymentsVault": "0x02"}}});
    reads_back::<ApiInfo>(&info.to_string());
    let answer = call(
        |request: &HttpRequest| {
            assert!(request.url.ends_with(":3001/") || request.url.ends_with(".app/"));
            (200, info.clone())
        },
        "contracts.getDeploymentInfo",
        json!([]),
    );
    let typed: DeploymentInfo = reads_back(&answer);
    assert_eq!(typed.contracts["PaymentsVault"], "0x02");

    let power = direct(
        |request: &HttpRequest| {
            assert!(request.url.contains("accessible=true"), "{}", request.url);
            if request.url.contains("/payment-methods") {
                (
                    200,
                    json!([{"id": "pm_1", "type": "card", "brand": "visa", "last4": "4242", "expMonth": 12, "expYear": 2030, "provider": "stripe", "alias": null, "status": "Active"}]),
                )
            } else {
                (
                    200,
                    json!([{"delegationId": "d1", "provider": "stripe", "providerPaymentMethodId": "pm_1", "status": "active", "spendingLimitCents": 1000, "amountSpentCents": 100, "remainingBudgetCents": 900, "currency": "usd", "transactionCount": 1, "expiresAt": "2030-01-01T00:00:00.000Z", "createdAt": "2026-01-01T00:00:00.000Z", "apiKeyId": null}]),
                )
            }
        },
        |p| block_on(p.get_purchasing_power()),
    );
    let typed: PurchasingPower = reads_back(&power);
    assert_eq!(
        (typed.total_remaining_budget_cents, typed.cards.len()),
        (900, 1)
    );

    let updated = direct(
        |request: &HttpRequest| {
            assert_eq!(request.method, "PATCH");
            (
                200,
                json!({"id": "pm_1", "type": "card", "brand": "visa", "last4": "4242", "alias": "Work", "allowedApiKeyIds": ["k1"]}),
            )
        },
        |p| {
            block_on(
                p.update_payment_method(
                    "pm_1",
                    &json!({"alias": "Work", "allowedApiKeyIds": ["k1"]}),
                )
                .send(),
            )
        },
    );
    reads_back::<PaymentMethodSummary>(&updated);
}

#[test]
fn agent_updates() {
    for (method, args, verb) in [
        (
            "agents.updateAgentMetadata",
            json!(["7", {"name": "A"}, null]),
            "PUT",
        ),
        ("agents.addPlanToAgent", json!(["1", "7"]), "POST"),
        ("agents.removePlanFromAgent", json!(["1", "7"]), "DELETE"),
    ] {
        let answer = call(
            |request: &HttpRequest| {
                assert_eq!(request.method, verb);
                (
                    200,
                    json!({"success": true, "txHash": "0x1", "message": "done"}),
                )
            },
            method,
            args,
        );
        reads_back::<OrderResult>(&answer);
    }
}

/// What a `Payments` call (not in the JS table) answers against `backend`, as JSON text.
fn direct<B: Fn(&HttpRequest) -> (u16, Value)>(
    backend: B,
    send: impl FnOnce(&Payments<Backend<B>>) -> nvm_x402::Result<Value>,
) -> String {
    let options = PaymentsOptions {
        nvm_api_key: Some("sandbox:eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIweGFiYyJ9.c2ln".into()),
        ..Default::default()
    };
    let payments = Payments::new(&options, Backend(backend)).unwrap();
    nvm_x402::protocol::json::to_text(&send(&payments).unwrap())
}

#[test]
fn organizations() {
    let key = "local:eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIweGFiYyJ9.c2ln";
    let member = direct(
        |_: &HttpRequest| {
            (
                201,
                json!({"success": true, "walletResult": {"hash": key, "userId": "us-1", "userWallet": "0xabc", "alreadyMember": false}}),
            )
        },
        |p| {
            block_on(
                p.create_member("ext-1", Some("a@b.example"), Some("Member"))
                    .send(),
            )
        },
    );
    let typed: CreateUserResponse = reads_back(&member);
    assert_eq!(typed.nvm_api_key, key);
    for (status, wallet) in [
        (
            201,
            json!({"hash": key, "nvmApiKey": "blob", "userId": "us-2", "userWallet": "0xdef", "isCustomer": true, "customerRecorded": true, "alreadyMember": false}),
        ),
        (
            202,
            json!({"alreadyMember": false, "consentRequired": true}),
        ),
    ] {
        let answer = direct(
            |_: &HttpRequest| (status, json!({"walletResult": wallet})),
            |p| block_on(p.onboard_customer("c@b.example").send()),
        );
        let typed: CustomerOnboardingResponse = reads_back(&answer);
        assert_eq!(typed.consent_required, status == 202);
    }
    let members = direct(
        |_: &HttpRequest| {
            (
                200,
                json!({"members": [{"id": "om-1", "userId": "us-1", "orgId": "org-1", "userAddress": "0xabc", "role": "Admin", "isActive": true, "createdAt": "2026-01-01T00:00:00.000Z", "updatedAt": "2026-01-01T00:00:00.000Z", "uniqueExternalId": "ext-1"}], "totalResults": 1, "page": 1, "offset": 100}),
            )
        },
        |p| {
            block_on(
                p.get_members(None, &Value::Null, &Value::Null, &Value::Null)
                    .send(),
            )
        },
    );
    reads_back::<OrganizationMembersResponse>(&members);
    let memberships = direct(
        |_: &HttpRequest| {
            (
                200,
                json!([{"orgId": "org-1", "orgName": "Acme", "role": "Admin", "orgType": "Premium", "isAdmin": true, "hasSubscriptionHistory": false}]),
            )
        },
        |p| block_on(p.get_my_memberships().send()),
    );
    reads_back::<Vec<MyMembership>>(&memberships);
    let activity = direct(
        |_: &HttpRequest| {
            (
                200,
                json!({"items": [
            {"id": "ae-1", "eventType": "member.joined", "actorUserId": "us-1", "subject": {"kind": "member", "id": "us-2", "role": "Member"}, "metadata": null, "occurredAt": "2026-01-01T00:00:00.000Z"},
            {"id": "ae-2", "eventType": "plan.created", "actorUserId": null, "subject": {"kind": "plan", "id": "7"}, "metadata": {"name": "P"}, "occurredAt": "2026-01-02T00:00:00.000Z"}
        ], "total": 2}),
            )
        },
        |p| {
            block_on(
                p.get_organization_activity("org-1", &json!({"eventType": "member.joined"}))
                    .send(),
            )
        },
    );
    let typed: OrganizationActivityPage = reads_back(&activity);
    assert_eq!(typed.items.len(), 2);
    let link = direct(
        |_: &HttpRequest| {
            (
                201,
                json!({"stripeAccountId": "acct_1", "stripeAccountLink": "https://connect.example/acct_1", "userId": "us-1", "userCountryCode": "ES", "linkCreatedAt": 1_767_225_600_000_u64, "linkExpiresAt": 1_767_229_200_000_u64}),
            )
        },
        |p| {
            block_on(
                p.connect_stripe_account("a@b.example", "ES", "https://app.example/back")
                    .send(),
            )
        },
    );
    reads_back::<StripeAccountConnectResult>(&link);
}
