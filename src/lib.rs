//! # nvm-x402
//!
//! Nevermined x402 payments for browsers and edge runtimes: mint access tokens
//! and call paid agents (subscriber side), gate routes and settle credits
//! (agent side). The Rust core is runtime-agnostic; `src/wasm/` binds it to
//! JavaScript.
//!
//! ```text
//! subscriber ──payment-signature──▶ agent gate ──verify/settle──▶ Nevermined backend
//!     ▲                                  │                        (or nvm-local)
//!     └──────── payment-response ────────┘
//! ```
//!
//! Layers: [`protocol`] (pure logic), [`api`] (each backend call as a request
//! value plus a response parser), [`transport`] (the one I/O seam), and
//! [`Payments`] which ties them together.
#![deny(missing_docs)]

pub mod api;
pub mod bridge;
mod cache;
pub mod client;
pub mod client_state;
pub mod error;
pub mod gate;
pub mod payments;
pub mod protocol;
pub mod transport;

#[cfg(any(test, feature = "fuzz"))]
#[doc(hidden)]
pub mod fuzz;

#[cfg(target_arch = "wasm32")]
mod wasm;

pub use error::{BackendError, Error, Result};

// For the `json!` macro.
pub use payments::Payments;
#[cfg(any(test, feature = "serde"))]
#[doc(hidden)]
pub use serde_json as __serde_json;
