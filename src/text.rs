//! One-line forms of texts (a reason, an answer body) for messages and reports.

/// A one-line form of a text (a reason, an answer body), at most `max` characters.
pub fn shorten(text: &str, max: usize) -> String {
    let line = text.replace(['\n', '\r'], " ");
    if line.chars().count() <= max {
        line
    } else {
        let cut: String = line.chars().take(max - 1).collect();
        format!("{cut}…")
    }
}
