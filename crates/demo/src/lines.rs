//! The two log-line formats of the reference app, which the reference
//! Promtail config parses with its two regexes.
//!
//! Request lines:
//! `2023-08-01T14:11:32.107Z | WARNING | PUT /put_endpoint | Requested by: 127.0.0.1 Status: 500 Duration: 914 ms`
//!
//! Application lines (no space before the `|` after the function name, as
//! the reference writes them and its regex expects):
//! `2023-08-01T14:11:35.126Z | INFO | Module: demo::api | Function: put_endpoint| <message>`

use chrono::{DateTime, Utc};

/// The level the reference derives from a response status.
pub fn level_for_status(status: u16) -> &'static str {
    match status {
        500.. => "ERROR",
        400..=499 => "WARNING",
        _ => "INFO",
    }
}

/// UTC with millisecond precision and a `Z`.
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// What one request line says.
#[derive(Debug, Clone, Copy)]
pub struct RequestLine<'a> {
    /// When the request finished.
    pub at: DateTime<Utc>,
    /// Log level (`INFO`, `WARNING`, `ERROR`).
    pub level: &'a str,
    /// HTTP method.
    pub method: &'a str,
    /// Path requested.
    pub uri: &'a str,
    /// Client address, or `Undefined`.
    pub requested_by: &'a str,
    /// Response status.
    pub status: u16,
    /// Time to answer, in whole milliseconds.
    pub duration_ms: u64,
}

impl RequestLine<'_> {
    /// The line, with a trailing newline.
    pub fn render(&self) -> String {
        format!(
            "{} | {} | {} {} | Requested by: {} Status: {} Duration: {} ms\n",
            timestamp(self.at),
            self.level,
            self.method,
            self.uri,
            self.requested_by,
            self.status,
            self.duration_ms
        )
    }
}

/// What one application line says.
#[derive(Debug, Clone, Copy)]
pub struct AppLine<'a> {
    /// When it was logged.
    pub at: DateTime<Utc>,
    /// Log level.
    pub level: &'a str,
    /// Module name, e.g. `demo::api`.
    pub module: &'a str,
    /// Function name, e.g. `put_endpoint`.
    pub function: &'a str,
    /// Free text.
    pub message: &'a str,
}

impl AppLine<'_> {
    /// The line, with a trailing newline.
    pub fn render(&self) -> String {
        format!(
            "{} | {} | Module: {} | Function: {}| {}\n",
            timestamp(self.at),
            self.level,
            self.module,
            self.function,
            self.message
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn renders_the_reference_examples() {
        let at = Utc.with_ymd_and_hms(2023, 8, 1, 14, 11, 32).unwrap()
            + chrono::Duration::milliseconds(107);
        let line = RequestLine {
            at,
            level: level_for_status(500),
            method: "PUT",
            uri: "/put_endpoint",
            requested_by: "127.0.0.1",
            status: 500,
            duration_ms: 914,
        };
        assert_eq!(
            line.render(),
            "2023-08-01T14:11:32.107Z | ERROR | PUT /put_endpoint | Requested by: 127.0.0.1 Status: 500 Duration: 914 ms\n"
        );
        let at = Utc.with_ymd_and_hms(2023, 8, 1, 14, 11, 35).unwrap()
            + chrono::Duration::milliseconds(126);
        let line = AppLine {
            at,
            level: "INFO",
            module: "demo::api",
            function: "put_endpoint",
            message: "hello",
        };
        assert_eq!(
            line.render(),
            "2023-08-01T14:11:35.126Z | INFO | Module: demo::api | Function: put_endpoint| hello\n"
        );
    }

    #[test]
    fn levels() {
        assert_eq!(level_for_status(200), "INFO");
        assert_eq!(level_for_status(302), "INFO");
        assert_eq!(level_for_status(404), "WARNING");
        assert_eq!(level_for_status(503), "ERROR");
    }
}
