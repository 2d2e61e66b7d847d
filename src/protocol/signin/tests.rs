use super::*;
use crate::json;

// {"sub":"0xabc"}
const JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIweGFiYyJ9.c2ln";
const STATE: &str = "0123456789abcdef0123456789abcdef";

fn options(v: Value) -> BrowserOptions {
    BrowserOptions::from_json(&v).unwrap()
}

fn local() -> BrowserOptions {
    options(
        json!({"returnUrl": "http://127.0.0.1:8080/app?tab=pay#top", "environment": "local", "backendUrl": "http://127.0.0.1:4555", "keyStorage": "sessionStorage"}),
    )
}

#[test]
fn options_need_a_return_url_and_an_environment_and_name_the_apps() {
    for bad in [
        json!(null),
        json!({}),
        json!({"returnUrl": "  ", "environment": "sandbox"}),
    ] {
        assert_eq!(
            BrowserOptions::from_json(&bad).unwrap_err().to_string(),
            "returnUrl is required"
        );
    }
    for (v, why) in [
        (
            json!({"returnUrl": "/relative", "environment": "sandbox"}),
            "absolute https:",
        ),
        (
            json!({"returnUrl": "https://u:p@a.example/", "environment": "sandbox"}),
            "user name",
        ),
        (
            json!({"returnUrl": "https://a.example/"}),
            "environment must be",
        ),
        (
            json!({"returnUrl": "https://a.example/", "environment": "mars"}),
            "environment must be",
        ),
        (
            json!({"returnUrl": "https://a.example/", "environment": "custom"}),
            "required for the custom",
        ),
        (
            json!({"returnUrl": "https://a.example/", "environment": "sandbox", "keyStorage": "cookie"}),
            "keyStorage",
        ),
        (
            json!({"returnUrl": "https://a.example/", "environment": "sandbox", "frontendUrl": "http://evil.example"}),
            "https",
        ),
        // The key comes back in returnUrl: never in clear to another machine.
        (
            json!({"returnUrl": "http://shop.example/", "environment": "sandbox"}),
            "returnUrl must be an absolute https:",
        ),
        (
            json!({"returnUrl": "http://127.0.0.1.shop.example/", "environment": "sandbox"}),
            "returnUrl must be an absolute https:",
        ),
    ] {
        let err = BrowserOptions::from_json(&v).unwrap_err();
        assert_eq!(err.code(), "validation");
        assert!(err.to_string().contains(why), "{err}");
    }
    let sandbox = options(json!({"returnUrl": "https://a.example/", "environment": "sandbox"}));
    assert_eq!(
        (
            sandbox.web_app.as_str(),
            sandbox.embed.as_str(),
            sandbox.key_storage
        ),
        (
            "https://nevermined.app",
            "https://embed.nevermined.app",
            KeyStorage::Memory
        )
    );
    let staging =
        options(json!({"returnUrl": "https://a.example/", "environment": "staging_live"}));
    assert_eq!(
        (staging.web_app.as_str(), staging.embed.as_str()),
        ("https://nevermined.dev", "https://embed.nevermined.dev")
    );
    // The local environment's apps are nvm-local's own origin.
    let l = local();
    assert_eq!(
        (l.web_app.as_str(), l.embed.as_str(), l.key_storage),
        (
            "http://127.0.0.1:4555",
            "http://127.0.0.1:4555",
            KeyStorage::Session
        )
    );
    assert_eq!(
        options(json!({"returnUrl": "http://localhost/", "environment": "local"})).web_app,
        "http://127.0.0.1:3001"
    );
}

#[test]
fn the_sign_in_url_encodes_the_return_url_with_the_state_inside() {
    let url = sign_in_url(&local(), STATE).unwrap();
    assert_eq!(url, "http://127.0.0.1:4555/login?returnUrl=http%3A%2F%2F127.0.0.1%3A8080%2Fapp%3Ftab%3Dpay%26nvmState%3D0123456789abcdef0123456789abcdef%23top");
    // A state left in returnUrl (or a key) is replaced, not doubled.
    let o = options(
        json!({"returnUrl": "https://a.example/?nvmState=old&nvmApiKey=x&q=1", "environment": "sandbox"}),
    );
    let url = sign_in_url(&o, STATE).unwrap();
    assert_eq!(
        url,
        format!(
            "https://nevermined.app/login?returnUrl={}",
            encode_component(&format!("https://a.example/?q=1&nvmState={STATE}"))
        )
    );
    for bad in ["", "abc", "0123456789abcdef0123456789abcdeg"] {
        assert_eq!(sign_in_url(&local(), bad).unwrap_err().code(), "validation");
    }
}

fn back(query: &str) -> String {
    format!("http://127.0.0.1:8080/app?tab=pay&{query}#top")
}

#[test]
fn a_return_with_this_tabs_state_signs_in_and_leaves_no_key_in_the_address() {
    let href = back(&format!(
        "nvmState={STATE}&nvmApiKey=local%3A{JWT}&accountAddress=0xABC"
    ));
    let l = landing(&local(), &href, Some(STATE), &json!({}), STATE, None).unwrap();
    assert!(l.sign_in_error.is_none(), "{:?}", l.sign_in_error);
    assert_eq!(l.key.as_deref(), Some(format!("local:{JWT}").as_str()));
    assert!(l.store_key && l.sign_in_state_used && !l.forget_key);
    assert_eq!(
        l.url.as_deref(),
        Some("http://127.0.0.1:8080/app?tab=pay#top")
    );
    // Memory: nothing stored.
    let memory = options(json!({"returnUrl": "http://127.0.0.1:8080/", "environment": "local"}));
    assert!(
        !landing(&memory, &href, Some(STATE), &json!({}), STATE, None)
            .unwrap()
            .store_key
    );
}

#[test]
fn a_forged_missing_or_reused_state_is_refused_and_stripped() {
    let key = format!("nvmApiKey=local%3A{JWT}");
    let other = "ffffffffffffffffffffffffffffffff";
    for (href, stored) in [
        (back(&format!("nvmState={other}&{key}")), Some(STATE)), // made elsewhere
        (back(&key), Some(STATE)),                               // no state
        (back(&format!("nvmState={STATE}&{key}")), None), // used already (this tab has none left)
        (
            back(&format!("nvmState={STATE}&nvmState={other}&{key}")),
            Some(other),
        ), // the first one counts
    ] {
        let l = landing(
            &local(),
            &href,
            stored,
            &json!({"sessionStorage": "local:garbage"}),
            STATE,
            None,
        )
        .unwrap();
        let err = l.sign_in_error.expect("refused");
        assert_eq!(l.to_json()["signInError"]["code"], SIGNIN_REFUSED, "{href}");
        assert_eq!(l.key, None, "{href}");
        assert!(!l.store_key);
        assert_eq!(
            l.url.as_deref(),
            Some("http://127.0.0.1:8080/app?tab=pay#top")
        );
        assert!(!err.contains(JWT));
    }
    // A refused return keeps whoever was signed in.
    let saved = format!("local:{JWT}");
    let l = landing(
        &local(),
        &back(&key),
        Some(STATE),
        &json!({"sessionStorage": saved, "localStorage": "x"}),
        STATE,
        None,
    )
    .unwrap();
    assert_eq!(
        (l.key.as_deref(), l.sign_in_error.is_some()),
        (Some(saved.as_str()), true)
    );
}

#[test]
fn a_key_of_another_environment_or_no_key_is_refused() {
    for query in [
        format!("nvmState={STATE}&nvmApiKey=live%3A{JWT}"),
        format!("nvmState={STATE}&nvmApiKey=local%3Anot-a-jwt"),
        format!("nvmState={STATE}&nvmApiKey="),
    ] {
        let l = landing(
            &local(),
            &back(&query),
            Some(STATE),
            &json!({}),
            STATE,
            None,
        )
        .unwrap();
        assert!(l.sign_in_error.is_some(), "{query}");
        assert_eq!(l.key, None);
    }
}

#[test]
fn a_plain_load_uses_the_saved_key_of_this_environment_only() {
    let saved = format!("local:{JWT}");
    let l = landing(
        &local(),
        "http://127.0.0.1:8080/app",
        None,
        &json!({"sessionStorage": saved, "localStorage": "x"}),
        STATE,
        None,
    )
    .unwrap();
    assert_eq!(
        (l.key.as_deref(), l.url, l.forget_key),
        (Some(saved.as_str()), None, false)
    );
    // Only the storage keyStorage names is read: memory reads none.
    let memory = options(json!({"returnUrl": "http://127.0.0.1:8080/", "environment": "local"}));
    assert_eq!(
        landing(
            &memory,
            "http://127.0.0.1:8080/app",
            None,
            &json!({"sessionStorage": saved, "localStorage": saved}),
            STATE,
            None
        )
        .unwrap()
        .key,
        None
    );
    let l = landing(
        &local(),
        "http://127.0.0.1:8080/app",
        None,
        &json!({"sessionStorage": format!("sandbox:{JWT}")}),
        STATE,
        None,
    )
    .unwrap();
    assert_eq!((l.key, l.forget_key), (None, true));
    // Someone else's parameter is left alone.
    let l = landing(
        &local(),
        "http://127.0.0.1:8080/app?state=x",
        None,
        &json!({}),
        STATE,
        None,
    )
    .unwrap();
    assert_eq!((l.url, l.sign_in_error), (None, None));
}

#[test]
fn secrets_compare_by_content_only() {
    assert!(same_secret(STATE, STATE));
    assert!(!same_secret(STATE, "0123456789abcdef0123456789abcdee"));
    assert!(!same_secret(STATE, ""));
    assert_eq!(encode_component("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
}

#[test]
fn params_are_appended_before_the_fragment_and_forms_decode() {
    assert_eq!(
        with_params("http://127.0.0.1:5/cb", &[("nvm_api_key", "local:a.b")]),
        "http://127.0.0.1:5/cb?nvm_api_key=local%3Aa.b"
    );
    assert_eq!(
        with_params(
            "https://a.example/p?x=1&nvmApiKey=old#f",
            &[("nvmApiKey", "k"), ("accountAddress", "0x1")]
        ),
        "https://a.example/p?x=1&nvmApiKey=k&accountAddress=0x1#f"
    );
    assert_eq!(
        form_pairs("returnUrl=http%3A%2F%2Fa%2F%3Fq%3D1&name=my+name&x"),
        vec![
            ("returnUrl".into(), "http://a/?q=1".into()),
            ("name".into(), "my name".into()),
            ("x".into(), String::new())
        ]
    );
}

fn session(token: &str) -> Value {
    json!({"sessionToken": token, "expiresAt": "2026-01-01T00:00:00.000Z", "isReturnUrlAllowed": true})
}

#[test]
fn card_setup_goes_to_the_embed_app_with_the_session_and_a_clean_return_url() {
    let o = options(
        json!({"returnUrl": "http://127.0.0.1:8080/app?tab=pay&state=mine&delegationId=old#top", "environment": "local", "backendUrl": "http://127.0.0.1:4555"}),
    );
    assert_eq!(card_return_url(&o), "http://127.0.0.1:8080/app?tab=pay#top");
    // First the session to mint (for exactly that URL), then the page.
    assert_eq!(
        card_setup(&o, &json!({"orgId": "org-1"}), None, STATE).unwrap(),
        json!({"orgId": "org-1", "returnUrl": "http://127.0.0.1:8080/app?tab=pay#top"})
    );
    let url = card_setup(&o, &json!(null), Some(&session("s t/ok")), STATE).unwrap();
    assert_eq!(
        url,
        format!(
            "http://127.0.0.1:4555/cards/setup?sessionToken=s%20t%2Fok&returnUrl={}&state={STATE}&provider=stripe&network=sandbox",
            encode_component("http://127.0.0.1:8080/app?tab=pay#top")
        )
    );
    // The hosted embed apps, and the network the session was minted on.
    for (env, embed, network) in [
        ("sandbox", "https://embed.nevermined.app", "sandbox"),
        ("live", "https://embed.nevermined.app", "live"),
        ("staging_live", "https://embed.nevermined.dev", "live"),
    ] {
        let o = options(json!({"returnUrl": "https://shop.example/", "environment": env}));
        let url = card_setup(&o, &json!({"provider": "visa"}), Some(&session("t")), STATE).unwrap();
        let url = url.as_str().unwrap();
        assert!(
            url.starts_with(&format!("{embed}/cards/setup?sessionToken=t&")),
            "{url}"
        );
        assert!(
            url.ends_with(&format!("&provider=visa&network={network}")),
            "{url}"
        );
    }
}

#[test]
fn card_setup_refuses_a_bad_provider_state_or_session_before_anything_opens() {
    let o = local();
    // The options are checked before anything is minted, the session before anything opens.
    for (setup, state) in [
        (json!({"provider": "erc4337"}), STATE),
        (json!("stripe"), STATE),
        (json!({"orgId": 7}), STATE),
        (json!(null), "abc"),
    ] {
        for minted in [None, Some(&session("t"))] {
            let err = card_setup(&o, &setup, minted, state).unwrap_err();
            assert_eq!(err.code(), "validation", "{setup:?} {state}");
        }
    }
    for bad in [json!({"sessionToken": ""}), json!({})] {
        let err = card_setup(&o, &json!(null), Some(&bad), STATE).unwrap_err();
        assert_eq!(err.code(), "validation", "{bad:?}");
    }
    let err = card_setup(
        &o,
        &json!(null),
        Some(&json!({"sessionToken": "t", "isReturnUrlAllowed": false})),
        STATE,
    )
    .unwrap_err();
    assert_eq!(err.code(), CARD_SETUP_REFUSED);
    assert!(err.hint().contains("localhost"));
}

#[test]
fn a_card_setup_return_with_this_tabs_state_is_read_once_and_stripped() {
    let href = back(&format!(
        "paymentMethodId=pm_1AB&delegationId=9719d8b5-0000-4000-8000-000000000001&state={STATE}"
    ));
    let l = landing(&local(), &href, None, &json!({}), STATE, Some(STATE)).unwrap();
    assert_eq!(l.card_setup_error, None);
    assert_eq!(
        l.card_setup,
        Some((
            "pm_1AB".to_owned(),
            "9719d8b5-0000-4000-8000-000000000001".to_owned()
        ))
    );
    assert!(l.card_state_used);
    assert_eq!(
        l.url.as_deref(),
        Some("http://127.0.0.1:8080/app?tab=pay#top")
    );
    let j = l.to_json();
    assert_eq!(
        j["cardSetup"]["delegationId"],
        "9719d8b5-0000-4000-8000-000000000001"
    );
    assert_eq!(j["cardStateUsed"], true);
    // Sign-in is untouched by it.
    assert_eq!(
        (l.key, l.sign_in_error, l.sign_in_state_used),
        (None, None, false)
    );
}

#[test]
fn a_forged_missing_or_replayed_card_setup_return_is_refused_and_stripped() {
    let ids = "paymentMethodId=pm_x&delegationId=d-1";
    let other = "ffffffffffffffffffffffffffffffff";
    for (query, stored) in [
        (format!("{ids}&state={other}"), Some(STATE)), // made elsewhere
        (ids.to_owned(), Some(STATE)),                 // no state
        (format!("{ids}&state={STATE}"), None),        // used already
        (format!("delegationId=d-1&state={STATE}"), Some(STATE)), // half a return
        (
            format!("paymentMethodId=pm%3Cx&delegationId=d-1&state={STATE}"),
            Some(STATE),
        ), // not an id
    ] {
        let l = landing(&local(), &back(&query), None, &json!({}), STATE, stored).unwrap();
        assert!(l.card_setup_error.is_some(), "{query}");
        assert_eq!(l.card_setup, None, "{query}");
        assert_eq!(l.card_state_used, stored.is_some());
        assert_eq!(
            l.to_json()["cardSetupError"]["code"],
            CARD_SETUP_REFUSED,
            "{query}"
        );
        assert_eq!(
            l.url.as_deref(),
            Some("http://127.0.0.1:8080/app?tab=pay#top"),
            "{query}"
        );
    }
    // A page's own `state` (no ids) is not a card-setup return: left alone, nothing used.
    let l = landing(
        &local(),
        &back("state=abc"),
        None,
        &json!({}),
        STATE,
        Some(STATE),
    )
    .unwrap();
    assert_eq!(
        (l.url, l.card_setup_error, l.card_state_used),
        (None, None, false)
    );
}

#[test]
fn the_sign_in_return_url_carries_no_card_setup_parameters() {
    let o = options(
        json!({"returnUrl": "https://a.example/?paymentMethodId=p&delegationId=d&state=s&q=1", "environment": "sandbox"}),
    );
    assert_eq!(
        sign_in_url(&o, STATE).unwrap(),
        format!(
            "https://nevermined.app/login?returnUrl={}",
            encode_component(&format!("https://a.example/?q=1&nvmState={STATE}"))
        )
    );
}
