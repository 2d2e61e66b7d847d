//! The JSON writer: [`Value`] to compact text (serde_json's escaping).

use super::{Map, Value};

// ---------------------------------------------------------------- writing

/// The compact JSON text of a value (what `serde_json::to_string` writes).
pub fn to_text(v: &Value) -> String {
    let mut out = String::new();
    write(&mut out, v);
    out
}

fn write(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.0),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => write_object(out, map),
    }
}

pub(super) fn write_object(out: &mut String, map: &Map) {
    out.push('{');
    for (i, (k, v)) in map.0.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_string(out, k);
        out.push(':');
        write(out, v);
    }
    out.push('}');
}

/// A JSON string literal: `"` and `\\` escaped, control characters as
/// `\n`-style or `\u00xx` escapes, everything else as is. Runs that need no
/// escape are found with one tight scan and copied whole.
pub fn write_string(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.reserve(s.len() + 2);
    out.push('"');
    let bytes = s.as_bytes();
    let mut run = 0;
    while let Some(len) = bytes.get(run..).and_then(|rest| {
        rest.iter()
            .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
    }) {
        let i = run + len;
        // The scan stops only at ASCII bytes, so this is a whole-character slice.
        out.push_str(s.get(run..i).unwrap_or_default());
        let b = bytes[i];
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            _ => "",
        };
        if escape.is_empty() {
            out.push_str("\\u00");
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 15) as usize] as char);
        } else {
            out.push_str(escape);
        }
        run = i + 1;
    }
    out.push_str(s.get(run..).unwrap_or_default());
    out.push('"');
}
