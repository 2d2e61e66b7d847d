//! # nvm-local
//!
//! A stateful local backend that speaks the Nevermined backend API, so the
//! nvm-x402 package, its tests, the demo page and the Cloudflare Worker
//! example run offline — and so do clients written for the hosted API.
//!
//! ```text
//! subscriber ──payment-signature──▶ agent gate ──verify/settle──▶ nvm-local (SQLite)
//!     ▲                                  │
//!     └──────── payment-response ────────┘
//! ```
//!
//! Start one in-process (tests use port 0):
//!
//! ```
//! let server = nvm_local::Server::start(nvm_local::Config::in_memory()).unwrap();
//! let subscriber = &server.demo_world()["accounts"]["subscriber"];
//! assert!(subscriber["apiKey"].as_str().unwrap().starts_with("local:"));
//! server.shutdown();
//! ```
//!
//! Layers: [`http`] (routes and handlers; its `plumbing` child: Host check,
//! CORS, body parsing) calls [`backend::Backend`], the state. The domain
//! modules ([`accounts`], [`plans`], [`agents`], [`organizations`],
//! [`delegations`], [`x402`], [`mpp`], [`checkout`], [`orders`], [`signin`], [`cards`]) hold the types and rules; the operations on accounts, plans
//! and agents are in `backend`'s children, so no domain module depends on the
//! state that caches it (no module cycles). [`store`] owns SQLite,
//! [`access_token`] and [`api_keys`] the signatures, [`error`] the envelopes.
#![deny(missing_docs)]

pub mod access_token;
pub mod accounts;
pub mod agents;
pub mod api_keys;
pub mod backend;
pub mod cards;
pub mod checkout;
pub mod config;
pub mod delegations;
pub mod deployment;
pub mod error;
pub mod http;
pub mod ids;
pub mod mpp;
pub mod orders;
pub mod organizations;
pub mod plans;
pub mod server;
pub mod signin;
pub mod store;
pub mod world;
pub mod x402;

pub use config::Config;
pub use server::{Server, ServerHandle};
