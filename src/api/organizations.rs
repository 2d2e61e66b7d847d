//! Organizations (`payments.organizations`): members and white-label
//! customers of the caller's organization, the caller's memberships, an
//! organization's activity feed, and the Stripe Connect onboarding link. The
//! wire shapes are described in the `nvm-x402-types` crate
//! (`types/src/organizations.rs`). Every call is authenticated; the backend
//! picks the organization from `X-Current-Org-Id` (the `organizationId`
//! option) or the caller's membership.

use super::{parse_any, query, Auth, Call};
use crate::error::{Error, Result};
use crate::protocol::json::{self, Map, ObjectBuilder, Value};
use crate::protocol::url::encode_segment;
use crate::protocol::{ApiKey, ClientConfig};
use crate::transport::HttpResponse;

/// `POST api/v1/organizations/account`: enrolment (`createMember`) and customer onboarding.
const ACCOUNT: &str = "api/v1/organizations/account";

fn post(
    cfg: &ClientConfig,
    path: &str,
    body: Value,
    parse: fn(HttpResponse) -> Result<Value>,
) -> Result<Call<Value>> {
    Ok(Call {
        request: super::build_request(cfg, "POST", path, Auth::Bearer, Some(&body))?,
        parse,
    })
}

fn unexpected(status: u16, message: &str) -> Error {
    Error::InvalidResponse {
        status,
        message: message.to_owned(),
    }
}

/// The answer's `walletResult` object.
fn wallet_result(response: HttpResponse) -> Result<(u16, Map)> {
    let status = response.status;
    match parse_any(response)? {
        Value::Object(mut answer) => match answer.remove("walletResult") {
            Some(Value::Object(wallet)) => Ok((status, wallet)),
            _ => Err(unexpected(
                status,
                "The backend's answer has no walletResult",
            )),
        },
        _ => Err(unexpected(
            status,
            "The backend's answer has no walletResult",
        )),
    }
}

/// `createMember(userId, userEmail?, userRole?)`: `{uniqueExternalId, email?, role?}`.
pub fn create_member(
    cfg: &ClientConfig,
    user_id: &str,
    email: Option<&str>,
    role: Option<&str>,
) -> Result<Call<Value>> {
    if user_id.trim().is_empty() {
        return Err(Error::validation("userId is required"));
    }
    let body = ObjectBuilder::new()
        .put("uniqueExternalId", user_id)
        .put_opt("email", email)
        .put_opt("role", role)
        .build();
    post(cfg, ACCOUNT, body, parse_member)
}

/// `walletResult` with the new member's key as `nvmApiKey` (the backend's
/// `hash`, as both official SDKs read it); an answer without one is refused.
fn parse_member(response: HttpResponse) -> Result<Value> {
    let (status, mut wallet) = wallet_result(response)?;
    match wallet.get("hash").and_then(Value::as_str) {
        Some(key) if !key.is_empty() => {
            let key = key.to_owned();
            wallet.insert("nvmApiKey".into(), Value::from(key));
            Ok(Value::Object(wallet))
        }
        _ => Err(unexpected(status, "The backend's answer has no API key")),
    }
}

/// `onboardCustomer(email)`: `{email, as: "customer"}`.
pub fn onboard_customer(cfg: &ClientConfig, email: &str) -> Result<Call<Value>> {
    if email.trim().is_empty() {
        return Err(Error::validation("email is required"));
    }
    let body = ObjectBuilder::new()
        .put("email", email)
        .put("as", "customer")
        .build();
    post(cfg, ACCOUNT, body, parse_onboarding)
}

/// `{consentRequired: true}` alone (HTTP 202, or `walletResult.consentRequired`:
/// the email is someone else's account, nothing of it is disclosed), or the
/// customer's key and identity. The key is `walletResult.hash` when that is
/// an NVM API key (`<prefix>:<JWT>`, payments-py 1.18's reading), else
/// `walletResult.nvmApiKey` (the TS SDK's); an answer with neither is refused.
fn parse_onboarding(response: HttpResponse) -> Result<Value> {
    let (status, wallet) = wallet_result(response)?;
    // Any flag but an absent, null or false one is consent pending (as the official's truthiness,
    // and stricter: an answer that says anything about consent discloses nothing).
    let consent = !matches!(
        wallet.get("consentRequired"),
        None | Some(Value::Null) | Some(Value::Bool(false))
    );
    if status == 202 || consent {
        return Ok(ObjectBuilder::new().put("consentRequired", true).build());
    }
    let text = |key: &str| {
        wallet
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let key = text("hash")
        .filter(|h| ApiKey::parse(h).is_ok())
        .or_else(|| text("nvmApiKey"))
        .ok_or_else(|| {
            // The official SDK's words (its tests match "did not return an API key").
            unexpected(
                status,
                "Customer onboarding did not return an API key (unexpected backend response)",
            )
        })?;
    let mut out = ObjectBuilder::new()
        .put("consentRequired", false)
        .put("nvmApiKey", key);
    for field in [
        "userId",
        "userWallet",
        "isCustomer",
        "customerRecorded",
        "expiresAt",
    ] {
        out = out.put_opt(field, wallet.get(field).cloned());
    }
    Ok(out.build())
}

/// `getMembers(role?, isActive?, page = 1, offset = 100)`: `POST api/v1/organizations/members`
/// `{role?, isActive?, page, offset}`.
pub fn get_members(
    cfg: &ClientConfig,
    role: Option<&str>,
    is_active: &Value,
    page: &Value,
    offset: &Value,
) -> Result<Call<Value>> {
    let mut body = ObjectBuilder::new().put_opt("role", role);
    match is_active {
        Value::Null => {}
        Value::Bool(_) => body = body.put("isActive", is_active.clone()),
        _ => return Err(Error::validation("isActive must be a boolean")),
    }
    for (key, given, default) in [("page", page, 1), ("offset", offset, 100)] {
        let n = match given {
            Value::Null => Some(default),
            v => json::id_value(v).and_then(|n| n.parse::<u64>().ok()),
        };
        let n = n.ok_or_else(|| json::wrong("getMembers", key, "a whole number"))?;
        body = body.put(key, n);
    }
    let body = body.build();
    post(cfg, "api/v1/organizations/members", body, parse_members)
}

/// `{members, total}` from the backend's `{members, totalResults}` (a list and a number).
fn parse_members(response: HttpResponse) -> Result<Value> {
    page(response, "members", "totalResults")
}

/// `{<list>, total}`: the answer's list under `list` (else none) and its
/// number under `total_key` or `total` (else 0), as the official SDK reads
/// members and activity pages.
fn page(response: HttpResponse, list: &str, total_key: &str) -> Result<Value> {
    let answer = parse_any(response)?;
    let items = answer.get(list).filter(|m| m.is_array()).cloned();
    let total = [total_key, "total"]
        .iter()
        .find_map(|k| answer.get(k).filter(|t| t.is_number()).cloned());
    Ok(ObjectBuilder::new()
        .put(list, items.unwrap_or(Value::Array(vec![])))
        .put("total", total.unwrap_or(Value::from(0)))
        .build())
}

/// `{items, total}` of an activity page (a list and a number; else none and 0).
fn parse_activity(response: HttpResponse) -> Result<Value> {
    page(response, "items", "total")
}

/// `getMyMemberships()`: `GET api/v1/organizations/my-memberships`, a list (anything else is none).
pub fn get_my_memberships(cfg: &ClientConfig) -> Result<Call<Value>> {
    Ok(Call {
        request: super::build_request(
            cfg,
            "GET",
            "api/v1/organizations/my-memberships",
            Auth::Bearer,
            None,
        )?,
        parse: parse_list,
    })
}

fn parse_list(response: HttpResponse) -> Result<Value> {
    match parse_any(response)? {
        list @ Value::Array(_) => Ok(list),
        _ => Ok(Value::Array(vec![])),
    }
}

/// `getOrganizationActivity(orgId, filters?)`: `GET
/// api/v1/organizations/:orgId/activity?eventType&actorUserId&from&to&page&limit`
/// (each only when given; a list of event types is sent comma-separated).
pub fn get_organization_activity(
    cfg: &ClientConfig,
    org_id: &str,
    filters: &Value,
) -> Result<Call<Value>> {
    const WHAT: &str = "filters";
    let org_id = org_id.trim();
    if org_id.is_empty() {
        return Err(Error::validation("orgId is required"));
    }
    let empty = Map::new();
    let o = json::opt_object(Some(filters), WHAT)?.unwrap_or(&empty);
    let mut params = Vec::with_capacity(6);
    for key in ["eventType", "actorUserId", "from", "to", "page", "limit"] {
        let Some(given) = json::present(o, key) else {
            continue;
        };
        let text = match given {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => n.non_negative_integer(),
            // A list of event types travels comma-separated.
            Value::Array(items) => {
                let mut joined = Some(String::new());
                for item in items {
                    match (item.as_str(), &mut joined) {
                        (Some(s), Some(j)) => {
                            if !j.is_empty() {
                                j.push(',');
                            }
                            j.push_str(s);
                        }
                        _ => joined = None,
                    }
                }
                joined
            }
            _ => None,
        };
        let text = text.ok_or_else(|| {
            json::wrong(WHAT, key, "a string, a whole number or a list of strings")
        })?;
        if !text.is_empty() {
            params.push((key, Some(text)));
        }
    }
    let path = format!(
        "api/v1/organizations/{}/activity{}",
        encode_segment(org_id),
        query(&params)
    );
    Ok(Call {
        request: super::build_request(cfg, "GET", &path, Auth::Bearer, None)?,
        parse: parse_activity,
    })
}

/// `connectStripeAccount(userEmail, userCountryCode, returnUrl)`: `POST
/// api/v1/fiat/stripe/account` `{userEmail, userCountryCode, returnUrl}`.
pub fn connect_stripe_account(
    cfg: &ClientConfig,
    email: &str,
    country_code: &str,
    return_url: &str,
) -> Result<Call<Value>> {
    let body = ObjectBuilder::new()
        .put("userEmail", email)
        .put("userCountryCode", country_code)
        .put("returnUrl", return_url)
        .build();
    post(cfg, "api/v1/fiat/stripe/account", body, parse_any)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;

    fn answer(status: u16, body: Value) -> HttpResponse {
        HttpResponse {
            status,
            body: body.to_string(),
        }
    }

    const KEY: &str = "local:eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIweGFiYyJ9.c2ln";

    #[test]
    fn onboarding_answers_consent_alone_or_a_usable_key() {
        // 202, or the flag: nothing else of the answer is passed on.
        for (status, wallet) in [
            (
                202,
                json!({"alreadyMember": false, "hash": KEY, "userId": "us-1"}),
            ),
            (
                201,
                json!({"consentRequired": true, "nvmApiKey": "k", "userWallet": "0x1"}),
            ),
            (
                201,
                json!({"consentRequired": "true", "nvmApiKey": "other-accounts-key", "userId": "us-victim"}),
            ),
            (201, json!({"consentRequired": 1, "nvmApiKey": "k"})),
            (201, json!({"consentRequired": {}, "hash": KEY})),
        ] {
            let out = parse_onboarding(answer(status, json!({"walletResult": wallet}))).unwrap();
            assert_eq!(out, json!({"consentRequired": true}));
        }
        // The hash is the key when it is one (payments-py 1.18), else nvmApiKey (the TS SDK).
        let both = json!({"walletResult": {"hash": KEY, "nvmApiKey": "encrypted-blob", "userId": "us-1", "userWallet": "0xabc", "isCustomer": true, "customerRecorded": true, "alreadyMember": false}});
        assert_eq!(
            parse_onboarding(answer(201, both)).unwrap(),
            json!({"consentRequired": false, "nvmApiKey": KEY, "userId": "us-1", "userWallet": "0xabc", "isCustomer": true, "customerRecorded": true})
        );
        let digest = json!({"walletResult": {"hash": "lookup-hash", "nvmApiKey": "nvm-real-usable-key", "userId": "us-2", "expiresAt": "2027-01-01T00:00:00Z"}});
        assert_eq!(
            parse_onboarding(answer(201, digest)).unwrap(),
            json!({"consentRequired": false, "nvmApiKey": "nvm-real-usable-key", "userId": "us-2", "expiresAt": "2027-01-01T00:00:00Z"})
        );
        for wallet in [
            json!({"hash": "lookup-hash", "userId": "us-1"}),
            json!({"nvmApiKey": ""}),
            json!({}),
        ] {
            let e = parse_onboarding(answer(201, json!({"walletResult": wallet}))).unwrap_err();
            assert_eq!(e.code(), "invalid_response");
            assert!(e.to_string().contains("did not return an API key"), "{e}");
        }
        let e = parse_onboarding(answer(201, json!({"success": true}))).unwrap_err();
        assert_eq!(e.code(), "invalid_response");
    }

    #[test]
    fn a_member_is_its_wallet_result_with_the_hash_as_key() {
        let out = parse_member(answer(201, json!({"walletResult": {"hash": KEY, "userId": "us-1", "userWallet": "0xabc", "alreadyMember": false}}))).unwrap();
        assert_eq!(
            out,
            json!({"hash": KEY, "userId": "us-1", "userWallet": "0xabc", "alreadyMember": false, "nvmApiKey": KEY})
        );
        let e = parse_member(answer(201, json!({"walletResult": {"userId": "us-1"}}))).unwrap_err();
        assert_eq!(e.code(), "invalid_response");
    }

    #[test]
    fn lists_are_lists_and_totals_numbers() {
        assert_eq!(
            parse_members(answer(
                200,
                json!({"members": [{"id": "om-1"}], "totalResults": 7})
            ))
            .unwrap(),
            json!({"members": [{"id": "om-1"}], "total": 7})
        );
        assert_eq!(
            parse_members(answer(200, json!({"total": 2}))).unwrap(),
            json!({"members": [], "total": 2})
        );
        assert_eq!(parse_list(answer(200, Value::Null)).unwrap(), json!([]));
    }
}
