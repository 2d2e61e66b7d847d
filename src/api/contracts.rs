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

/// The address of the contract `name` in a deployment (`getDeploymentInfo`'s
/// answer), as the official `getContractAddress(name)`: missing is an error,
/// so a builder never registers a plan under a template nobody named (the
/// price helper checks that it is an address).
pub fn contract_address(deployment: &Value, name: &str) -> Result<String> {
    deployment
        .get("contracts")
        .and_then(|c| c.get(name))
        .and_then(Value::as_str)
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| Error::InvalidResponse {
            status: 200,
            message: String::from("Contract address not found for ") + name,
        })
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
    fn a_contract_address_is_read_from_the_deployment() {
        let template = "0x5e852077b30099106Aa65B4d329FFF9b5C9a8e7C";
        let deployment = json!({"contracts": {"PayAsYouGoTemplate": template, "Empty": ""}});
        assert_eq!(
            contract_address(&deployment, "PayAsYouGoTemplate").unwrap(),
            template
        );
        for (name, says) in [
            ("NVMConfig", "Contract address not found for NVMConfig"),
            ("Empty", "Contract address not found for Empty"),
        ] {
            let e = contract_address(&deployment, name).unwrap_err();
            assert_eq!(
                (e.code().as_ref(), e.to_string().as_str()),
                ("invalid_response", says),
                "{name}"
            );
        }
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
