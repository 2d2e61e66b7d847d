//! The deployment the backend runs: `GET /` answers `{deployment: {version?,
//! chainId?, contracts: {Name: address, ...}}}` (public). The wire shape is
//! described in the `nvm-x402-types` crate (`types/src/contracts.rs`).

use super::{parse_any, Auth, Call};
use crate::error::{Error, Result};
use crate::protocol::json::Value;
use crate::protocol::ClientConfig;
use crate::transport::HttpResponse;

/// `GET /` (the backend's root, public): `contracts.getDeploymentInfo()`.
pub fn get_deployment_info(cfg: &ClientConfig) -> Result<Call<Value>> {
    Ok(Call {
        request: super::build_request(cfg, "GET", "", Auth::Public, None)?,
        parse: parse_deployment,
    })
}

/// The answer's `deployment`, which must name its contracts (as both official SDKs require).
fn parse_deployment(response: HttpResponse) -> Result<Value> {
    let status = response.status;
    match parse_any(response)? {
        Value::Object(mut info) => match info.remove("deployment") {
            Some(deployment) if deployment.get("contracts").is_some_and(Value::is_object) => {
                Ok(deployment)
            }
            _ => Err(not_found(status)),
        },
        _ => Err(not_found(status)),
    }
}

fn not_found(status: u16) -> Error {
    Error::InvalidResponse {
        status,
        message: "Deployment info not found in API response".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;

    fn answer(body: &str) -> Result<Value> {
        parse_deployment(HttpResponse {
            status: 200,
            body: body.into(),
        })
    }

    #[test]
    fn the_deployment_must_name_its_contracts() {
        assert_eq!(
            answer(r#"{"version":"1.2","deployment":{"version":"3","chainId":84532,"contracts":{"PaymentsVault":"0x1"}}}"#).unwrap(),
            json!({"version": "3", "chainId": 84532, "contracts": {"PaymentsVault": "0x1"}})
        );
        for bad in [
            r#"{"version":"1.2"}"#,
            r#"{"deployment":{"version":"3"}}"#,
            r#"{"deployment":{"contracts":[]}}"#,
            r#"{"deployment":null}"#,
            "[]",
            "",
        ] {
            let e = answer(bad).unwrap_err();
            assert_eq!(
                (e.code().as_ref(), e.to_string().as_str()),
                (
                    "invalid_response",
                    "Deployment info not found in API response"
                ),
                "{bad}"
            );
        }
    }
}
