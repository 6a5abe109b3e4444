//! Source positions for annotations (`(1:5)`), found in the query text
//! because the parser's AST carries no spans.

/// `(line:col)` of byte offset `at` in `query`, 1-based as Prometheus prints.
pub(crate) fn line_col(query: &str, at: usize) -> String {
    let before = query.get(..at).unwrap_or(query);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!("({line}:{col})")
}

/// Byte offset of the first call of function `name` in `query`.
pub(crate) fn call_offset(query: &str, name: &str) -> Option<usize> {
    let bytes = query.as_bytes();
    let mut from = 0;
    while let Some(i) = query.get(from..).and_then(|q| q.find(name)) {
        let at = from + i;
        let before_ok = at == 0 || !is_ident(bytes[at - 1]);
        let rest = query[at + name.len()..].trim_start();
        if before_ok && rest.starts_with('(') {
            return Some(at);
        }
        from = at + name.len();
    }
    None
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b':'
}

/// Byte offset of argument `k` (0-based) of the call starting at `call`.
pub(crate) fn arg_offset(query: &str, call: usize, k: usize) -> Option<usize> {
    let open = call + query.get(call..)?.find('(')?;
    let bytes = query.as_bytes();
    let mut depth = 0usize;
    let mut arg = 0usize;
    let mut i = open + 1;
    let mut quote: Option<u8> = None;
    let mut start = i;
    while i < bytes.len() {
        let b = bytes[i];
        if let Some(q) = quote {
            if b == b'\\' {
                i += 1;
            } else if b == q {
                quote = None;
            }
        } else {
            match b {
                b'"' | b'\'' | b'`' => quote = Some(b),
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' if depth == 0 => break,
                b')' | b']' | b'}' => depth -= 1,
                b',' if depth == 0 => {
                    if arg == k {
                        break;
                    }
                    arg += 1;
                    start = i + 1;
                }
                _ => {}
            }
        }
        i += 1;
    }
    if arg != k {
        return None;
    }
    let skipped = query[start..].len() - query[start..].trim_start().len();
    Some(start + skipped)
}

/// Position of the call of `name`, or of its argument `k`.
pub(crate) fn describe(query: &str, name: &str, arg: Option<usize>) -> String {
    let Some(call) = call_offset(query, name) else {
        return "(1:1)".into();
    };
    let at = match arg {
        Some(k) => arg_offset(query, call, k).unwrap_or(call),
        None => call,
    };
    line_col(query, at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_of_calls_and_arguments() {
        let q = "sum(sort(series))";
        assert_eq!(describe(q, "sort", None), "(1:5)");
        let q = "histogram_quantile(0.8, series)";
        assert_eq!(describe(q, "histogram_quantile", Some(1)), "(1:25)");
        let q = "histogram_fraction(-Inf, 1, series)";
        assert_eq!(describe(q, "histogram_fraction", Some(2)), "(1:29)");
        assert_eq!(describe("x\n + sort(y)", "sort", None), "(2:4)");
    }
}
