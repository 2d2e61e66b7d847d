//! The MPP (Machine Payments Protocol) calls' bodies and answers: mint
//! (`/api/v1/mpp/permissions`, the x402 mint's body), challenge, verify and
//! settle; and the shapes carried inside the headers (the credential, the
//! sealed request, the opaque scope, the receipt), as the official SDK's
//! `src/mpp/` reads and writes them.

use crate::x402::SettleResponse;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// `POST /api/v1/mpp/challenge` (the agent's key): what the 402 asks for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields, rename = "IssueMppChallengeParams")]
pub struct ChallengeRequest {
    /// The plan the credits are burned against.
    pub plan_id: String,
    /// Credits to redeem, a decimal string of digits.
    pub credits: String,
    /// The protected resource (a path or an absolute URL), sealed into the challenge.
    pub resource: String,
    /// Its HTTP verb, sealed with it.
    pub http_verb: String,
    /// The agent the request is addressed to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    /// `sha-256=<standard base64>` of the one body the challenge is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// A human description, carried in the header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// The challenge answer: the `WWW-Authenticate` value and its id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ChallengeResponse {
    /// `Payment id="..", realm="..", method="nevermined", intent="charge", request="..", expires="..", [digest=".."], [description=".."], opaque=".."`.
    pub challenge: String,
    /// The challenge id (also the settlement's idempotency key).
    pub id: String,
}

/// `POST /api/v1/mpp/verify` and `/settle` (the agent's key).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields, rename = "RedeemMppParams")]
pub struct RedeemRequest {
    /// The buyer's `Authorization: Payment <base64url>` value.
    pub credential: String,
    /// The resource the request was for (must be the challenge's).
    pub resource: String,
    /// Its verb (must be the challenge's).
    pub http_verb: String,
    /// `sha-256=<standard base64>` of the body received (required when the challenge has a digest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_digest: Option<String>,
}

/// What `Payment <base64url>` decodes to: `{challenge, payload}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Credential {
    /// The challenge's fields, as the 402 carried them.
    pub challenge: CredentialChallenge,
    /// What pays.
    pub payload: CredentialPayload,
}

/// A credential's `challenge`: the header's auth-params, `request` and
/// `opaque` as the exact base64url strings received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields)]
pub struct CredentialChallenge {
    /// The challenge id.
    pub id: String,
    /// The backend's host.
    pub realm: String,
    /// `nevermined`.
    pub method: String,
    /// `charge`.
    pub intent: String,
    /// base64url of the sealed [`SealedRequest`].
    pub request: String,
    /// ISO 8601 with milliseconds and `Z`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// `sha-256=<standard base64>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// The description (not sealed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// base64url of the [`Scope`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opaque: Option<String>,
}

/// A credential's `payload`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CredentialPayload {
    /// An MPP-domain access token (`/api/v1/mpp/permissions`).
    pub access_token: String,
}

/// The challenge's `request`: `{credits, planId, agentId?}`, every value a string.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields, rename = "MppChallengeRequest")]
pub struct SealedRequest {
    /// Credits, a decimal string.
    pub credits: String,
    /// The plan.
    pub plan_id: String,
    /// The agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
}

/// The challenge's `opaque`: `{_mppx_scope: "<VERB> <resource>", nonce}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Scope {
    /// `<VERB> <resource>`.
    #[serde(rename = "_mppx_scope")]
    pub scope: String,
    /// A fresh UUID per challenge.
    pub nonce: String,
}

/// The `Payment-Receipt` JSON (base64url in the header).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(rename = "MppReceipt")]
pub struct Receipt {
    /// `nevermined`.
    pub method: String,
    /// The challenge id.
    pub reference: String,
    /// `success`.
    pub status: String,
    /// When the settlement happened (ISO 8601).
    pub timestamp: String,
}

/// The MPP settle answer: x402's plus `paymentReceipt`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "MppSettleResult")]
pub struct SettleAnswer {
    /// base64url of the [`Receipt`] JSON.
    pub payment_receipt: String,
    /// The x402 settle answer's fields.
    #[serde(flatten)]
    pub settlement: SettleResponse,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(b64url: &str) -> serde_json::Value {
        let bytes = nvm_x402::protocol::base64::decode(b64url).unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    /// The official SDK's codec fixtures (tests/unit/mpp/codec.test.ts) read into these shapes.
    #[test]
    fn official_fixtures_decode() {
        let request: SealedRequest = serde_json::from_value(decode("eyJjcmVkaXRzIjoiMiIsInBsYW5JZCI6IjQ0NzQyNzYzMDc2MDQ3NDk3NjQwMDgwMjMwMjM2NzgxNDc0MTI5OTcwOTkyNzI3ODk2NTkzODYxOTk3MzQ3MTM1NjEzMTM1NTcxMDcifQ")).unwrap();
        assert_eq!((request.credits.as_str(), request.agent_id), ("2", None));
        let scope: Scope = serde_json::from_value(decode("eyJfbXBweF9zY29wZSI6IlBPU1QgL2FzayIsIm5vbmNlIjoiMTExMTExMTEtMjIyMi0zMzMzLTQ0NDQtNTU1NTU1NTU1NTU1In0")).unwrap();
        assert_eq!(scope.scope, "POST /ask");
        let receipt: Receipt = serde_json::from_value(decode("eyJtZXRob2QiOiJuZXZlcm1pbmVkIiwicmVmZXJlbmNlIjoiQ1Fzek9uZ2Z2VDFSSUdTYWppcFpKdmctbEJDRUR1Z1dMREY3U0RfdzFvZyIsInN0YXR1cyI6InN1Y2Nlc3MiLCJ0aW1lc3RhbXAiOiIyMDI2LTA4LTEyVDEwOjAwOjMwLjAwMFoifQ")).unwrap();
        assert_eq!(
            (receipt.method.as_str(), receipt.status.as_str()),
            ("nevermined", "success")
        );
        assert_eq!(
            crate::fields::<RedeemRequest>(),
            ["credential", "resource", "httpVerb", "bodyDigest"]
        );
    }
}
