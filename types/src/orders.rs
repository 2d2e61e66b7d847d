//! Orders (`/api/v1/orders`): a merchant's off-plan card charge for an
//! arbitrary amount that the buyer's page confirms with the card processor
//! (payments-py 1.18 `api/orders_api.py`, the official TS SDK's
//! `src/api/orders-api.ts`). No plan, buyer account or delegation.

use crate::null_kept;
use nvm_x402::protocol::json::Map;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The statuses an order can have, on the wire (`WireOrderStatus`).
pub const ORDER_STATUSES: [&str; 6] = [
    "requires_payment",
    "paid",
    "refunded",
    "partially_refunded",
    "disputed",
    "failed",
];

/// The body of `POST api/v1/orders` (`RegisterOrderDto`): `createOrder`'s options.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields, rename = "CreateOrderOptions")]
pub struct CreateOrderRequest {
    /// The charge in cents: 100 ($1.00) to 99999999 ($999,999.99); 3437 is $34.37.
    // Required, read as optional: a missing one is nvm-local's error, not a parse error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(type = "number", optional = false)]
    pub amount_minor: Option<u64>,
    /// ISO currency, lower-case; `usd` (the default) is the only one today.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(type = "'usd'")]
    pub currency: Option<String>,
    /// What the charge is for (at most 1024 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The merchant's own reference for the buyer or the cart (at most 255 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer_ref: Option<String>,
    /// A retry with the same key answers the same order (at most 255 characters);
    /// the same key with another `amountMinor` or `currency` is `BCK.ORDER.0007`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
    /// The cart's lines, recorded as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(type = "JsonObject[]")]
    pub line_items: Option<Vec<Map>>,
    /// The merchant's own data, recorded as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(type = "JsonObject")]
    pub metadata: Option<Map>,
    /// `automatic` (the default and only mode today).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(type = "'automatic'")]
    pub capture_mode: Option<String>,
    /// `stripe` (the default and only card processor today).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(type = "'stripe'")]
    pub payment_provider: Option<String>,
}

/// What `createOrder` answers (`CreateOrderResponseDto`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields)]
pub struct CreateOrderResult {
    /// The order's unguessable id: whoever has it can read the order (`getOrder`).
    pub order_id: String,
    /// `requires_payment` for a new order.
    #[ts(type = "OrderStatus")]
    pub status: String,
    /// What the buyer's page confirms with the card processor; only while the order is payable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

/// What `getOrder` answers: the buyer's view of an order (`OrderResponseDto`),
/// without the merchant or the fee.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(optional_fields)]
pub struct Order {
    /// The order's unguessable id.
    pub id: String,
    /// The charge in cents.
    pub amount_minor: u64,
    /// Its currency (`usd`).
    pub currency: String,
    /// Where the order is.
    #[ts(type = "OrderStatus")]
    pub status: String,
    /// Refunded so far, in cents.
    pub amount_refunded_minor: u64,
    /// The merchant's description (`null`: none).
    #[serde(deserialize_with = "null_kept")]
    #[ts(type = "string | null", optional = false)]
    pub description: Option<Option<String>>,
    /// The merchant's reference (`null`: none).
    #[serde(deserialize_with = "null_kept")]
    #[ts(type = "string | null", optional = false)]
    pub buyer_ref: Option<Option<String>>,
    /// The card processor's payment behind the order (`null` until there is one).
    #[serde(deserialize_with = "null_kept")]
    #[ts(type = "string | null", optional = false)]
    pub payment_intent_id: Option<Option<String>>,
    /// When the order stops being payable, ISO 8601 (`null`: never).
    #[serde(deserialize_with = "null_kept")]
    #[ts(type = "string | null", optional = false)]
    pub expires_at: Option<Option<String>>,
    /// What the buyer's page confirms with the card processor; only while the order is payable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}
