//! What MODERATE policies redact (SPEC §10): e-mail addresses → `[REDACTED-EMAIL]`, payment card
//! numbers (13–19 digits, spaces or dashes between groups allowed, Luhn-valid) → `[REDACTED-CARD]`,
//! US social security numbers (`123-45-6789`) → `[REDACTED-SSN]`, and a policy's blocked terms
//! (case-insensitive) → `[REDACTED]`.
//!
//! [`Stream`] applies the same redaction to an answer while it streams: it holds back the tail
//! that a later chunk could still turn into a match, so no delta ever carries text that the whole
//! answer's redaction would have removed.

use std::sync::{Arc, LazyLock};

use regex::Regex;

/// The sensitive-data patterns, compiled once. They are constants (a unit test compiles them);
/// were one ever refused, every redaction fails closed: the whole text is withheld.
struct Patterns {
    email: Regex,
    card: Regex,
    ssn: Regex,
}

static PATTERNS: LazyLock<Result<Patterns, regex::Error>> = LazyLock::new(|| {
    Ok(Patterns {
        email: Regex::new(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")?,
        card: Regex::new(r"\b(?:\d[ \-]?){12,18}\d\b")?,
        ssn: Regex::new(r"\b\d{3}-\d{2}-\d{4}\b")?,
    })
});

/// What replaces a whole text when a pattern could not be built.
const WITHHELD: &str = "[REDACTED]";

/// The Luhn checksum of the digits of `text`.
fn luhn(text: &str) -> bool {
    let digits: Vec<u32> = text.chars().filter_map(|c| c.to_digit(10)).collect();
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| match i % 2 {
            1 if d * 2 > 9 => d * 2 - 9,
            1 => d * 2,
            _ => d,
        })
        .sum();
    (13..=19).contains(&digits.len()) && sum.is_multiple_of(10)
}

/// What to redact: sensitive data, blocked terms, or both.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    sensitive: bool,
    /// `Some(Err)`: the terms could not be compiled (fail closed). Shared by every clone: a
    /// cloned `Regex` starts a pool of match caches of its own, and building those per turn
    /// (lazy DFA states of a case-insensitive alternation) is what a turn must not pay.
    terms: Option<Arc<Result<Regex, regex::Error>>>,
    longest_term: usize,
}

/// A match: byte range and its replacement.
type Found = (usize, usize, &'static str);

impl Redactor {
    /// A redactor for sensitive data (when `sensitive`) and `terms`.
    pub fn new(sensitive: bool, terms: &[String]) -> Self {
        let terms: Vec<&String> = terms.iter().filter(|t| !t.trim().is_empty()).collect();
        let pattern = (!terms.is_empty()).then(|| {
            let alternatives: Vec<String> = terms.iter().map(|t| regex::escape(t)).collect();
            Arc::new(Regex::new(&format!("(?i){}", alternatives.join("|"))))
        });
        Self {
            sensitive,
            longest_term: terms.iter().map(|t| t.chars().count()).max().unwrap_or(0),
            terms: pattern,
        }
    }

    /// Whether the terms can be matched (a policy whose terms cannot is refused).
    pub fn compiles(&self) -> bool {
        !matches!(self.terms.as_deref(), Some(Err(_)))
    }

    /// Whether `text` carries sensitive data.
    pub fn has_sensitive(text: &str) -> bool {
        let Ok(p) = &*PATTERNS else {
            return !text.is_empty();
        };
        p.email.is_match(text)
            || p.ssn.is_match(text)
            || p.card.find_iter(text).any(|m| luhn(m.as_str()))
    }

    /// The matches in `text`; `None` when a pattern is missing (then everything is withheld).
    fn matches(&self, text: &str) -> Option<Vec<Found>> {
        let mut found: Vec<Found> = Vec::new();
        if self.sensitive {
            let p = PATTERNS.as_ref().ok()?;
            let marked = |re: &Regex, marker: &'static str, luhn_checked: bool| {
                re.find_iter(text)
                    .filter(|m| !luhn_checked || luhn(m.as_str()))
                    .map(|m| (m.start(), m.end(), marker))
                    .collect::<Vec<Found>>()
            };
            found.extend(marked(&p.email, "[REDACTED-EMAIL]", false));
            found.extend(marked(&p.ssn, "[REDACTED-SSN]", false));
            found.extend(marked(&p.card, "[REDACTED-CARD]", true));
        }
        if let Some(terms) = &self.terms {
            let terms = terms.as_ref().as_ref().ok()?;
            found.extend(
                terms
                    .find_iter(text)
                    .map(|m| (m.start(), m.end(), "[REDACTED]")),
            );
        }
        // Earliest first, longest first at one start; overlapping later matches are dropped.
        found.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        let mut kept: Vec<Found> = Vec::with_capacity(found.len());
        for m in found {
            if kept.last().is_none_or(|last| m.0 >= last.1) {
                kept.push(m);
            }
        }
        Some(kept)
    }

    /// `text` with every match replaced.
    pub fn redact(&self, text: &str) -> String {
        match self.matches(text) {
            Some(found) => replace(text, &found),
            None if text.is_empty() => String::new(),
            None => WITHHELD.to_owned(),
        }
    }
}

fn replace(text: &str, found: &[Found]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for &(start, end, marker) in found {
        out.push_str(&text[at..start]);
        out.push_str(marker);
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

/// Redaction of a streamed answer: [`Stream::push`] takes each chunk and gives what may be
/// delivered now, [`Stream::finish`] the rest. The concatenation of what it gives equals
/// [`Redactor::redact`] of the whole answer.
#[derive(Debug, Clone)]
pub struct Stream {
    redactor: Redactor,
    /// The raw answer so far.
    raw: String,
    /// How much of `raw` was already given, redacted.
    given: usize,
}

impl Stream {
    /// A stream redacting with `redactor`.
    pub fn new(redactor: Redactor) -> Self {
        Self {
            redactor,
            raw: String::new(),
            given: 0,
        }
    }

    /// Adds a chunk; answers the redacted text that is now final (possibly empty).
    pub fn push(&mut self, chunk: &str) -> String {
        self.raw.push_str(chunk);
        self.ready().unwrap_or_default()
    }

    /// Where the text that a later chunk could still turn into a match begins: the trailing
    /// word (an e-mail address has no whitespace), the trailing run of digits, spaces and dashes
    /// (a card number or an SSN is made of nothing else), the last `longest term − 1` characters
    /// (a blocked term not complete yet). Everything before it is final.
    fn held_from(&self) -> usize {
        let raw = self.raw.as_str();
        let mut from = raw.len();
        if self.redactor.sensitive {
            let word = raw
                .char_indices()
                .rev()
                .find(|(_, c)| c.is_whitespace())
                .map_or(0, |(i, c)| i + c.len_utf8());
            let numeric = raw
                .char_indices()
                .rev()
                .take_while(|(_, c)| c.is_ascii_digit() || *c == ' ' || *c == '-')
                .last()
                .map_or(raw.len(), |(i, _)| i);
            from = from.min(word).min(numeric);
        }
        if self.redactor.longest_term > 1 {
            let keep = self.redactor.longest_term - 1;
            let term = raw.char_indices().rev().nth(keep - 1).map_or(0, |(i, _)| i);
            from = from.min(term);
        }
        from
    }

    fn ready(&mut self) -> Option<String> {
        let mut cut = self.held_from();
        if cut <= self.given {
            return None;
        }
        // Without its patterns, nothing streams: `finish` withholds it all.
        let found = self.redactor.matches(&self.raw[self.given..])?;
        // Never cut inside a match: move the cut to where it starts.
        for &(start, end, _) in &found {
            let (start, end) = (self.given + start, self.given + end);
            if start < cut && cut < end {
                cut = start;
            }
        }
        if cut <= self.given {
            return None;
        }
        let piece = &self.raw[self.given..cut];
        let out = self.redactor.redact(piece);
        self.given = cut;
        Some(out)
    }

    /// Everything not given yet, redacted.
    pub fn finish(&mut self) -> String {
        let out = self.redactor.redact(&self.raw[self.given..]);
        self.given = self.raw.len();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "Mail jane.doe@example.com, card 4111 1111 1111 1111, ssn 123-45-6789, \
                        order 1234567890123 and the Zebra plan.";

    #[test]
    fn sensitive_data_and_terms_get_their_markers() {
        let r = Redactor::new(true, &["zebra".into()]);
        assert_eq!(
            r.redact(TEXT),
            "Mail [REDACTED-EMAIL], card [REDACTED-CARD], ssn [REDACTED-SSN], \
             order 1234567890123 and the [REDACTED] plan."
        );
        assert!(Redactor::has_sensitive(TEXT));
        assert!(!Redactor::has_sensitive(
            "order 1234567890123, call 555-1234"
        ));
        let terms_only = Redactor::new(false, &["ZEBRA".into()]);
        assert!(terms_only.redact(TEXT).contains("jane.doe@example.com"));
        assert!(terms_only.redact(TEXT).contains("the [REDACTED] plan"));
    }

    #[test]
    fn a_stream_releases_what_no_later_chunk_can_change() {
        let mut stream = Stream::new(Redactor::new(true, &[]));
        assert_eq!(stream.push("Hello there, "), "Hello there,");
        assert_eq!(stream.push("write to jane"), " write to ");
        assert_eq!(
            stream.push(".doe@example.com now, card 4111 "),
            "[REDACTED-EMAIL] now, card"
        );
        assert_eq!(stream.push("1111 1111 1111."), " ");
        assert_eq!(stream.push(" Bye"), "[REDACTED-CARD]. ");
        assert_eq!(stream.finish(), "Bye");
        // A blocked term of n characters: the last n − 1 wait.
        let mut stream = Stream::new(Redactor::new(false, &["zebra".into()]));
        assert_eq!(stream.push("the big zeb"), "the big");
        assert_eq!(stream.push("ra ran"), " [REDACTED]");
        assert_eq!(stream.finish(), " ran");
    }

    #[test]
    fn the_patterns_compile_and_bad_terms_fail_closed() {
        assert!(PATTERNS.is_ok());
        assert!(Redactor::new(true, &["a".into()]).compiles());
    }

    #[test]
    fn a_stream_gives_exactly_the_whole_redaction_whatever_the_chunks() {
        let r = Redactor::new(true, &["zebra plan".into()]);
        let long = format!("{} {} ünïcödé ✓ ", "word ".repeat(40), TEXT).repeat(3);
        let expected = r.redact(&long);
        for size in [1, 2, 3, 5, 7, 16, 64, 1000] {
            let mut stream = Stream::new(r.clone());
            let mut out = String::new();
            let chars: Vec<char> = long.chars().collect();
            for chunk in chars.chunks(size) {
                let piece = stream.push(&chunk.iter().collect::<String>());
                assert!(!piece.contains("jane.doe"), "chunk size {size}");
                out.push_str(&piece);
            }
            out.push_str(&stream.finish());
            assert_eq!(out, expected, "chunk size {size}");
        }
    }
}
