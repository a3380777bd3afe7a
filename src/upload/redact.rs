//! Keeping the credentials out of everything `upload` prints or writes: every text that came
//! from the server (answer bodies, statuses, ids, messages, failed rows' codes and reasons, a
//! redirect's `Location`) passes through a [`Redactor`] before anything else sees it, so a server
//! that echoes the token cannot put it on stderr, stdout, `upload.json` or `upload-failed.csv`.
//!
//! A server echoes in many spellings: as it is, percent-encoded (the unreserved characters as
//! they are, or every byte, in either hex case), JSON-escaped (`\/`, or every character as
//! `\u00XX`), as HTML entities (`&#115;`, `&#x73;`), as hex, and in base64 (standard or
//! URL-safe, the secret at any of the three alignments within the encoded text). Every spelling
//! is searched for in one pass per spelling (SIMD substring search), and the matches are merged
//! in one sort: linear in the text (the overlap check before was quadratic in the echoes).

use std::borrow::Cow;
use std::sync::Arc;

/// What a secret is replaced with.
pub const REDACTED: &str = "[redacted]";

/// A secret shorter than this is not searched for: it would match ordinary text (and is no
/// secret worth the name).
const SHORTEST_SECRET: usize = 4;

/// Replaces the app id and the app token (as they are, percent-encoded and JSON-escaped, in any
/// letter case) with [`REDACTED`].
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// Every spelling of every secret, in lower case, longest first (so that a secret holding
    /// another is replaced whole).
    needles: Arc<Vec<String>>,
}

impl Redactor {
    /// A redactor of these secrets (those shorter than 4 characters are not searched for).
    pub fn new(secrets: &[&str]) -> Self {
        let mut needles: Vec<String> = Vec::new();
        for secret in secrets {
            if secret.len() < SHORTEST_SECRET {
                continue;
            }
            for spelling in spellings(secret) {
                let spelling = spelling.to_ascii_lowercase();
                if spelling.len() >= SHORTEST_SECRET && !needles.contains(&spelling) {
                    needles.push(spelling);
                }
            }
        }
        needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
        Redactor {
            needles: Arc::new(needles),
        }
    }

    /// `text` with every secret replaced.
    pub fn text<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if self.needles.is_empty() {
            return Cow::Borrowed(text);
        }
        // ASCII lower-casing keeps every byte offset, so positions found in `lower` cut `text`.
        let lower = text.to_ascii_lowercase();
        let mut cuts: Vec<(usize, usize)> = Vec::new();
        for needle in self.needles.iter() {
            let finder = memchr::memmem::Finder::new(needle.as_bytes());
            cuts.extend(
                finder
                    .find_iter(lower.as_bytes())
                    .map(|start| (start, start + needle.len())),
            );
        }
        if cuts.is_empty() {
            return Cow::Borrowed(text);
        }
        // Overlapping matches (a secret inside another, two spellings) merge into one cut.
        cuts.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::with_capacity(cuts.len());
        for (start, end) in cuts {
            match merged.last_mut() {
                Some(last) if start < last.1 => last.1 = last.1.max(end),
                _ => merged.push((start, end)),
            }
        }
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for (start, end) in merged {
            // Every spelling is ASCII, and so is every byte a match covers.
            out.push_str(&text[last..start]);
            out.push_str(REDACTED);
            last = end;
        }
        out.push_str(&text[last..]);
        Cow::Owned(out)
    }

    /// Like [`Redactor::text`], for an owned string.
    pub fn owned(&self, text: String) -> String {
        match self.text(&text) {
            Cow::Borrowed(_) => text,
            Cow::Owned(clean) => clean,
        }
    }
}

/// Every spelling of a secret a server may echo it in (see the module's text).
fn spellings(secret: &str) -> Vec<String> {
    let bytes = secret.as_bytes();
    let every = |form: &dyn Fn(u8) -> String| bytes.iter().map(|&b| form(b)).collect::<String>();
    let mut all = vec![
        secret.to_owned(),
        percent_encoded(secret),
        every(&|b| format!("%{b:02X}")),
        json_escaped(secret),
        json_escaped(secret).replace('/', "\\/"),
        every(&|b| format!("\\u{b:04x}")),
        every(&|b| format!("&#{b};")),
        every(&|b| format!("&#x{b:x};")),
        every(&|b| format!("{b:02x}")),
    ];
    all.extend(base64_spellings(bytes));
    all
}

/// The base64 text that stands for `secret` wherever it starts in the encoded bytes: for each of
/// the three alignments, the characters that only the secret's bytes decide, in the standard
/// and the URL-safe alphabet. (A secret too short to fill whole groups at an alignment gives
/// nothing for it: at most its first and last two bytes share groups with other bytes.)
fn base64_spellings(secret: &[u8]) -> Vec<String> {
    const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut found = Vec::new();
    for align in 0..3 {
        let mut bytes = vec![0u8; align];
        bytes.extend_from_slice(secret);
        // Whole groups of three bytes only; the first one holds padding when aligned.
        let whole = bytes.len() / 3 * 3;
        let first = if align == 0 { 0 } else { 3 };
        if whole <= first {
            continue;
        }
        let mut text = String::new();
        for group in bytes[first..whole].chunks(3) {
            let n = (u32::from(group[0]) << 16) | (u32::from(group[1]) << 8) | u32::from(group[2]);
            for shift in [18, 12, 6, 0] {
                text.push(STANDARD[((n >> shift) & 63) as usize] as char);
            }
        }
        // Short needles would match ordinary base64 by chance.
        if text.len() >= 8 {
            found.push(text.replace('+', "-").replace('/', "_"));
            found.push(text);
        }
    }
    found
}

/// The secret as it stands inside a JSON string.
fn json_escaped(text: &str) -> String {
    serde_json::to_string(text)
        .map(|quoted| quoted[1..quoted.len() - 1].to_owned())
        .unwrap_or_default()
}

/// Every string (and object key) in `value` redacted.
pub(crate) fn redact_json(redactor: &Redactor, value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::String(text) => *text = redactor.owned(std::mem::take(text)),
        Value::Array(items) => items.iter_mut().for_each(|v| redact_json(redactor, v)),
        Value::Object(map) => {
            let entries: Vec<(String, Value)> = std::mem::take(map).into_iter().collect();
            for (key, mut item) in entries {
                redact_json(redactor, &mut item);
                map.insert(redactor.owned(key), item);
            }
        }
        _ => {}
    }
}

/// `text` with everything but RFC 3986's unreserved characters percent-encoded: how a secret
/// looks in a URL (and how the client writes path segments).
pub(crate) fn percent_encoded(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_spelling_of_a_secret_is_replaced() {
        let r = Redactor::new(&["app-id-1", "tok/en+9"]);
        assert_eq!(
            r.text("id app-id-1, token tok/en+9, TOK/EN+9, tok%2Fen%2B9 and tok\\/en+9"),
            "id [redacted], token [redacted], [redacted], [redacted] and [redacted]"
        );
        assert_eq!(r.text("nothing here"), "nothing here");
    }

    #[test]
    fn every_echo_spelling_is_replaced() {
        let secret = "secret-token-6f1d";
        let r = Redactor::new(&[secret]);
        let b64 = |prefix: &str| {
            // A standard base64 encoder, for the test: the secret behind a prefix of 0-2
            // bytes, as a server encoding a larger text would hold it.
            const A: &[u8; 64] =
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
            let data = format!("{prefix}{secret}!!");
            let mut out = String::new();
            for group in data.as_bytes().chunks(3) {
                let b = [
                    group[0],
                    *group.get(1).unwrap_or(&0),
                    *group.get(2).unwrap_or(&0),
                ];
                let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
                for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
                    out.push(if i <= group.len() {
                        A[((n >> shift) & 63) as usize] as char
                    } else {
                        '='
                    });
                }
            }
            out
        };
        let hex: String = secret.bytes().map(|b| format!("{b:02X}")).collect();
        let every_percent: String = secret.bytes().map(|b| format!("%{b:02x}")).collect();
        let unicode: String = secret.bytes().map(|b| format!("\\u{b:04X}")).collect();
        let html_dec: String = secret.bytes().map(|b| format!("&#{b};")).collect();
        let html_hex: String = secret.bytes().map(|b| format!("&#X{b:X};")).collect();
        for echo in [
            secret.to_owned(),
            hex,
            every_percent,
            unicode,
            html_dec,
            html_hex,
            b64(""),
            b64("a"),
            b64("ab"),
            b64("ab").replace('+', "-").replace('/', "_"),
        ] {
            let text = format!("before {echo} after");
            let clean = r.text(&text);
            assert!(clean.contains(REDACTED), "{echo}: {clean}");
            assert!(!clean.contains(&echo), "{echo}: {clean}");
        }
    }

    #[test]
    fn a_large_echo_is_redacted_in_linear_time() {
        let secret = "secret-token-6f1d";
        let r = Redactor::new(&[secret]);
        // 8 MB of echoes: the quadratic merge took seconds here.
        let text = format!("{secret} x ").repeat(8 << 20 >> 4);
        let started = std::time::Instant::now();
        let clean = r.text(&text);
        assert!(!clean.contains(secret));
        assert_eq!(
            clean.matches(REDACTED).count(),
            text.matches(secret).count()
        );
        // Generous: a debug build on a slow machine; the release build takes well under this.
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn a_secret_inside_another_is_replaced_whole() {
        let r = Redactor::new(&["abcd", "xxabcdxx"]);
        assert_eq!(r.text("[xxabcdxx] [abcd]"), "[[redacted]] [[redacted]]");
    }

    #[test]
    fn strings_inside_json_are_redacted_after_unescaping() {
        let r = Redactor::new(&["tok/en"]);
        let mut value: serde_json::Value =
            serde_json::from_str(r#"{"a":"x \u0074ok\/en y","tok/en":[1,"tok/en"]}"#).unwrap();
        redact_json(&r, &mut value);
        assert_eq!(
            value,
            serde_json::json!({"a": "x [redacted] y", "[redacted]": [1, "[redacted]"]})
        );
    }

    #[test]
    fn short_or_empty_secrets_are_not_searched() {
        let r = Redactor::new(&["", "ab"]);
        assert_eq!(r.text("ab cd"), "ab cd");
    }

    #[test]
    fn text_with_multibyte_characters_keeps_its_shape() {
        let r = Redactor::new(&["secret"]);
        assert_eq!(r.text("żółw SECRET ü"), "żółw [redacted] ü");
    }

    proptest! {
        #[test]
        fn a_planted_secret_never_survives(prefix in "\\PC{0,20}", suffix in "\\PC{0,20}", secret in "[A-Za-z0-9_-]{4,40}") {
            let r = Redactor::new(&[&secret]);
            let text = format!("{prefix}{secret}{suffix}");
            let clean = r.text(&text).replace(REDACTED, "\u{0}");
            prop_assert!(!clean.to_ascii_lowercase().contains(&secret.to_ascii_lowercase()));
        }
    }
}
