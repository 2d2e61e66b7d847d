//! The JSON reader: text to [`Value`] (depth limit, no lone surrogates or
//! control characters, numbers kept as written).

use super::{Map, Number, Value};
use std::fmt;

/// Why a text is not JSON: the byte offset where reading stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseError {
    /// Byte offset into the text.
    pub offset: usize,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid JSON at byte {}", self.offset)
    }
}

impl std::error::Error for ParseError {}

// ---------------------------------------------------------------- reading

/// How deep arrays and objects may nest (as in `serde_json`).
const MAX_DEPTH: u32 = 128;

/// Parses a JSON text (surrounding whitespace allowed, nothing else).
pub fn parse(text: &str) -> Result<Value, ParseError> {
    let mut p = Parser {
        text,
        at: 0,
        depth: 0,
    };
    let v = p.value();
    p.space();
    match v {
        Some(v) if p.at == text.len() => Ok(v),
        _ => Err(ParseError { offset: p.at }),
    }
}

pub(super) struct Parser<'a> {
    pub(super) text: &'a str,
    pub(super) at: usize,
    pub(super) depth: u32,
}

impl Parser<'_> {
    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    #[inline(always)]
    fn eat(&mut self, b: u8) -> bool {
        let hit = self.peek() == Some(b);
        self.at += hit as usize;
        hit
    }

    fn space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn value(&mut self) -> Option<Value> {
        self.space();
        match self.peek()? {
            b'{' => self.nested(b'}'),
            b'[' => self.nested(b']'),
            b'"' => self.string().map(Value::String),
            b't' => self.word("true", Value::Bool(true)),
            b'f' => self.word("false", Value::Bool(false)),
            b'n' => self.word("null", Value::Null),
            _ => self.number().map(Value::Number),
        }
    }

    fn word(&mut self, word: &str, v: Value) -> Option<Value> {
        let hit = self.text.get(self.at..)?.starts_with(word);
        self.at += if hit { word.len() } else { 0 };
        hit.then_some(v)
    }

    /// An object (`close` is `}`) or an array (`]`); at its opening bracket.
    fn nested(&mut self, close: u8) -> Option<Value> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        self.at += 1;
        let mut map = Map::new();
        let mut items = Vec::new();
        self.space();
        if !self.eat(close) {
            loop {
                if close == b'}' {
                    self.space();
                    if self.peek() != Some(b'"') {
                        return None;
                    }
                    let key = self.string()?;
                    self.space();
                    if !self.eat(b':') {
                        return None;
                    }
                    let v = self.value()?;
                    map.insert(key, v);
                } else {
                    items.push(self.value()?);
                }
                self.space();
                if self.eat(close) {
                    break;
                }
                if !self.eat(b',') {
                    return None;
                }
            }
        }
        self.depth -= 1;
        Some(if close == b'}' {
            Value::Object(map)
        } else {
            Value::Array(items)
        })
    }

    /// A string; at its opening quote. Runs without escapes are found with
    /// one tight scan and copied whole (a token is a 700-byte run): a byte at
    /// a time through `peek` was most of the gate's JSON reading in a profile.
    fn string(&mut self) -> Option<String> {
        self.at += 1;
        let bytes = self.text.as_bytes();
        let mut out = String::new();
        loop {
            let run = self.at;
            let len = bytes
                .get(run..)?
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
            self.at = run + len;
            // The scan stops only at ASCII bytes, so this is a whole-character slice.
            out.push_str(self.text.get(run..self.at)?);
            match bytes.get(self.at)? {
                b'"' => {
                    self.at += 1;
                    return Some(out);
                }
                b'\\' => out.push(self.escape()?),
                _ => return None, // a control character
            }
        }
    }

    /// One escape (`\n`, `\u00e9`, a surrogate pair `\ud83d\ude00` ...); at
    /// its backslash, leaves `at` past it.
    fn escape(&mut self) -> Option<char> {
        self.at += 2; // the backslash and the letter
        Some(match *self.text.as_bytes().get(self.at - 1)? {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let high = self.hex4()?;
                let code = if (0xD800..0xDC00).contains(&high) {
                    if self.text.get(self.at..self.at + 2) != Some("\\u") {
                        return None;
                    }
                    self.at += 2;
                    let low = self.hex4()?;
                    if !(0xDC00..0xE000).contains(&low) {
                        return None;
                    }
                    0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                } else {
                    high
                };
                char::from_u32(code)? // a lone low surrogate is None
            }
            _ => return None,
        })
    }

    /// Four hex digits at `at`.
    fn hex4(&mut self) -> Option<u32> {
        let digits = self.text.get(self.at..self.at + 4)?;
        if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        self.at += 4;
        u32::from_str_radix(digits, 16).ok()
    }

    fn digits(&mut self) -> usize {
        let start = self.at;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.at += 1;
        }
        self.at - start
    }

    pub(super) fn number(&mut self) -> Option<Number> {
        let start = self.at;
        self.eat(b'-');
        match self.peek()? {
            b'0' => self.at += 1,
            b'1'..=b'9' => {
                self.digits();
            }
            _ => return None,
        }
        if self.eat(b'.') && self.digits() == 0 {
            return None;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.at += 1;
            if !self.eat(b'+') {
                self.eat(b'-');
            }
            if self.digits() == 0 {
                return None;
            }
        }
        Some(Number(self.text.get(start..self.at)?.to_owned()))
    }
}
