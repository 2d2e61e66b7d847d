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
            "absolute http(s)",
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
    let l = landing(&local(), &href, Some(STATE), &json!({}), STATE).unwrap();
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
        !landing(&memory, &href, Some(STATE), &json!({}), STATE)
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
        let l = landing(&local(), &back(&query), Some(STATE), &json!({}), STATE).unwrap();
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
            STATE
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
