//! The package's TypeScript data types, generated from the structs of this
//! crate (their serde derives, as ts-rs reads them, and their `#[ts]`
//! attributes): `pkg-template/wire-types.d.ts`.

use crate::payment_required::{Extra, PaymentRequired, PaymentRequirements, Resource};
use crate::{agents, contracts, delegation, fields, orders, organizations, plans, widgets, x402};

/// The package's data types: the bodies and answers users hand in or get
/// back, as TypeScript (ts-rs, from the same derives, each under the official
/// SDK's name), the contents of `pkg-template/wire-types.d.ts`, which every
/// entry's declarations re-export:
///
/// ```sh
/// cargo run -q -p nvm-x402-types --example ts-declarations > pkg-template/wire-types.d.ts
/// ```
///
/// `tests/typescript.rs` fails when that file is stale; `tests/builders.rs`
/// holds the bodies to what the core sends, `tests/answers.rs` the answers to
/// what the core hands to JS. Big integers are decimal strings out and
/// `BigIntLike` in, counts numbers. A type that keeps the fields it does not
/// name (a `flatten`ed map) says so with an index signature when users may
/// add or read such fields (`Others::Kept`). The bodies only the package
/// builds (the mint, registration and fiat bodies, the plans query) are not
/// shipped.
pub fn typescript() -> String {
    use Others::{Kept, Named};
    let cfg = ts_rs::Config::new().with_large_int("number");
    let declarations = [
        ts::<PaymentRequired>(&cfg, Kept),
        ts::<Resource>(&cfg, Kept),
        ts::<PaymentRequirements>(&cfg, Kept),
        ts::<Extra>(&cfg, Kept),
        ts::<x402::TokenOptions>(&cfg, Named),
        ts::<x402::DelegationConfig>(&cfg, Named),
        ts::<x402::MintResponse>(&cfg, Kept),
        ts::<x402::AccessToken>(&cfg, Kept),
        ts::<x402::TokenPayload>(&cfg, Kept),
        ts::<x402::TokenAuthorization>(&cfg, Kept),
        ts::<x402::VerifyRequest>(&cfg, Named),
        ts::<x402::SettleRequest>(&cfg, Named),
        ts::<x402::VerifyResponse>(&cfg, Kept),
        ts::<x402::AgentRequest>(&cfg, Kept),
        ts::<x402::PlanBalance>(&cfg, Kept),
        ts::<x402::SettleResponse>(&cfg, Kept),
        ts::<x402::StartProcessingResult>(&cfg, Named),
        ts::<x402::ResolvedScheme>(&cfg, Named),
        ts::<plans::PlanMetadata>(&cfg, Kept),
        ts::<plans::PriceConfig>(&cfg, Kept),
        ts::<plans::CreditsConfig>(&cfg, Kept),
        ts::<plans::PriceConfigResult>(&cfg, Kept),
        ts::<plans::CreditsConfigResult>(&cfg, Kept),
        ts::<plans::RegisterPlanResult>(&cfg, Named),
        ts::<plans::OrderResult>(&cfg, Kept),
        ts::<plans::FiatCheckoutResult>(&cfg, Kept),
        ts::<plans::StripeCheckoutResult>(&cfg, Kept),
        ts::<plans::PaginationOptions>(&cfg, Named),
        ts::<plans::ListPlansOptions>(&cfg, Named),
        ts::<agents::AgentMetadata>(&cfg, Kept),
        ts::<agents::AgentApiAttributes>(&cfg, Kept),
        ts::<agents::RegisterAgentResult>(&cfg, Named),
        ts::<agents::RegisterAgentAndPlanResult>(&cfg, Named),
        ts::<delegation::CreateDelegation>(&cfg, Named),
        ts::<delegation::CreatedDelegation>(&cfg, Kept),
        ts::<delegation::PaymentMethodsQuery>(&cfg, Named),
        ts::<delegation::DelegationSummary>(&cfg, Kept),
        ts::<delegation::DelegationList>(&cfg, Kept),
        ts::<delegation::PaymentMethodSummary>(&cfg, Kept),
        ts::<delegation::UpdatePaymentMethodDto>(&cfg, Named),
        ts::<delegation::PurchasingPower>(&cfg, Named),
        ts::<contracts::DeploymentInfo>(&cfg, Kept),
        ts::<orders::CreateOrderRequest>(&cfg, Named),
        ts::<orders::CreateOrderResult>(&cfg, Named),
        ts::<orders::Order>(&cfg, Named),
        ts::<widgets::SelfSessionRequest>(&cfg, Named),
        ts::<widgets::SelfSessionResponse>(&cfg, Kept),
        ts::<organizations::CreateUserResponse>(&cfg, Kept),
        ts::<organizations::OrganizationMember>(&cfg, Kept),
        ts::<organizations::OrganizationMembersResponse>(&cfg, Named),
        ts::<organizations::MyMembership>(&cfg, Kept),
        ts::<organizations::OrganizationActivityEventSubject>(&cfg, Kept),
        ts::<organizations::OrganizationActivityEvent>(&cfg, Kept),
        ts::<organizations::OrganizationActivityPage>(&cfg, Named),
        ts::<organizations::StripeAccountConnectResult>(&cfg, Named),
    ];
    format!("{TS_PRELUDE}{}", declarations.join("\n"))
}

/// The head of `wire-types.d.ts`: what it is, and the hand-written types its
/// `#[ts(type = ...)]` attributes name.
const TS_PRELUDE: &str = "\
// The package's data types, generated from their Rust descriptions in types/
// (nvm-x402-types, ts-rs): do not edit. After changing types/, run
//   cargo run -q -p nvm-x402-types --example ts-declarations > pkg-template/wire-types.d.ts
// Big integers are decimal strings out and BigIntLike in.
import type { Address, BigIntLike, DelegationCurrency, DelegationProvider, HttpVerb, JsonObject, JsonValue, OrderStatus, OrganizationActivityEventType, OrganizationMemberRole, OrganizationType, X402SchemeType } from './common.js'

";

/// Whether a shipped type declares an index signature for the fields it does not name.
#[derive(Clone, Copy, PartialEq)]
enum Others {
    /// Only the named fields (an extra one is a type error, as a typo should be).
    Named,
    /// Any other field too, kept as sent: only for a struct that keeps them
    /// (a `flatten`ed map), which [`fields`] tells by having no list.
    Kept,
}

/// One shipped type: `export interface <name> { ... }`, documented, one member a line.
fn ts<T: ts_rs::TS + serde::de::DeserializeOwned>(cfg: &ts_rs::Config, others: Others) -> String {
    let name = T::ident(cfg);
    let decl = T::decl(cfg);
    let body = decl
        .find('{')
        .zip(decl.rfind('}'))
        .map(|(open, close)| &decl[open + 1..close])
        .unwrap_or_else(|| panic!("{name}: not an object type: {decl}"));
    let mut members: Vec<String> = split_members(body).iter().map(|m| indent(m)).collect();
    if others == Others::Kept {
        assert!(
            fields::<T>().is_empty(),
            "{name}: an index signature on a struct that drops the fields it does not name"
        );
        // Every member must fit the index signature: inputs take JS big integers.
        let mut value = String::from("JsonValue");
        if body.contains("BigIntLike") {
            value += " | bigint";
        }
        if body.contains("Array<BigIntLike>") {
            value += " | BigIntLike[]";
        }
        members.push(format!(
            "  /** Any other field, kept as sent. */\n  [key: string]: {value} | undefined"
        ));
    }
    format!(
        "{}export interface {name} {{\n{}\n}}\n",
        T::docs()
            .map(|d| one_line_docs(&d) + "\n")
            .unwrap_or_default(),
        members.join("\n")
    )
}

/// The members of a ts-rs object type (`/** doc */ name?: type, ...`), split at
/// the commas outside comments, strings and brackets.
fn split_members(body: &str) -> Vec<&str> {
    let (mut members, mut depth, mut start) = (Vec::new(), 0i32, 0);
    let (mut comment, mut quote) = (false, None);
    let bytes = body.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match (comment, quote, b) {
            (true, _, b'/') if i > 0 && bytes[i - 1] == b'*' => comment = false,
            (true, ..) => {}
            (false, Some(q), _) if b == q => quote = None,
            (false, Some(_), _) => {}
            (false, None, b'/') if bytes.get(i + 1) == Some(&b'*') => comment = true,
            (false, None, b'\'' | b'"') => quote = Some(b),
            (false, None, b'{' | b'[' | b'(' | b'<') => depth += 1,
            (false, None, b'}' | b']' | b')' | b'>') => depth -= 1,
            (false, None, b',') if depth == 0 => {
                members.push(body[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    members.push(body[start..].trim());
    members.retain(|m| !m.is_empty());
    members
}

/// A member (its doc comment, then `name: type`), indented by two spaces.
fn indent(member: &str) -> String {
    one_line_docs(member)
        .lines()
        .map(|line| format!("  {}", line.trim_end()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// ts-rs's doc comments with one line of text (`/**`, ` * text`, ` */`) as `/** text */`.
fn one_line_docs(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        match lines.get(i..i + 3) {
            Some([open, line, close])
                if open.trim() == "/**"
                    && line.trim().starts_with("* ")
                    && close.trim() == "*/" =>
            {
                out.push(format!("/** {} */", &line.trim()[2..]));
                i += 3;
            }
            _ => {
                out.push(lines[i].to_owned());
                i += 1;
            }
        }
    }
    out.join("\n")
}
