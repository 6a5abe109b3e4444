//! Functions over instant vectors shared by both languages (`label_replace`).

use super::{AlgebraError, Vector, is_valid_label_name};
use crate::anchored_regex;

/// `label_replace(v, dst, replacement, src, regex)`: where the anchored
/// `regex` matches the value of `src`, sets `dst` to `replacement` with `$1`,
/// `${name}` expanded (an empty result removes `dst`); other samples pass
/// unchanged.
pub fn label_replace(
    vector: Vector,
    dst: &str,
    replacement: &str,
    src: &str,
    regex: &str,
) -> Result<Vector, AlgebraError> {
    let re = anchored_regex(regex).map_err(|e| AlgebraError::InvalidRegex(e.to_string()))?;
    if !is_valid_label_name(dst) {
        return Err(AlgebraError::InvalidLabelName(dst.to_owned()));
    }
    let mut out = Vec::with_capacity(vector.len());
    for mut sample in vector {
        let value = sample.labels.get(src).unwrap_or("").to_owned();
        if let Some(caps) = re.captures(&value) {
            let mut result = String::new();
            caps.expand(replacement, &mut result);
            if result.is_empty() {
                sample.labels.remove(dst);
            } else {
                sample.labels.set(dst, result);
            }
        }
        out.push(sample);
    }
    let mut seen = std::collections::HashSet::new();
    if !out.iter().all(|s| seen.insert(s.labels.clone())) {
        return Err(AlgebraError::DuplicateLabelSet);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Labels;
    use crate::algebra::Sample;

    fn v(pairs: &[(&str, &str)]) -> Vector {
        vec![Sample::new(Labels::from_pairs(pairs.iter().copied()), 1.0)]
    }

    #[test]
    fn replaces_with_captures() {
        let got = label_replace(v(&[("app", "foo-1")]), "n", "$1", "app", "foo-(.*)").unwrap();
        assert_eq!(got[0].labels.get("n"), Some("1"));
    }

    #[test]
    fn no_match_leaves_sample_unchanged_and_empty_result_removes() {
        let got = label_replace(v(&[("app", "bar")]), "n", "$1", "app", "foo(.*)").unwrap();
        assert_eq!(got[0].labels.get("n"), None);
        let got = label_replace(v(&[("app", "foo")]), "app", "", "app", "foo").unwrap();
        assert_eq!(got[0].labels.get("app"), None);
    }

    #[test]
    fn bad_regex_or_label_is_an_error() {
        assert!(label_replace(v(&[]), "n", "$1", "app", "(").is_err());
        assert!(label_replace(v(&[]), "1n", "$1", "app", ".*").is_err());
    }
}
