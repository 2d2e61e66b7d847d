//! The embed app's widget sessions: `POST api/v1/widgets/session/self`, a
//! session token for the caller's own account (what the official CLI's
//! `nevermined cards setup` mints before it opens `<embed>/cards/setup`). The
//! wire shapes are in `types/src/widgets.rs`.

use super::{parse_any, Auth, Call};
use crate::error::Result;
use crate::protocol::json::{self, ObjectBuilder, Value};
use crate::protocol::ClientConfig;

/// `widgets.createSelfSession({orgId?, returnUrl?})` (the name the official
/// CLI gives the call it makes; options may be `null`). The answer is passed
/// on as sent: `setupCard()` checks its `sessionToken` before using it
/// (`protocol::signin::card_setup`).
pub fn create_self_session(cfg: &ClientConfig, options: &Value) -> Result<Call<Value>> {
    const WHAT: &str = "createSelfSession";
    let o = json::opt_object(Some(options), WHAT)?;
    let field = |key| o.map_or(Ok(None), |o| json::opt_str(o, key, WHAT));
    let body = ObjectBuilder::new()
        .put_opt("orgId", field("orgId")?)
        .put_opt("returnUrl", field("returnUrl")?)
        .build();
    Ok(Call {
        request: super::build_request(
            cfg,
            "POST",
            "api/v1/widgets/session/self",
            Auth::Bearer,
            Some(&body),
        )?,
        parse: parse_any,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;
    use crate::protocol::PaymentsOptions;

    fn cfg() -> ClientConfig {
        ClientConfig::from_options(&PaymentsOptions {
            nvm_api_key: Some("local:eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIweGFiYyJ9.c2ln".into()),
            ..Default::default()
        })
        .unwrap()
    }

    #[test]
    fn the_session_is_minted_with_the_key_for_the_given_org_and_return_url() {
        let call = create_self_session(
            &cfg(),
            &json!({"orgId": "org-1", "returnUrl": "http://127.0.0.1:8080/app", "other": 1}),
        )
        .unwrap();
        let r = &call.request;
        assert_eq!(
            (r.method, r.url.as_str()),
            ("POST", "http://127.0.0.1:3001/api/v1/widgets/session/self")
        );
        assert!(r
            .header("authorization")
            .unwrap()
            .starts_with("Bearer local:"));
        assert_eq!(
            r.body.as_deref(),
            Some(r#"{"orgId":"org-1","returnUrl":"http://127.0.0.1:8080/app"}"#)
        );
        let bare = create_self_session(&cfg(), &json!(null)).unwrap();
        assert_eq!(bare.request.body.as_deref(), Some("{}"));
        for bad in [json!({"orgId": 1}), json!("org-1")] {
            assert_eq!(
                create_self_session(&cfg(), &bad).unwrap_err().code(),
                "validation"
            );
        }
    }
}
