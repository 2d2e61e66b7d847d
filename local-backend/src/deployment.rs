//! What nvm-local says about itself at `GET /` (`contracts.getDeploymentInfo`):
//! a deployment on Base Sepolia's chain id with the contracts the official
//! SDKs name. There is no chain: each address is derived from the contract's
//! name (the first 20 bytes of SHA-256 of `nvm-local:<name>`), so it is the
//! same in every database and never a real contract's.

use crate::ids::{hex, sha256};
use serde_json::{json, Map, Value};

/// The chain id of the default network (`eip155:84532`).
pub const CHAIN_ID: u64 = 84532;

/// The contracts the official SDKs read (payments-py's `Contracts` requires every one).
pub const CONTRACTS: [&str; 19] = [
    "AccessManager",
    "AgreementsStore",
    "AssetsRegistry",
    "DistributePaymentsCondition",
    "FiatPaymentTemplate",
    "FiatSettlementCondition",
    "FixedPaymentTemplate",
    "LinearPricing",
    "LockPaymentCondition",
    "NFT1155Credits",
    "NFT1155ExpirableCredits",
    "NFT1155ExpirableCreditsV2",
    "NVMConfig",
    "OneTimeCreatorHook",
    "PayAsYouGoTemplate",
    "PaymentsVault",
    "ProtocolStandardFees",
    "TokenUtils",
    "TransferCreditsCondition",
];

/// A contract's nvm-local address.
///
/// ```
/// let a = nvm_local::deployment::address("PaymentsVault");
/// assert!(a.starts_with("0x") && a.len() == 42);
/// assert_ne!(a, nvm_local::deployment::address("NVMConfig"));
/// ```
pub fn address(name: &str) -> String {
    format!(
        "0x{}",
        hex(&sha256(format!("nvm-local:{name}").as_bytes())[..20])
    )
}

/// The `GET /` answer: `{name, version, deployment: {version, chainId, contracts}}`.
pub fn info() -> Value {
    let contracts: Map<String, Value> = CONTRACTS
        .iter()
        .map(|name| ((*name).to_owned(), json!(address(name))))
        .collect();
    let version = env!("CARGO_PKG_VERSION");
    json!({
        "name": "nvm-local",
        "version": version,
        "deployment": {"version": version, "chainId": CHAIN_ID, "contracts": contracts},
    })
}
