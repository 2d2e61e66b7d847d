//! The MPP codec against what the official `tests/unit/mpp/codec.test.ts`
//! asserts (its fixtures, modelled on mppx 0.6.31 output), plus the helpers
//! ported from `mpp-api.ts`, `errors.ts` and `fetch.ts`.

use super::*;
use crate::protocol::json::parse;

const ID: &str = "CQszOngfvT1RIGSajipZJvg-lBCEDugWLDF7SD_w1og";
const REQUEST_ENCODED: &str = "eyJjcmVkaXRzIjoiMiIsInBsYW5JZCI6IjQ0NzQyNzYzMDc2MDQ3NDk3NjQwMDgwMjMwMjM2NzgxNDc0MTI5OTcwOTkyNzI3ODk2NTkzODYxOTk3MzQ3MTM1NjEzMTM1NTcxMDcifQ";
const OPAQUE_ENCODED: &str = "eyJfbXBweF9zY29wZSI6IlBPU1QgL2FzayIsIm5vbmNlIjoiMTExMTExMTEtMjIyMi0zMzMzLTQ0NDQtNTU1NTU1NTU1NTU1In0";
const PLAN: &str = "4474276307604749764008023023678147412997099272789659386199734713561313557107";
const RECEIPT_HEADER: &str = "eyJtZXRob2QiOiJuZXZlcm1pbmVkIiwicmVmZXJlbmNlIjoiQ1Fzek9uZ2Z2VDFSSUdTYWppcFpKdmctbEJDRUR1Z1dMREY3U0RfdzFvZyIsInN0YXR1cyI6InN1Y2Nlc3MiLCJ0aW1lc3RhbXAiOiIyMDI2LTA4LTEyVDEwOjAwOjMwLjAwMFoifQ";
const MPPX_CREDENTIAL: &str = "Payment eyJjaGFsbGVuZ2UiOnsiZXhwaXJlcyI6IjIwMjYtMDgtMTJUMTA6MDU6MDAuMDAwWiIsImlkIjoiQ1Fzek9uZ2Z2VDFSSUdTYWppcFpKdmctbEJDRUR1Z1dMREY3U0RfdzFvZyIsImludGVudCI6ImNoYXJnZSIsIm1ldGhvZCI6Im5ldmVybWluZWQiLCJyZWFsbSI6ImFwaS5uZXZlcm1pbmVkLmFwcCIsIm9wYXF1ZSI6ImV5SmZiWEJ3ZUY5elkyOXdaU0k2SWxCUFUxUWdMMkZ6YXlJc0ltNXZibU5sSWpvaU1URXhNVEV4TVRFdE1qSXlNaTB6TXpNekxUUTBORFF0TlRVMU5UVTFOVFUxTlRVMUluMCIsInJlcXVlc3QiOiJleUpqY21Wa2FYUnpJam9pTWlJc0luQnNZVzVKWkNJNklqUTBOelF5TnpZek1EYzJNRFEzTkRrM05qUXdNRGd3TWpNd01qTTJOemd4TkRjME1USTVPVGN3T1RreU56STNPRGsyTlRrek9EWXhPVGszTXpRM01UTTFOakV6TVRNMU5UY3hNRGNpZlEifSwicGF5bG9hZCI6eyJhY2Nlc3NUb2tlbiI6IkJBU0U2NF9NUFBfVE9LRU4ifX0";

/// `Payment id=..., realm, method, intent, request, expires, opaque` (the official CHALLENGE_HEADER).
fn challenge_header() -> String {
    format!(
        r#"Payment id="{ID}", realm="api.nevermined.app", method="nevermined", intent="charge", request="{REQUEST_ENCODED}", expires="2026-08-12T10:05:00.000Z", opaque="{OPAQUE_ENCODED}""#
    )
}

/// The official CHALLENGE_HEADER_WITH_COMMA_DESCRIPTION: a comma inside a quoted value, before `opaque`.
fn comma_description_header() -> String {
    format!(
        r#"Payment id="{ID}", realm="api.nevermined.app", method="nevermined", intent="charge", request="{REQUEST_ENCODED}", expires="2026-08-12T10:05:00.000Z", description="Standard, non-refundable request", opaque="{OPAQUE_ENCODED}""#
    )
}

/// mppx's `authParam` serializer: `\` -> `\\`, `"` -> `\"`.
fn mppx_auth_param(name: &str, value: &str) -> String {
    let escaped: String = value
        .chars()
        .flat_map(|c| match c {
            '\\' | '"' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    format!("{name}=\"{escaped}\"")
}

/// A full challenge (as mppx escapes it) with this description.
fn header_with_description(description: &str) -> String {
    let params = [
        ("id", ID),
        ("realm", "api.nevermined.app"),
        ("method", "nevermined"),
        ("intent", "charge"),
        ("request", REQUEST_ENCODED),
        ("description", description),
        ("opaque", OPAQUE_ENCODED),
    ]
    .map(|(k, v)| mppx_auth_param(k, v));
    format!("Payment {}", params.join(", "))
}

fn b64(json: &str) -> String {
    base64::encode_url(json.as_bytes())
}

/// A complete challenge carrying this `request=` value.
fn header_with_request(request: &str) -> String {
    format!(
        r#"Payment id="{ID}", realm="api.nevermined.app", method="nevermined", intent="charge", request="{request}", expires="2026-08-12T10:05:00.000Z", opaque="{OPAQUE_ENCODED}""#
    )
}

fn parsed(header: &str) -> Challenge {
    parse_challenge(header)
        .expect("decodes")
        .expect("a challenge")
}

/// The JSON inside a `Payment <base64url>` credential.
fn credential_json(credential: &str) -> Value {
    let token = credential.strip_prefix("Payment ").expect("Payment prefix");
    parse(std::str::from_utf8(&base64::decode(token).unwrap()).unwrap()).unwrap()
}

/// An object's keys, in order.
fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

const BAD_REQUEST: &str = "The MPP challenge names a request parameter that is not a valid { planId: string, credits: string | number, agentId?: string } object.";
const BAD_RECEIPT: &str = "The Payment-Receipt header is not a valid { method: string, reference: string, status: string, timestamp: string } object.";

// ---------------------------------------------------------------- parse_challenge

#[test]
fn parses_every_auth_param_and_decodes_the_sealed_request() {
    let c = parsed(&challenge_header());
    assert_eq!(c.id, ID);
    assert_eq!(c.realm, "api.nevermined.app");
    assert_eq!(c.method, "nevermined");
    assert_eq!(c.intent, "charge");
    assert_eq!(c.expires.as_deref(), Some("2026-08-12T10:05:00.000Z"));
    assert_eq!((c.plan_id.as_str(), c.credits.as_str()), (PLAN, "2"));
    assert_eq!(c.agent_id, None);
    assert_eq!(
        (c.digest.as_deref(), c.description.as_deref()),
        (None, None)
    );
    assert_eq!(
        c.to_json()["request"],
        parse(&format!(r#"{{"credits": "2", "planId": "{PLAN}"}}"#)).unwrap()
    );
}

#[test]
fn keeps_request_and_opaque_as_the_exact_base64url_received() {
    let c = parsed(&challenge_header());
    assert_eq!(c.request_encoded, REQUEST_ENCODED);
    assert_eq!(c.opaque.as_deref(), Some(OPAQUE_ENCODED));
}

#[test]
fn no_payment_scheme_is_none() {
    assert_eq!(parse_challenge("Bearer abc"), Ok(None));
    assert_eq!(parse_challenge(""), Ok(None));
    assert_eq!(parse_challenge("Payment"), Ok(None));
}

#[test]
fn picks_the_payment_scheme_out_of_a_merged_header() {
    let c = parsed(&format!("Bearer abc, {}", challenge_header()));
    assert_eq!(c, parsed(&challenge_header()));
}

#[test]
fn a_comma_inside_a_quoted_description_keeps_every_param() {
    let c = parsed(&comma_description_header());
    assert_eq!(
        c.description.as_deref(),
        Some("Standard, non-refundable request")
    );
    assert_eq!(c.opaque.as_deref(), Some(OPAQUE_ENCODED));
    assert_eq!(c.id, ID);
    assert_eq!(c.realm, "api.nevermined.app");
    assert_eq!(c.method, "nevermined");
    assert_eq!(c.intent, "charge");
    assert_eq!(c.request_encoded, REQUEST_ENCODED);
}

#[test]
fn a_missing_or_empty_structural_param_is_none() {
    let full = challenge_header();
    for param in ["id", "realm", "method", "intent", "request"] {
        let renamed = full.replacen(&format!(" {param}="), &format!(" x{param}="), 1);
        assert_ne!(renamed, full);
        assert_eq!(parse_challenge(&renamed), Ok(None), "{param} missing");
    }
    let emptied = full.replacen(&format!("id=\"{ID}\""), "id=\"\"", 1);
    assert_eq!(parse_challenge(&emptied), Ok(None));
}

#[test]
fn params_are_case_sensitive_unquoted_tolerated_and_the_last_repeat_wins() {
    let h = format!(
        "payment  id=first, ID=\"ignored\", realm = r , method=m, intent=\"i\", request={}, id=\"last\", expires=\"\"",
        b64(r#"{"planId":"1","credits":"3"}"#)
    );
    let c = parsed(&h);
    assert_eq!(
        (c.id.as_str(), c.realm.as_str(), c.method.as_str()),
        ("last", "r", "m")
    );
    assert_eq!((c.plan_id.as_str(), c.credits.as_str()), ("1", "3"));
    assert_eq!(c.expires, None);
}

// ---------------------------------------------------------------- credential

#[test]
fn the_credential_round_trips_request_and_opaque_intact() {
    let c = parsed(&challenge_header());
    let header = credential(&c, "BASE64_MPP_TOKEN");
    assert!(header.starts_with("Payment "));
    let v = credential_json(&header);
    assert_eq!(v["challenge"]["request"], REQUEST_ENCODED);
    assert_eq!(v["challenge"]["opaque"], OPAQUE_ENCODED);
    assert_eq!(v["challenge"]["id"], ID);
    assert_eq!(v["challenge"]["expires"], "2026-08-12T10:05:00.000Z");
    assert_eq!(
        v["payload"],
        parse(r#"{"accessToken": "BASE64_MPP_TOKEN"}"#).unwrap()
    );
    assert_eq!(v["challenge"].get("meta"), None);
    assert_eq!(v["challenge"].get("digest"), None);
    assert_eq!(credential_challenge_id(&header).as_deref(), Some(ID));
}

#[test]
fn the_credential_is_base64url_without_padding() {
    let c = parsed(&challenge_header());
    for token in ["x", "xy", "xyz", "BASE64_MPP_TOKEN"] {
        let header = credential(&c, token);
        let encoded = header.strip_prefix("Payment ").unwrap();
        assert!(!encoded.bytes().any(|b| matches!(b, b'+' | b'/' | b'=')));
    }
}

#[test]
fn the_credential_decodes_to_the_same_fields_as_mppx_for_the_same_inputs() {
    let ours = credential(&parsed(&challenge_header()), "BASE64_MPP_TOKEN");
    assert_ne!(ours, MPPX_CREDENTIAL); // key order differs, which the server ignores
    assert_eq!(credential_json(&ours), credential_json(MPPX_CREDENTIAL));
}

#[test]
fn the_credential_carries_digest_and_description_and_omits_empty_options() {
    let mut c = parsed(&header_with_description("5\" screen, \\ ok"));
    c.digest = Some("sha-256=abc=".into());
    c.expires = Some(String::new());
    let v = credential_json(&credential(&c, "t"));
    assert_eq!(v["challenge"]["digest"], "sha-256=abc=");
    assert_eq!(v["challenge"]["description"], "5\" screen, \\ ok");
    assert_eq!(v["challenge"].get("expires"), None);
    assert_eq!(
        keys(&v["challenge"]),
        [
            "id",
            "realm",
            "method",
            "intent",
            "digest",
            "description",
            "opaque",
            "request"
        ]
    );
}

// ---------------------------------------------------------------- parse_receipt

#[test]
fn decodes_the_receipt() {
    let r = parse_receipt(RECEIPT_HEADER).unwrap();
    assert_eq!(
        r,
        Receipt {
            method: "nevermined".into(),
            reference: ID.into(),
            status: "success".into(),
            timestamp: "2026-08-12T10:00:30.000Z".into(),
        }
    );
    assert_eq!(
        r.to_json(),
        parse(&format!(r#"{{"method": "nevermined", "reference": "{ID}", "status": "success", "timestamp": "2026-08-12T10:00:30.000Z"}}"#)).unwrap()
    );
    assert_eq!(
        parse_receipt(&format!(" {RECEIPT_HEADER}\u{feff}\n")),
        Ok(r)
    );
}

#[test]
fn a_malformed_receipt_is_the_official_error() {
    for bad in ["zzz", "", "!!!"] {
        let e = parse_receipt(bad).unwrap_err();
        assert!(e.starts_with("Could not decode the MPP receipt: "), "{e}");
    }
    for json in [
        "null",
        r#"["a"]"#,
        r#"{"method":"nevermined"}"#,
        r#"{"method":"nevermined","reference":"c1","status":"success","timestamp":42}"#,
        r#"{"method":"nevermined","reference":"","status":"success","timestamp":"t"}"#,
    ] {
        assert_eq!(
            parse_receipt(&b64(json)),
            Err(BAD_RECEIPT.to_owned()),
            "{json}"
        );
    }
}

// ---------------------------------------------------------------- payment_scheme

#[test]
fn finds_the_payment_scheme_among_several() {
    assert_eq!(
        payment_scheme("Bearer xyz, Payment abc"),
        Some("Payment abc")
    );
    assert_eq!(payment_scheme("Bearer xyz"), None);
    assert_eq!(payment_scheme("payment\tabc"), Some("payment\tabc"));
}

#[test]
fn a_bare_credential_stops_at_a_trailing_scheme() {
    assert_eq!(
        payment_scheme("Payment abc, Bearer xyz"),
        Some("Payment abc")
    );
    assert_eq!(
        payment_scheme("Payment eyJhYmMifQ, Bearer some-app-jwt"),
        Some("Payment eyJhYmMifQ")
    );
}

#[test]
fn payment_counts_only_at_the_start_or_after_a_comma() {
    for header in [
        "XPayment abc",
        "NotPayment abc",
        "Bearer prepayment xyz",
        "Bearer Payment xyz",
        "Paymentabc",
    ] {
        assert_eq!(payment_scheme(header), None, "{header}");
    }
    assert_eq!(
        payment_scheme(r#"Digest username="my payment plan", Payment abc"#),
        Some("Payment abc")
    );
}

#[test]
fn a_structured_challenge_is_not_cut_at_a_quoted_comma() {
    let h = comma_description_header();
    assert_eq!(payment_scheme(&h), Some(h.as_str()));
    assert_eq!(
        payment_scheme(&format!("{h}, Bearer some-app-jwt")),
        Some(h.as_str())
    );
}

#[test]
fn the_text_payment_inside_a_quoted_value_is_not_a_scheme() {
    let h = r#"Payment id="c1", realm="api.nevermined.app", method="nevermined", intent="charge", request="req", description="Ask about the Payment plan, then retry", opaque="op""#;
    assert_eq!(payment_scheme(h), Some(h));
    assert_eq!(
        payment_scheme(&format!("{h}, Bearer some-app-jwt")),
        Some(h)
    );
}

#[test]
fn trailing_whitespace_and_a_trailing_comma_are_trimmed() {
    assert_eq!(payment_scheme("Payment abc \u{a0}"), Some("Payment abc"));
    assert_eq!(payment_scheme("Payment a=\"b,  "), Some("Payment a=\"b"));
    assert_eq!(
        payment_scheme("Payment a=\"b\",  "),
        Some("Payment a=\"b\"")
    );
    // U+0085 is not JavaScript whitespace.
    assert_eq!(payment_scheme("Payment\u{85}abc"), None);
}

// ---------------------------------------------------------------- escaped quoted strings

#[test]
fn an_escaped_quote_does_not_swallow_a_trailing_scheme() {
    let description = "5\" screen replacement plan";
    let header = header_with_description(description);
    assert_eq!(
        payment_scheme(&format!("{header}, Bearer some-app-jwt")),
        Some(header.as_str())
    );
    let c = parsed(&header);
    assert_eq!(c.description.as_deref(), Some(description));
    assert_eq!(c.opaque.as_deref(), Some(OPAQUE_ENCODED));
    assert_eq!(c.id, ID);
    assert_eq!(c.request_encoded, REQUEST_ENCODED);
}

#[test]
fn escaped_quotes_and_backslashes_are_unescaped() {
    for description in [
        "Access to the \"Pro\" tier",
        "back\\slash",
        "Contains \"quotes\" and a back\\slash, and a comma",
        "ends with a backslash\\",
        "é \u{1F600} ünïcode",
    ] {
        let c = parsed(&header_with_description(description));
        assert_eq!(c.description.as_deref(), Some(description));
        assert_eq!(c.request_encoded, REQUEST_ENCODED);
        assert_eq!(c.opaque.as_deref(), Some(OPAQUE_ENCODED));
    }
}

#[test]
fn an_unterminated_quote_runs_to_the_end() {
    let h = format!(
        r#"Payment id="{ID}", realm="api.nevermined.app", method="nevermined", intent="charge", request="{REQUEST_ENCODED}", description="unterminated"#
    );
    assert_eq!(payment_scheme(&h), Some(h.as_str()));
    assert_eq!(parsed(&h).description.as_deref(), Some("unterminated"));
}

// ---------------------------------------------------------------- malformed request=

#[test]
fn an_undecodable_request_is_an_error_not_none() {
    for bad in ["zzz", "!!!", "e30!"] {
        let e = parse_challenge(&header_with_request(bad)).unwrap_err();
        assert!(
            e.starts_with("Could not decode the MPP challenge request parameter: "),
            "{e}"
        );
    }
    // Not UTF-8.
    let e = parse_challenge(&header_with_request(&base64::encode_url(b"\"\xff\""))).unwrap_err();
    assert!(e.ends_with("not UTF-8"), "{e}");
}

#[test]
fn a_request_of_the_wrong_shape_is_the_official_error() {
    for json in [
        "null",
        r#"["a"]"#,
        "\"planId\"",
        r#"{"planId":"123","credits":"2","agentId":42}"#,
        r#"{"planId":"123","credits":"2","agentId":null}"#,
        r#"{"credits":"2"}"#,
        r#"{"planId":42,"credits":"2"}"#,
        r#"{"planId":"","credits":"2"}"#,
        r#"{"planId":"123"}"#,
        r#"{"planId":"123","credits":true}"#,
        r#"{"planId":"123","credits":null}"#,
    ] {
        assert_eq!(
            parse_challenge(&header_with_request(&b64(json))),
            Err(BAD_REQUEST.to_owned()),
            "{json}"
        );
    }
}

#[test]
fn a_numeric_credits_is_coerced_to_a_decimal_string() {
    for (number, credits) in [
        ("2", "2"),
        ("1e3", "1000"),
        ("2.0", "2"),
        ("-0", "0"),
        ("12345678901234567890123", "12345678901234567890123"),
        ("2.5", "2.5"),
        ("-3", "-3"),
    ] {
        let json = format!(r#"{{"planId":"123","credits":{number}}}"#);
        let c = parsed(&header_with_request(&b64(&json)));
        assert_eq!((c.plan_id.as_str(), c.credits.as_str()), ("123", credits));
        assert_eq!(c.request_encoded, b64(&json));
    }
}

#[test]
fn a_well_formed_request_passes_agent_id_through() {
    let c = parsed(&header_with_request(&b64(
        r#"{"planId":"123","credits":"2","agentId":"agent-1"}"#,
    )));
    assert_eq!(
        (
            c.plan_id.as_str(),
            c.credits.as_str(),
            c.agent_id.as_deref()
        ),
        ("123", "2", Some("agent-1"))
    );
    assert_eq!(
        c.to_json()["request"],
        parse(r#"{"planId":"123","credits":"2","agentId":"agent-1"}"#).unwrap()
    );
    let c = parsed(&header_with_request(&b64(
        r#"{"planId":"123","credits":"2"}"#,
    )));
    assert_eq!((c.credits.as_str(), c.agent_id.as_deref()), ("2", None));
}

// ---------------------------------------------------------------- credential_challenge_id

fn credential_fixture() -> String {
    let challenge = format!(
        r#"{{"challenge":{{"id":"{ID}","realm":"api.nevermined.app","method":"nevermined","intent":"charge","request":"eyJjcmVkaXRzIjoiMiIsInBsYW5JZCI6IjEyMyJ9"}},"payload":{{"accessToken":"x"}}}}"#
    );
    format!("Payment {}", b64(&challenge))
}

#[test]
fn reads_the_challenge_id_out_of_a_credential() {
    assert_eq!(
        credential_challenge_id(&credential_fixture()).as_deref(),
        Some(ID)
    );
}

#[test]
fn byte_variants_of_one_credential_have_the_same_id() {
    let c = credential_fixture();
    let token = c.strip_prefix("Payment ").unwrap();
    for variant in [
        format!("payment {token}"),
        format!("Payment  {token}"),
        format!("PAYMENT\t{token} "),
        token.to_owned(),
    ] {
        assert_ne!(variant, c);
        assert_eq!(credential_challenge_id(&variant).as_deref(), Some(ID));
    }
    let reordered = format!(
        "Payment {}",
        b64(&format!(
            r#"{{"payload":{{"accessToken":"x"}},"challenge":{{"intent":"charge","id":"{ID}","realm":"api.nevermined.app"}}}}"#
        ))
    );
    assert_eq!(credential_challenge_id(&reordered).as_deref(), Some(ID));
}

#[test]
fn a_credential_without_a_usable_id_is_none() {
    for input in [
        "Payment !!!not-base64url!!!".to_owned(),
        format!("Payment {}", b64("[]")),
        format!("Payment {}", b64(r#"{"other":true}"#)),
        format!("Payment {}", b64(r#"{"challenge":{}}"#)),
        format!("Payment {}", b64(r#"{"challenge":{"id":""}}"#)),
        format!("Payment {}", b64(r#"{"challenge":{"id":7}}"#)),
        format!("Payment {}", b64(r#"{"challenge":"id"}"#)),
        r#"Payment id="c1", realm="r""#.to_owned(),
        String::new(),
        "Payment ".to_owned(),
    ] {
        assert_eq!(credential_challenge_id(&input), None, "{input}");
    }
}

// ---------------------------------------------------------------- JSON shapes

#[test]
fn a_challenge_round_trips_through_its_json() {
    let mut c = parsed(&header_with_description("a \"b\", c"));
    c.digest = Some("sha-256=x".into());
    let v = c.to_json();
    assert_eq!(
        keys(&v),
        [
            "id",
            "realm",
            "method",
            "intent",
            "request",
            "requestEncoded",
            "digest",
            "opaque",
            "description"
        ]
    );
    assert_eq!(Challenge::from_json(&v), Ok(c.clone()));
    assert_eq!(
        credential(&Challenge::from_json(&v).unwrap(), "t"),
        credential(&c, "t")
    );
}

#[test]
fn a_challenge_from_json_decodes_its_request_from_request_encoded() {
    let mut v = parsed(&challenge_header()).to_json();
    // A `request` that disagrees with `requestEncoded` is not what gets charged: ignored.
    v["request"] = parse(r#"{"planId": "1", "credits": "1"}"#).unwrap();
    v["expires"] = Value::Null;
    let c = Challenge::from_json(&v).unwrap();
    assert_eq!((c.plan_id.as_str(), c.credits.as_str()), (PLAN, "2"));
    assert_eq!(c.expires, None);
}

#[test]
fn a_challenge_from_json_refuses_what_cannot_build_a_credential() {
    let good = parsed(&challenge_header()).to_json();
    assert_eq!(
        Challenge::from_json(&Value::Null),
        Err("challenge must be an object".to_owned())
    );
    for (key, value, message) in [
        ("id", "\"\"", "challenge.id must be a non-empty string"),
        ("realm", "7", "challenge.realm must be a string"),
        (
            "requestEncoded",
            "null",
            "challenge.requestEncoded must be a non-empty string",
        ),
        ("opaque", "{}", "challenge.opaque must be a string"),
        (
            "requestEncoded",
            "\"e30!\"",
            "Could not decode the MPP challenge request parameter: not base64url",
        ),
    ] {
        let mut v = good.clone();
        v[key] = parse(value).unwrap();
        assert_eq!(Challenge::from_json(&v), Err(message.to_owned()), "{key}");
    }
    let mut v = good.clone();
    v["requestEncoded"] = Value::from(b64("null"));
    assert_eq!(Challenge::from_json(&v), Err(BAD_REQUEST.to_owned()));
}

// ---------------------------------------------------------------- helpers

#[test]
fn decimal_credits_takes_only_ascii_digits() {
    for good in [
        "0",
        "2",
        "000",
        "115792089237316195423570985008687907853269984665640564039457584007913129639936",
    ] {
        assert_eq!(decimal_credits(good), Ok(good));
    }
    for (bad, shown) in [
        ("", r#""""#),
        ("1.5", r#""1.5""#),
        ("-1", r#""-1""#),
        (" 5", r#"" 5""#),
        ("5\n", r#""5\n""#),
        ("0x10", r#""0x10""#),
        ("1e3", r#""1e3""#),
        ("٣", "\"٣\""),
        ("a\"b", r#""a\"b""#),
    ] {
        assert_eq!(
            decimal_credits(bad),
            Err(format!(
                "credits must be a non-negative integer decimal string, got {shown}"
            ))
        );
    }
}

#[test]
fn receipt_failure_statuses() {
    for failed in [
        "failed",
        "FAILURE",
        " Declined\n",
        "error",
        "\u{feff}Error\u{a0}",
    ] {
        assert!(receipt_states_failure(failed), "{failed:?}");
    }
    for other in [
        "success",
        "",
        "fail",
        "errors",
        "pending",
        "faİled",
        "\u{85}failed",
    ] {
        assert!(!receipt_states_failure(other), "{other:?}");
    }
}

#[test]
fn retryable_codes_are_expired_and_digest_mismatch() {
    assert!(retryable_code("BCK.MPP.0004"));
    assert!(retryable_code("BCK.MPP.0005"));
    for other in [
        "BCK.MPP.0002",
        "BCK.MPP.0003",
        "bck.mpp.0004",
        "",
        "BCK.MPP.00040",
    ] {
        assert!(!retryable_code(other), "{other}");
    }
}

#[test]
fn body_digest_is_sha_256_in_standard_base64() {
    // SHA-256 of the empty string.
    let empty: [u8; 32] = [
        0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9,
        0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52,
        0xb8, 0x55,
    ];
    assert_eq!(
        body_digest(&empty),
        "sha-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
    );
}

#[test]
fn long_hostile_headers_are_read_in_one_pass() {
    // Each comma looks ahead only to the next one: 10^5 of them stay linear.
    let n = 100_000;
    let commas = format!("Payment a=\"b\"{}", ", c=d".repeat(n));
    assert_eq!(payment_scheme(&commas), Some(commas.as_str()));
    assert_eq!(parse_challenge(&commas), Ok(None));
    let spaces = format!("{}Payment x", ", \t ".repeat(n));
    assert_eq!(payment_scheme(&spaces), Some("Payment x"));
    let escapes = format!("Payment id=\"{}", "\\\\\\\"".repeat(n));
    assert_eq!(payment_scheme(&escapes), Some(escapes.as_str()));
    let ids = format!("Payment {}", "id=\"x\",".repeat(n));
    assert_eq!(payment_scheme(&ids), Some(ids.strip_suffix(',').unwrap()));
}
