//! The agent card and the pure A2A readers.

use super::*;
use crate::json;

#[test]
fn the_card_gets_both_extensions_with_the_metadata_as_params() {
    let meta = json!({"agentId": "a", "planId": "p", "credits": 5, "paymentType": "fixed", "costDescription": "5 credits"});
    let card = build_payment_agent_card(
        &json!({"name": "n", "capabilities": {"streaming": true, "extensions": [{"uri": "x"}]}}),
        &meta,
    )
    .unwrap();
    let ext = &card["capabilities"]["extensions"];
    assert_eq!(ext[0]["uri"], json!("x"));
    assert_eq!(ext[1]["uri"], json!(NVM_PAYMENT_EXTENSION_URI));
    assert_eq!(ext[1]["params"], meta);
    assert_eq!(ext[1]["description"], json!("5 credits"));
    assert_eq!(ext[2]["uri"], json!(A2A_X402_EXTENSION_URI));
    assert_eq!(card["capabilities"]["streaming"], json!(true));
    assert_eq!(card["name"], json!("n"));
}

#[test]
fn the_card_checks_what_the_official_helper_checks() {
    let card = json!({"name": "n"});
    for (meta, why) in [
        (
            json!({"agentId": "a", "credits": 1}),
            "paymentType is required",
        ),
        (
            json!({"agentId": "a", "credits": -1, "paymentType": "fixed"}),
            "credits cannot be negative",
        ),
        (
            json!({"agentId": "a", "credits": 0, "paymentType": "fixed"}),
            "credits must be a positive number for paid plans",
        ),
        (
            json!({"credits": 1, "paymentType": "fixed"}),
            "agentId is required",
        ),
    ] {
        assert_eq!(
            build_payment_agent_card(&card, &meta)
                .unwrap_err()
                .to_string(),
            why
        );
    }
    let trial = json!({"agentId": "a", "credits": 0, "paymentType": "fixed", "isTrialPlan": true});
    assert!(build_payment_agent_card(&card, &trial).is_ok());
}

#[test]
fn the_payload_is_taken_out_of_the_message_and_capped() {
    let m = json!({"message": {"messageId": "m", "metadata": {"x402.payment.payload": {"a": 1}, "keep": 2}}});
    let read = IncomingMessage::read(&m, Some("header")).unwrap();
    assert!(matches!(read.payment, Payment::Token(ref t) if t != "header"));
    assert_eq!(read.message["metadata"], json!({"keep": 2}));
    let header = IncomingMessage::read(&json!({"message": {"messageId": "m"}}), Some("h")).unwrap();
    assert_eq!(header.payment, Payment::Token("h".into()));
    assert_eq!(
        IncomingMessage::read(&json!({}), None).unwrap_err(),
        "message is required."
    );
}

#[test]
fn a_pay_as_you_go_settle_charges_no_credits_in_the_task() {
    let task = json!({"id": "t", "contextId": "c", "status": {"state": "completed"}});
    let credits = json!({"success": true, "transaction": "0x1", "creditsRedeemed": "2"});
    let done = completed(task.clone(), Some(&credits), &Uint256::from(2), "m");
    assert_eq!(done["metadata"]["creditsCharged"], json!("2"));
    let payg = json!({"success": true, "transaction": "0x2", "billingModel": "pay-as-you-go", "creditsRedeemed": "0", "orderTx": "0x3"});
    let done = completed(task, Some(&payg), &Uint256::from(2), "m");
    assert_eq!(done["metadata"].get("creditsCharged"), None);
    assert_eq!(done["metadata"]["txHash"], json!("0x2"));
    let receipts = &done["status"]["message"]["metadata"][RECEIPTS_KEY];
    assert_eq!(receipts, &json!([payg]));
}
