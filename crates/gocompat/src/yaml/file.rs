//! A config file read as Go's `yaml.UnmarshalStrict` reads it: the block
//! macro that denies unknown keys, errors that name `file:line:column`,
//! and yaml_serde's messages rewritten in the words of the file's users.
//!
//! Loki and Promtail read their files strictly: a key their structs do not
//! declare is an error, not a warning. A vigil config mirrors those structs
//! with [`strict_block!`](crate::yaml::strict_block), and reports what
//! yaml_serde refuses as a [`FileError`] built by [`Messages::error`]. Each
//! config keeps its own vocabulary ([`Messages`]); the mechanics are here.

use std::fmt;

/// A place in a text: a 1-based line, and a 1-based column counted in
/// characters (what editors show), not bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Location {
    /// The line, from 1.
    pub line: usize,
    /// The column in characters, from 1.
    pub column: usize,
}

impl Location {
    /// The location of a byte offset in `text`. An offset past the end,
    /// or inside a character, counts from the whole text.
    ///
    /// ```
    /// use gocompat::yaml::Location;
    /// assert_eq!(Location::of_offset("é\né${", 5), Location { line: 2, column: 2 });
    /// ```
    pub fn of_offset(text: &str, offset: usize) -> Location {
        let before = text.get(..offset).unwrap_or(text);
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        Location {
            line: before.matches('\n').count() + 1,
            column: before[line_start..].chars().count() + 1,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// What is wrong with a file, and where: displayed as
/// `file:line:column: message`, or `file: message` when the problem is not
/// at one place (a check of the whole file).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}: {message}", location.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct FileError {
    /// The file, as the caller named it.
    pub file: String,
    /// Where the problem is, when it is at one place.
    pub location: Option<Location>,
    /// What is wrong, with the key path when there is one.
    pub message: String,
}

impl FileError {
    /// A problem at the byte `offset` of the file's `text`.
    pub fn at_offset(file: &str, text: &str, offset: usize, message: String) -> FileError {
        FileError {
            file: file.to_owned(),
            location: Some(Location::of_offset(text, offset)),
            message,
        }
    }

    /// A problem with the file as a whole.
    pub fn whole_file(file: &str, message: String) -> FileError {
        FileError {
            file: file.to_owned(),
            location: None,
            message,
        }
    }
}

/// How a config's users are told what yaml_serde refused: serde speaks of
/// Rust types (`expected u16`, `expected struct ServerFile`) and lists every
/// key a block has; people want the config's words and the one key they
/// probably meant.
#[derive(Debug, Clone, Copy)]
pub struct Messages {
    /// Phrases of serde's replaced by the config's words, in order
    /// (`("expected u16", "expected a port number")`).
    pub words: &'static [(&'static str, &'static str)],
    /// Which key is suggested when several are as near to an unknown one.
    pub ties: Ties,
}

/// How a tie between suggested keys is broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ties {
    /// The key listed first by the block (its declaration order).
    FirstListed,
    /// The key first in alphabetical order.
    Alphabetical,
}

impl Messages {
    /// The error for what yaml_serde refused in `text`, the file named
    /// `file`: its location (when yaml_serde knows it) and its message
    /// rewritten by [`Messages::rewrite`].
    pub fn error(&self, file: &str, text: &str, error: &yaml_serde::Error) -> FileError {
        FileError {
            file: file.to_owned(),
            // Clamped: at the end of a file the parser may point one line
            // past its last.
            location: error
                .location()
                .map(|l| Location::of_offset(text, l.index().min(text.len()))),
            message: self.rewrite(&error.to_string()),
        }
    }

    /// Rewrites a yaml_serde message for people: the location is dropped
    /// (it is printed in front), an unknown key is quoted with the nearest
    /// known one suggested instead of the list of all, and otherwise
    /// serde's names of private structs become "a mapping" and
    /// [`Messages::words`] are replaced.
    ///
    /// ```
    /// use gocompat::yaml::{Messages, Ties};
    /// let messages = Messages { words: &[("expected u16", "expected a port number")], ties: Ties::FirstListed };
    /// assert_eq!(
    ///     messages.rewrite("a: unknown field `fo`, expected `foo` or `bar` at line 2 column 3"),
    ///     "a: unknown field \"fo\", did you mean \"foo\"?",
    /// );
    /// assert_eq!(
    ///     messages.rewrite("invalid type: string \"x\", expected u16"),
    ///     "invalid type: string \"x\", expected a port number",
    /// );
    /// ```
    pub fn rewrite(&self, message: &str) -> String {
        let message = message
            .rfind(" at line ")
            .map_or(message, |i| &message[..i]);
        let Some(start) = message.find("unknown field `") else {
            let mut out = without_struct_names(message);
            for (from, to) in self.words {
                out = out.replace(from, to);
            }
            return out;
        };
        let after = &message[start + "unknown field `".len()..];
        let Some(end) = after.find('`') else {
            return message.to_owned();
        };
        let field = &after[..end];
        // serde lists the block's keys quoted with backticks after the
        // unknown one: "…, expected one of `a`, `b`".
        let known = after[end..].split('`').skip(2).step_by(2);
        let mut out = format!("{}unknown field {field:?}", &message[..start]);
        if let Some(near) = self.nearest(field, known) {
            out.push_str(&format!(", did you mean {near:?}?"));
        }
        out
    }

    /// The known key nearest to `field`, when one is near enough to be
    /// what was meant: at most 2 edits, or a fifth of the key's length.
    fn nearest<'a>(&self, field: &str, known: impl Iterator<Item = &'a str>) -> Option<&'a str> {
        let near = known
            .map(|name| (strsim::levenshtein(field, name), name))
            .filter(|(distance, _)| *distance <= 2.max(field.len() / 5));
        match self.ties {
            Ties::FirstListed => near.min_by_key(|(distance, _)| *distance),
            Ties::Alphabetical => near.min(),
        }
        .map(|(_, name)| name)
    }
}

/// serde names the private structs a config is decoded into (`expected
/// struct LimitsFile`); the file's users know them as mappings.
fn without_struct_names(message: &str) -> String {
    match message.find("expected struct ") {
        Some(i) => {
            let rest = &message[i + "expected struct ".len()..];
            let name_len = rest
                .find(|c: char| !c.is_ascii_alphanumeric() && c != '_')
                .unwrap_or(rest.len());
            format!("{}expected a mapping{}", &message[..i], &rest[name_len..])
        }
        None => message.to_owned(),
    }
}

/// Declares a block of a config file that denies unknown keys, as Go's
/// `yaml.UnmarshalStrict` does: the typed fields vigil reads, then the rest
/// of the Go struct's keys (`skipped`), accepted and dropped unchecked.
///
/// The struct derives `Debug`, `Default` and serde's `Deserialize`; the
/// calling crate depends on `serde` with its `derive` feature.
///
/// ```
/// gocompat::yaml::strict_block! {
///     /// `server`.
///     pub struct ServerFile {
///         pub http_listen_port: Option<u16>,
///     }
///     skipped: [grpc_listen_port, log_level]
/// }
///
/// let server: ServerFile = yaml_serde::from_str("http_listen_port: 80\nlog_level: x\n").unwrap();
/// assert_eq!(server.http_listen_port, Some(80));
/// let error = yaml_serde::from_str::<ServerFile>("http_port: 80\n").unwrap_err();
/// assert!(error.to_string().starts_with("unknown field `http_port`"));
/// ```
#[macro_export]
#[doc(hidden)]
macro_rules! __yaml_strict_block {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident { $($typed:tt)* }
        skipped: [$($skipped:ident),* $(,)?]
    ) => {
        $(#[$meta])*
        #[derive(Debug, Default, ::serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        $vis struct $name {
            $($typed)*
            $(
                // Accepted because the Go program accepts it; vigil has no
                // use for it.
                #[allow(dead_code)]
                $skipped: Option<::serde::de::IgnoredAny>,
            )*
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOKI: Messages = Messages {
        words: &[("expected u16", "expected a port number")],
        ties: Ties::FirstListed,
    };
    const PROMTAIL: Messages = Messages {
        words: &[("expected u16", "expected a port number")],
        ties: Ties::Alphabetical,
    };

    #[test]
    fn unknown_keys_are_quoted_and_the_nearest_suggested() {
        assert_eq!(
            LOKI.rewrite(
                "limits_config: unknown field `max_qurey_series`, expected one of `max_query_series`, `retention_period` at line 3 column 3"
            ),
            "limits_config: unknown field \"max_qurey_series\", did you mean \"max_query_series\"?"
        );
        assert_eq!(
            LOKI.rewrite("unknown field `zzz`, expected `a` or `b`"),
            "unknown field \"zzz\""
        );
        assert_eq!(
            LOKI.rewrite("unknown field `zzz"),
            "unknown field `zzz",
            "an unterminated name is left alone"
        );
    }

    #[test]
    fn ties_between_suggestions_are_broken_as_configured() {
        let message = "unknown field `ab`, expected `bb` or `aa`";
        assert_eq!(
            LOKI.rewrite(message),
            "unknown field \"ab\", did you mean \"bb\"?"
        );
        assert_eq!(
            PROMTAIL.rewrite(message),
            "unknown field \"ab\", did you mean \"aa\"?"
        );
    }

    #[test]
    fn struct_names_become_mappings_and_words_are_replaced() {
        assert_eq!(
            LOKI.rewrite(
                "server: invalid type: string \"x\", expected struct ServerFile at line 1 column 9"
            ),
            "server: invalid type: string \"x\", expected a mapping"
        );
        assert_eq!(
            LOKI.rewrite("invalid value: integer `99999`, expected u16 at line 2 column 21"),
            "invalid value: integer `99999`, expected a port number"
        );
    }

    #[test]
    fn line_columns_count_characters() {
        let at = |text, offset| {
            let l = Location::of_offset(text, offset);
            (l.line, l.column)
        };
        assert_eq!(at("ab\ncd", 0), (1, 1));
        assert_eq!(at("ab\ncd", 4), (2, 2));
        assert_eq!(at("é\né${", 5), (2, 2));
        assert_eq!(at("ab\n", 3), (2, 1));
        assert_eq!(at("ab", 99), (1, 3));
    }

    #[test]
    fn errors_display_file_line_column() {
        let at = FileError::at_offset("c.yaml", "a: 1\nb: [\n", 8, "bad".into());
        assert_eq!(at.to_string(), "c.yaml:2:4: bad");
        let whole = FileError::whole_file("c.yaml", "no client".into());
        assert_eq!(whole.to_string(), "c.yaml: no client");
    }

    #[test]
    fn yaml_errors_are_located_inside_the_text() {
        for text in ["a: [\n", "a: b: c\n", "x", "a: 99999\n", "a: 1\nb:\n"] {
            let e = yaml_serde::from_str::<std::collections::BTreeMap<String, u16>>(text)
                .expect_err(text);
            let error = LOKI.error("f.yaml", text, &e);
            let location = error.location.expect("yaml_serde locates these errors");
            let lines: Vec<&str> = text.split('\n').collect();
            assert!(
                location.line >= 1 && location.line <= lines.len(),
                "{text:?}"
            );
            assert!(
                location.column >= 1
                    && location.column <= lines[location.line - 1].chars().count() + 1,
                "{text:?}"
            );
            assert!(error.to_string().starts_with("f.yaml:"), "{error}");
        }
    }
}
