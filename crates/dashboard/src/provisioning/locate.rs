//! Where the entries of a YAML sequence start, found in the text: the
//! YAML parser gives positions only to its own errors, and the checks made
//! after parsing (two default datasources, a duplicate uid) must name the
//! line of the entry at fault too.

use gocompat::yaml::Location;

/// The location of each item of the block sequence under the top-level
/// `key` (`datasources:` then `- name: ...` lines), in order. Empty when
/// the key is missing or its value is written in flow style (`[...]`); a
/// caller then names the file alone.
pub(crate) fn item_locations(text: &str, key: &str) -> Vec<Location> {
    let mut lines = text.lines().enumerate();
    let header = lines.by_ref().find(|(_, line)| {
        line.strip_prefix(key)
            .and_then(|rest| rest.trim_start().strip_prefix(':'))
            .is_some_and(|rest| {
                let rest = rest.trim();
                rest.is_empty() || rest.starts_with('#')
            })
    });
    if header.is_none() {
        return Vec::new();
    }
    sequence_items(lines)
}

/// The items of a block sequence that is the whole document (`- name:`
/// at the top: the old provider format).
pub(crate) fn top_level_items(text: &str) -> Vec<Location> {
    sequence_items(text.lines().enumerate())
}

fn sequence_items<'a>(lines: impl Iterator<Item = (usize, &'a str)>) -> Vec<Location> {
    let mut items = Vec::new();
    let mut indent = None;
    for (number, line) in lines {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let here = line.len() - trimmed.len();
        let is_item = trimmed == "-" || trimmed.starts_with("- ");
        match indent {
            None if is_item => indent = Some(here),
            None => break,
            Some(level) if here < level => break,
            // A key at the sequence's own level ends it (YAML allows
            // `key:\n- a` with the items not indented).
            Some(level) if here == level && !is_item => break,
            Some(_) => {}
        }
        if is_item && indent == Some(here) {
            items.push(Location {
                line: number + 1,
                column: here + 1,
            });
        }
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str, key: &str) -> Vec<usize> {
        item_locations(text, key).iter().map(|l| l.line).collect()
    }

    #[test]
    fn items_are_found_under_their_key() {
        let text = "apiVersion: 1\n# c\ndatasources:  # list\n  - name: a\n    url: x\n\n  # between\n  - name: b\n    jsonData:\n      - 1\ndeleteDatasources:\n  - name: c\n";
        assert_eq!(lines(text, "datasources"), [4, 8]);
        assert_eq!(lines(text, "deleteDatasources"), [12]);
        assert_eq!(lines(text, "providers"), Vec::<usize>::new());
    }

    #[test]
    fn unindented_items_end_at_the_next_key() {
        let text = "datasources:\n- name: a\n- name: b\nother: 1\n- x\n";
        assert_eq!(lines(text, "datasources"), [2, 3]);
        assert_eq!(
            lines("datasources: [{name: a}]\n", "datasources"),
            Vec::<usize>::new()
        );
    }
}
