//! The JSON value, reader and writer against serde_json.

use super::*;

/// Every text serde_json reads, we read to the same tree and write to the same text.
#[test]
fn agrees_with_serde_json() {
    let texts = [
        r#"{"a":1,"b":[true,false,null],"c":{"d":"e"}}"#,
        r#"  [ 1 , -2 , 3.25 , -0.5e-3 , 1E+2 , 0 ]  "#,
        r#""esc \" \\ \/ \b \f \n \r \t \u0001 \u00e9 \u20ac \ud83d\ude00 é""#,
        r#"{"z":1,"a":2,"z":3}"#,
        "[]",
        "{}",
        r#"[[[[{"x":[]}]]]]"#,
        "\"\u{7f}\"",
    ];
    for text in texts {
        let ours = parse(text).unwrap();
        let theirs: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(ours, Value::from(theirs.clone()), "{text}");
        let written = to_text(&ours);
        let reread: serde_json::Value = serde_json::from_str(&written).unwrap();
        assert_eq!(reread, theirs, "{text} -> {written}");
        if !text.contains(['.', 'E']) {
            assert_eq!(written, serde_json::to_string(&theirs).unwrap(), "{text}");
        }
    }
}

#[test]
fn rejects_what_serde_json_rejects() {
    let bad = [
        "",
        " ",
        "{",
        "}",
        "[1,]",
        "[,1]",
        "{\"a\":1,}",
        "{\"a\" 1}",
        "{a:1}",
        "01",
        "1.",
        ".1",
        "-",
        "+1",
        "1e",
        "1e+",
        "tru",
        "nul",
        "NaN",
        "\"abc",
        "\"\\x\"",
        "\"\\u12\"",
        "\"\\ud800\"",
        "\"\\udc00\"",
        "\"\\ud800\\u0041\"",
        "\"a\u{1}b\"",
        "[1] [2]",
        "{} x",
        "[\"\\",
        "\"\\u",
    ];
    for text in bad {
        assert!(parse(text).is_err(), "{text:?} should be rejected");
        assert!(
            serde_json::from_str::<serde_json::Value>(text).is_err(),
            "{text:?}"
        );
    }
    assert_eq!(parse("[1, x]").unwrap_err().offset, 4);
    let deep = "[".repeat(129) + &"]".repeat(129);
    assert!(parse(&deep).is_err());
    let ok = "[".repeat(128) + &"]".repeat(128);
    assert!(parse(&ok).is_ok());
}

/// Random texts over JSON's alphabet (mostly invalid, many valid): we accept
/// exactly what serde_json accepts, read the same tree, and write text
/// serde_json reads back to that tree.
#[test]
fn random_texts_agree_with_serde_json() {
    let alphabet: Vec<char> = "{}[]\",:0123456789.eE+- \ttrufalsn\\/u\u{e9}\u{1}"
        .chars()
        .collect();
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let (mut valid, mut total) = (0, 0);
    for _ in 0..40_000 {
        let len = (next() % 12) as usize;
        let mut text: String = (0..len)
            .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
            .collect();
        // Half of the cases start from a valid document, then get one random edit.
        if next() % 2 == 0 {
            text = format!(
                r#"{{"a":[1,-2.5e3,"x\u00e9",true,null,{{}}],"{}":{{"c":[]}}}}"#,
                next() % 100
            );
            let at = (next() as usize) % text.len();
            let b = alphabet[(next() % alphabet.len() as u64) as usize];
            if text.is_char_boundary(at) {
                text.insert(at, b);
            }
        }
        let ours = parse(&text);
        let theirs = serde_json::from_str::<serde_json::Value>(&text);
        total += 1;
        match (&ours, &theirs) {
            (Ok(v), Ok(t)) => {
                valid += 1;
                // Numbers compared as serde_json reads them (its float reading
                // is not always exact; ours keeps the text).
                assert_eq!(serde_json::Value::from(v.clone()), *t, "{text:?}");
                let reread: serde_json::Value = serde_json::from_str(&to_text(v)).unwrap();
                assert_eq!(&reread, t, "{text:?}");
            }
            (Err(_), Err(_)) => {}
            // serde_json refuses numbers beyond f64's range; we keep their text.
            (Ok(_), Err(e)) if e.to_string().contains("out of range") => {}
            _ => panic!("{text:?}: ours {ours:?}, serde_json {theirs:?}"),
        }
    }
    assert!(valid > 1_000 && valid < total, "{valid} of {total} valid");
}

#[test]
fn numbers_keep_their_text() {
    let v =
        parse("[12345678901234567890123, 1.10, -0, 18446744073709551615, -9223372036854775808]")
            .unwrap();
    assert_eq!(
        to_text(&v),
        "[12345678901234567890123,1.10,-0,18446744073709551615,-9223372036854775808]"
    );
    assert_eq!(v[0].as_u64(), None);
    assert_eq!(v[3].as_u64(), Some(u64::MAX));
    assert_eq!(v[4].as_i64(), Some(i64::MIN));
    assert_eq!(v[1].as_f64(), Some(1.1));
    assert!(!v[2].as_number().unwrap().is_negative());
    assert!(Number::from_text("-0.01").unwrap().is_negative());
    assert_eq!(
        Number::from_text("1e401").unwrap().non_negative_integer(),
        None
    );
    assert_eq!(
        Number::from_text("12e20")
            .unwrap()
            .non_negative_integer()
            .as_deref(),
        Some("1200000000000000000000")
    );
}

#[test]
fn maps_keep_order_and_compare_as_sets() {
    let mut m = parse(r#"{"b":1,"a":2,"c":3}"#).unwrap();
    let o = m.as_object_mut().unwrap();
    assert_eq!(o.insert("a".into(), Value::from(9)), Some(Value::from(2)));
    assert_eq!(o.remove("b"), Some(Value::from(1)));
    o.insert("d".into(), Value::Null);
    assert_eq!(to_text(&m), r#"{"a":9,"c":3,"d":null}"#);
    assert_eq!(m, parse(r#"{"d":null,"c":3,"a":9}"#).unwrap());
    assert_ne!(m, parse(r#"{"c":3,"a":9}"#).unwrap());
    assert_eq!(m["nope"], Value::Null);
    assert_eq!(
        serde_json::Value::from(m.clone()),
        serde_json::json!({"a":9,"c":3,"d":null})
    );
}
