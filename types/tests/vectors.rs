//! The x402 v2 HTTP transport specification's example headers: each decodes to
//! exactly its JSON and re-encodes to exactly its header (the core's codecs);
//! the typed layer (this crate's PaymentRequired) reads each and writes back
//! the same JSON value.

use nvm_x402::protocol::json::{parse, Value};
use nvm_x402::protocol::{decode_payment_header, encode_payment_header, try_decode_access_token};
use nvm_x402_types::PaymentRequired;

fn cases() -> Vec<Value> {
    let text = include_str!("../../tests/vectors/x402-v2-http-spec.json");
    let doc = parse(text).unwrap();
    // Our reader and serde_json's agree on the whole file.
    let theirs: serde_json::Value = serde_json::from_str(text).unwrap();
    assert_eq!(serde_json::Value::from(doc.clone()), theirs);
    let cases = doc["cases"].as_array().unwrap().clone();
    assert_eq!(
        cases.len(),
        4,
        "the vector file should hold the spec's four examples"
    );
    cases
}

#[test]
fn every_header_decodes_to_its_json_and_re_encodes_exactly() {
    for case in cases() {
        let name = case["case"].as_str().unwrap();
        let header = case["value"].as_str().unwrap();
        let decoded = decode_payment_header(header).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            Value::Object(decoded.clone()),
            case["decoded"],
            "{name}: decoded JSON differs"
        );
        assert_eq!(
            encode_payment_header(&Value::Object(decoded)).unwrap(),
            header,
            "{name}: re-encoding differs"
        );
        // Encoding the vector's own JSON (not our decode of it) gives the header too.
        assert_eq!(
            encode_payment_header(&case["decoded"]).unwrap(),
            header,
            "{name}: encoding the given JSON differs"
        );
    }
}

#[test]
fn payment_signature_is_also_a_decodable_token() {
    let case = cases()
        .into_iter()
        .find(|c| c["header"] == "payment-signature")
        .unwrap();
    let token = try_decode_access_token(case["value"].as_str().unwrap()).unwrap();
    assert_eq!(Value::Object(token), case["decoded"]);
}

#[test]
fn payment_required_reads_standard_entries_without_losing_fields() {
    let case = cases()
        .into_iter()
        .find(|c| c["header"] == "payment-required")
        .unwrap();
    let pr = PaymentRequired::from_value(case["decoded"].clone()).unwrap();
    assert_eq!(pr.accepts.len(), 1);
    assert_eq!(pr.accepts[0].plan_id, None);
    assert_eq!(
        pr.accepts[0].scheme,
        case["decoded"]["accepts"][0]["scheme"]
    );
    assert_eq!(pr.error.as_deref(), case["decoded"]["error"].as_str());
    assert_eq!(
        Value::from(serde_json::to_value(&pr).unwrap()),
        case["decoded"]
    );
}
