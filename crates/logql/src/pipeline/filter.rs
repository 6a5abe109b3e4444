//! Line filters: substring, regex, pattern and IP, negated or not, with `or`
//! alternatives. They work on raw bytes and never allocate per line.

use std::borrow::Cow;
use std::net::IpAddr;

use memchr::memmem::Finder;

use super::pattern::Pattern;
use super::{LabelsBuilder, Stage};

/// An address pattern of `ip("…")`: one address, a range or a CIDR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IpPattern {
    /// `192.168.0.1`
    Single(IpAddr),
    /// `192.168.0.1-192.168.0.9`, inclusive.
    Range(IpAddr, IpAddr),
    /// `10.0.0.0/8`
    Cidr(IpAddr, u8),
}

/// Parses the argument of `ip("…")`; the message is Loki's.
pub fn parse_ip_pattern(text: &str) -> Result<IpPattern, String> {
    let invalid = || format!("ip: invalid pattern: {text:?}");
    let text = text.trim();
    if let Some((addr, bits)) = text.split_once('/') {
        let addr: IpAddr = addr.parse().map_err(|_| invalid())?;
        let bits: u8 = bits.parse().map_err(|_| invalid())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        if bits > max {
            return Err(invalid());
        }
        return Ok(IpPattern::Cidr(addr, bits));
    }
    if let Some((a, b)) = text.split_once('-') {
        let a: IpAddr = a.trim().parse().map_err(|_| invalid())?;
        let b: IpAddr = b.trim().parse().map_err(|_| invalid())?;
        if a.is_ipv4() != b.is_ipv4() || a > b {
            return Err(invalid());
        }
        return Ok(IpPattern::Range(a, b));
    }
    text.parse().map(IpPattern::Single).map_err(|_| invalid())
}

fn ip_bits(ip: IpAddr) -> (u128, u32) {
    match ip {
        IpAddr::V4(v4) => (u128::from(u32::from(v4)), 32),
        IpAddr::V6(v6) => (u128::from(v6), 128),
    }
}

impl IpPattern {
    /// Whether `ip` falls in the pattern.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match self {
            IpPattern::Single(a) => *a == ip,
            IpPattern::Range(a, b) => a.is_ipv4() == ip.is_ipv4() && *a <= ip && ip <= *b,
            IpPattern::Cidr(net, bits) => {
                if net.is_ipv4() != ip.is_ipv4() {
                    return false;
                }
                let (n, width) = ip_bits(*net);
                let (x, _) = ip_bits(ip);
                let bits = u32::from(*bits);
                if bits == 0 {
                    return true;
                }
                let shift = width - bits.min(width);
                (n >> shift) == (x >> shift)
            }
        }
    }

    /// Whether any address-looking token of `line` falls in the pattern.
    pub fn matches_line(&self, line: &[u8]) -> bool {
        let is_ip_byte = |b: &u8| b.is_ascii_hexdigit() || *b == b'.' || *b == b':';
        let mut i = 0;
        while i < line.len() {
            if !line.get(i).is_some_and(is_ip_byte) {
                i += 1;
                continue;
            }
            let start = i;
            while line.get(i).is_some_and(is_ip_byte) {
                i += 1;
            }
            let token = line.get(start..i).unwrap_or(&[]);
            let Ok(text) = std::str::from_utf8(token) else {
                continue;
            };
            let candidates = [Some(text), text.rsplit_once(':').map(|(a, _)| a)];
            if candidates
                .into_iter()
                .flatten()
                .filter_map(|t| t.parse::<IpAddr>().ok())
                .any(|ip| self.contains(ip))
            {
                return true;
            }
        }
        false
    }
}

/// One alternative of a line filter.
// The substring finder is the hot path of every query: keeping it inline
// saves an indirection per line, and there are few matchers.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum LineMatcher {
    /// Substring.
    Contains(Finder<'static>),
    /// Unanchored regex.
    Regex(regex::bytes::Regex),
    /// Pattern matching the whole line.
    Pattern(Pattern),
    /// Any address in the line.
    Ip(IpPattern),
}

impl LineMatcher {
    fn is_match(&self, line: &[u8]) -> bool {
        match self {
            LineMatcher::Contains(f) => f.find(line).is_some(),
            LineMatcher::Regex(re) => re.is_match(line),
            LineMatcher::Pattern(p) => p.test(line),
            LineMatcher::Ip(ip) => ip.matches_line(line),
        }
    }
}

/// A line filter stage: keeps lines matching any alternative (or none, when
/// negated).
#[derive(Debug, Clone)]
pub struct LineFilterStage {
    alternatives: Vec<LineMatcher>,
    negate: bool,
}

impl LineFilterStage {
    /// A filter from its alternatives.
    pub fn new(alternatives: Vec<LineMatcher>, negate: bool) -> Self {
        Self {
            alternatives,
            negate,
        }
    }

    /// `|= text` (or `!= text` when `negate`).
    pub fn contains(text: &str, negate: bool) -> Self {
        Self::new(
            vec![LineMatcher::Contains(
                Finder::new(text.as_bytes()).into_owned(),
            )],
            negate,
        )
    }

    /// The substring every passing line contains, when the filter is one
    /// plain `|= "text"` with a non-empty text.
    pub fn required_substring(&self) -> Option<&Finder<'static>> {
        match self.alternatives.as_slice() {
            [LineMatcher::Contains(f)] if !self.negate && !f.needle().is_empty() => Some(f),
            _ => None,
        }
    }

    /// Whether the line passes.
    pub fn matches(&self, line: &[u8]) -> bool {
        self.alternatives.iter().any(|m| m.is_match(line)) != self.negate
    }
}

impl Stage for LineFilterStage {
    fn process<'a>(&self, _ts: i64, line: &mut Cow<'a, str>, _labels: &mut LabelsBuilder) -> bool {
        self.matches(line.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(p: &str, line: &str) -> bool {
        parse_ip_pattern(p).unwrap().matches_line(line.as_bytes())
    }

    #[test]
    fn ip_patterns() {
        assert!(ip("10.0.0.0/8", "from 10.1.2.3 ok"));
        assert!(!ip("10.0.0.0/8", "from 11.1.2.3 ok"));
        assert!(ip("192.168.0.1-192.168.0.9", "x=192.168.0.5:8080"));
        assert!(ip("::1", "addr ::1 here"));
        assert!(!ip("1.2.3.4", "no address"));
        assert!(parse_ip_pattern("bogus").is_err());
        assert!(parse_ip_pattern("10.0.0.0/99").is_err());
    }

    #[test]
    fn alternatives_and_negation() {
        let f = LineFilterStage::new(
            vec![
                LineMatcher::Contains(Finder::new(b"a").into_owned()),
                LineMatcher::Regex(regex::bytes::Regex::new("b+c").unwrap()),
            ],
            false,
        );
        assert!(f.matches(b"xa"));
        assert!(f.matches(b"xbbc"));
        assert!(!f.matches(b"xyz"));
        let n = LineFilterStage::contains("a", true);
        assert!(n.matches(b"xyz"));
        assert!(!n.matches(b"xa"));
    }

    #[test]
    fn regex_dot_does_not_match_newline() {
        let re = LineMatcher::Regex(regex::bytes::Regex::new("a.b").unwrap());
        assert!(!re.is_match(b"a\nb"));
    }
}
