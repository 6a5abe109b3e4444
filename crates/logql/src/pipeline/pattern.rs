//! Loki's pattern language: literals and `<name>` / `<_>` captures, used by
//! the `pattern` parser and the `|>` line filter.

/// One piece of a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    Literal(Vec<u8>),
    /// A named capture, or `None` for `<_>`.
    Capture(Option<String>),
}

/// A compiled pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    nodes: Vec<Node>,
}

impl Pattern {
    /// Parses a pattern; errors are Loki's messages.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut nodes: Vec<Node> = Vec::new();
        let mut rest = text;
        let mut literal = String::new();
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix('<') {
                if let Some(end) = after.find('>') {
                    let name = after.get(..end).unwrap_or("");
                    // A capture becomes a label, so its name follows the
                    // label-name rule (Loki's pattern lexer allows the same
                    // identifiers).
                    if name == "_" || model::is_valid_label_name(name) {
                        if !literal.is_empty() {
                            nodes.push(Node::Literal(std::mem::take(&mut literal).into_bytes()));
                        }
                        if matches!(nodes.last(), Some(Node::Capture(_))) {
                            return Err(format!(
                                "found consecutive capture '{name}': invalid pattern"
                            ));
                        }
                        let capture = (name != "_").then(|| name.to_owned());
                        if let Some(n) = &capture {
                            if nodes.iter().any(|x| x == &Node::Capture(Some(n.clone()))) {
                                return Err(format!(
                                    "duplicate capture name ({n}): invalid pattern"
                                ));
                            }
                        }
                        nodes.push(Node::Capture(capture));
                        rest = after.get(end + 1..).unwrap_or("");
                        continue;
                    }
                }
            }
            let mut chars = rest.chars();
            if let Some(c) = chars.next() {
                literal.push(c);
            }
            rest = chars.as_str();
        }
        if !literal.is_empty() {
            nodes.push(Node::Literal(literal.into_bytes()));
        }
        Ok(Self { nodes })
    }

    /// Parses a pattern for the `pattern` parser, which needs a capture.
    pub fn parse_for_parser(text: &str) -> Result<Self, String> {
        let p = Self::parse(text)?;
        if !p.nodes.iter().any(|n| matches!(n, Node::Capture(Some(_)))) {
            return Err("at least one capture is required: invalid pattern".into());
        }
        Ok(p)
    }

    /// Whether any capture is named (line filters forbid them).
    pub fn has_named_captures(&self) -> bool {
        self.nodes
            .iter()
            .any(|n| matches!(n, Node::Capture(Some(_))))
    }

    /// The capture names in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.nodes.iter().filter_map(|n| match n {
            Node::Capture(Some(name)) => Some(name.as_str()),
            _ => None,
        })
    }

    /// Extracts the named captures; a line that ends early fills only the
    /// leading ones. Returns nothing when the leading literal is missing.
    pub fn captures<'l>(&self, line: &'l [u8]) -> Vec<(&str, &'l [u8])> {
        let mut out = Vec::new();
        if line.is_empty() {
            return out;
        }
        let mut nodes = self.nodes.as_slice();
        let mut input = line;
        if let Some((Node::Literal(lit), rest)) = nodes.split_first() {
            if !input.starts_with(lit) {
                return out;
            }
            input = input.get(lit.len()..).unwrap_or(&[]);
            nodes = rest;
        }
        while let Some((Node::Capture(name), rest)) = nodes.split_first() {
            let Some((Node::Literal(lit), after)) = rest.split_first() else {
                if let Some(n) = name {
                    out.push((n.as_str(), input));
                }
                return out;
            };
            nodes = after;
            match memchr::memmem::find(input, lit) {
                None => {
                    if let Some(n) = name {
                        out.push((n.as_str(), input));
                    }
                    return out;
                }
                Some(i) => {
                    if let Some(n) = name {
                        out.push((n.as_str(), input.get(..i).unwrap_or(&[])));
                    }
                    input = input.get(i + lit.len()..).unwrap_or(&[]);
                }
            }
        }
        out
    }

    /// Whether the whole line matches (the `|>` filter).
    pub fn test(&self, line: &[u8]) -> bool {
        if line.is_empty() || self.nodes.is_empty() {
            return false;
        }
        let mut nodes = self.nodes.as_slice();
        let mut input = line;
        if let Some((Node::Literal(lit), rest)) = nodes.split_first() {
            if !input.starts_with(lit) {
                return false;
            }
            input = input.get(lit.len()..).unwrap_or(&[]);
            nodes = rest;
            if nodes.is_empty() {
                return input.is_empty();
            }
        }
        while let Some((Node::Capture(_), rest)) = nodes.split_first() {
            let Some((Node::Literal(lit), after)) = rest.split_first() else {
                return true;
            };
            nodes = after;
            match memchr::memmem::find(input, lit) {
                None => return false,
                Some(i) => input = input.get(i + lit.len()..).unwrap_or(&[]),
            }
        }
        input.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps(p: &str, line: &str) -> Vec<(String, String)> {
        Pattern::parse(p)
            .unwrap()
            .captures(line.as_bytes())
            .into_iter()
            .map(|(n, v)| (n.to_owned(), String::from_utf8_lossy(v).into_owned()))
            .collect()
    }

    #[test]
    fn extracts_named_captures() {
        assert_eq!(
            caps("<method> <_> <status>", "GET /home 200"),
            [
                ("method".into(), "GET".into()),
                ("status".into(), "200".into())
            ]
        );
        assert_eq!(
            caps("<method> <path>", "POST"),
            [("method".to_string(), "POST".to_string())]
        );
        assert!(caps("x <a>", "y 1").is_empty());
    }

    #[test]
    fn test_matches_whole_line() {
        let p = Pattern::parse("GET <_> 200").unwrap();
        assert!(p.test(b"GET /a 200"));
        assert!(!p.test(b"GET /a 200 extra"));
        assert!(!Pattern::parse("GET /api").unwrap().test(b"GET /api/x"));
        assert!(Pattern::parse("GET /api").unwrap().test(b"GET /api"));
    }

    #[test]
    fn validation() {
        assert!(Pattern::parse("<a><b>").is_err());
        assert!(Pattern::parse("<a> <a>").is_err());
        assert!(Pattern::parse_for_parser("no captures").is_err());
        assert!(Pattern::parse("<verb> x").unwrap().has_named_captures());
    }

    /// A `<…>` whose name is not a label name is literal text, not a capture.
    #[test]
    fn only_label_names_capture() {
        for (text, captures) in [
            ("<a_1> x", true),
            ("<_x> x", true),
            ("<1a> x", false),
            ("<a-b> x", false),
            ("<a:b> x", false),
            ("<é> x", false),
            ("<> x", false),
        ] {
            let p = Pattern::parse(text).unwrap();
            assert_eq!(p.has_named_captures(), captures, "{text}");
        }
    }
}
