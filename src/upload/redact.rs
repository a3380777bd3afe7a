//! Keeping the credentials out of everything `upload` prints or writes: every text that came
//! from the server (answer bodies, statuses, ids, messages, failed rows' codes and reasons, a
//! redirect's `Location`) passes through a [`Redactor`] before anything else sees it, so a server
//! that echoes the token cannot put it on stderr, stdout, `upload.json` or `upload-failed.csv`.

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
            for spelling in [
                (*secret).to_owned(),
                percent_encoded(secret),
                json_escaped(secret),
                json_escaped(secret).replace('/', "\\/"),
            ] {
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
            let mut from = 0;
            while let Some(found) = lower[from..].find(needle.as_str()) {
                let start = from + found;
                let end = start + needle.len();
                if !cuts.iter().any(|&(s, e)| start < e && s < end) {
                    cuts.push((start, end));
                }
                from = end;
            }
        }
        if cuts.is_empty() {
            return Cow::Borrowed(text);
        }
        cuts.sort_unstable();
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for (start, end) in cuts {
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
