//! What `--dry-run` prints for each entry, as Promtail 2.8's logging client
//! does: the time, the labels and the line, separated by tabs and passed
//! through a Go `tabwriter` flushed after every entry.

use std::io::Write;
use std::sync::Mutex;

use crate::entry::{Entry, LabelSet, Sink, SinkClosed};

/// The sink of `--dry-run`: prints each entry as Promtail does instead of
/// pushing it, and drops it (releasing its receipt) once printed.
pub struct DryRunSink<W> {
    out: Mutex<W>,
}

impl<W: Write + Send> DryRunSink<W> {
    /// Prints to `out` (Promtail prints to standard output).
    pub fn new(out: W) -> Self {
        Self {
            out: Mutex::new(out),
        }
    }

    /// The writer back.
    pub fn into_inner(self) -> W {
        self.out
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl<W: Write + Send> Sink for DryRunSink<W> {
    fn send(&self, entry: Entry) -> Result<(), SinkClosed> {
        let text = dry_run_line(&entry);
        let mut out = self
            .out
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // A closed standard output ends the run, as a closed sink does.
        out.write_all(text.as_bytes())
            .and_then(|()| out.flush())
            .map_err(|_| SinkClosed)
    }
}

/// One entry as Promtail's `--dry-run` prints it, with its newline:
/// `2023-08-01T14:11:35.126+0000<pad>{env="dev", job="api"}<pad>line`.
///
/// The padding is the tabwriter's (minwidth 0, tabwidth 8, padding 0,
/// padchar `'\t'`): a cell is padded with one tab unless its width is a
/// multiple of 8, so the separator may vanish; tabs inside the line make
/// further cells, which is why the output is lossy for such lines.
pub fn dry_run_line(entry: &Entry) -> String {
    let text = format!(
        "{}\t{}\t{}\n",
        format_time(entry.ts_ns),
        label_set_string(&entry.labels),
        entry.line
    );
    tabwriter(&text)
}

/// Prometheus' `LabelSet.String()`: `name="value"` pairs, Go-quoted, sorted
/// as strings (so `a1="x"` sorts before `a="x"`), in braces.
pub fn label_set_string(labels: &LabelSet) -> String {
    let mut pairs: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}={}", gocompat::strconv::quote(v)))
        .collect();
    pairs.sort();
    format!("{{{}}}", pairs.join(", "))
}

/// The time in Go layout `2006-01-02T15:04:05.999999999-0700`, in UTC (the
/// zone vigil's entries carry).
pub fn format_time(ts_ns: i64) -> String {
    gocompat::time::format(ts_ns, DRY_RUN_LAYOUT)
}

/// The layout Promtail's logging client prints times with.
const DRY_RUN_LAYOUT: &str = "2006-01-02T15:04:05.999999999-0700";

/// Go's `text/tabwriter` over one flushed block, with Promtail's settings
/// (minwidth 0, tabwidth 8, padding 0, padchar `'\t'`, no flags).
///
/// A cell is text terminated by a tab; the text after a line's last tab is
/// not a cell and is never padded. A column is a run of consecutive lines
/// that have a cell at that index; its width is its widest cell (in
/// runes), and each cell is padded with tabs to that width rounded up to a
/// multiple of the tab width.
pub fn tabwriter(text: &str) -> String {
    let ends_with_newline = text.ends_with('\n');
    let body = text.strip_suffix('\n').unwrap_or(text);
    let lines: Vec<Vec<&str>> = body.split('\n').map(|l| l.split('\t').collect()).collect();
    // widths[line][col]: the width of the column that cell belongs to.
    let mut widths: Vec<Vec<usize>> = lines
        .iter()
        .map(|l| vec![0; l.len().saturating_sub(1)])
        .collect();
    assign_widths(&lines, &mut widths, 0, 0, lines.len());
    let mut out = String::with_capacity(text.len() + 8);
    for (i, cells) in lines.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let last = cells.len().saturating_sub(1);
        for (j, cell) in cells.iter().enumerate() {
            out.push_str(cell);
            if j < last {
                let w = cell.chars().count();
                let target = widths[i][j].div_ceil(TAB_WIDTH) * TAB_WIDTH;
                let pad = target - w.min(target);
                if !cell.is_empty() || pad > 0 {
                    for _ in 0..pad.div_ceil(TAB_WIDTH) {
                        out.push('\t');
                    }
                }
            }
        }
    }
    if ends_with_newline {
        out.push('\n');
    }
    out
}

const TAB_WIDTH: usize = 8;

/// Go's `format`: for column `col`, each run of consecutive lines in
/// `start..end` that have a cell there forms one column block.
fn assign_widths(
    lines: &[Vec<&str>],
    widths: &mut [Vec<usize>],
    col: usize,
    start: usize,
    end: usize,
) {
    let mut i = start;
    while i < end {
        if lines[i].len().saturating_sub(1) <= col {
            i += 1;
            continue;
        }
        let block_start = i;
        let mut width = 0;
        while i < end && lines[i].len().saturating_sub(1) > col {
            width = width.max(lines[i][col].chars().count());
            i += 1;
        }
        for w in &mut widths[block_start..i] {
            w[col] = width;
        }
        assign_widths(lines, widths, col + 1, block_start, i);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> LabelSet {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn label_sets_sort_as_go_strings() {
        assert_eq!(
            label_set_string(&labels(&[("a", "x"), ("a1", "y")])),
            r#"{a1="y", a="x"}"#
        );
        assert_eq!(label_set_string(&labels(&[])), "{}");
        assert_eq!(
            label_set_string(&labels(&[("w", "has\"quote\\back")])),
            r#"{w="has\"quote\\back"}"#
        );
    }

    #[test]
    fn times_use_the_dry_run_layout() {
        assert_eq!(
            format_time(1_690_899_095_126_000_000),
            "2023-08-01T14:11:35.126+0000"
        );
        assert_eq!(
            format_time(1_690_899_098_000_000_000),
            "2023-08-01T14:11:38+0000"
        );
        assert_eq!(
            format_time(1_795_534_354_650_653_147),
            "2026-11-24T15:32:34.650653147+0000"
        );
        assert_eq!(format_time(0), "1970-01-01T00:00:00+0000");
        assert_eq!(format_time(-1), "1969-12-31T23:59:59.999999999+0000");
    }

    #[test]
    fn a_cell_whose_width_is_a_multiple_of_8_gets_no_tab() {
        assert_eq!(tabwriter("12345678\tx\n"), "12345678x\n");
        assert_eq!(tabwriter("1234567\tx\n"), "1234567\tx\n");
        assert_eq!(tabwriter("123456789\tx\n"), "123456789\tx\n");
    }

    #[test]
    fn empty_cells_print_nothing() {
        assert_eq!(tabwriter("a\t\tb\n"), "a\tb\n");
    }

    #[test]
    fn widths_count_runes() {
        assert_eq!(tabwriter("ééééééé\tx\n"), "ééééééé\tx\n");
        assert_eq!(tabwriter("éééééééé\tx\n"), "ééééééééx\n");
    }

    #[test]
    fn columns_span_consecutive_lines() {
        assert_eq!(
            tabwriter("a\tb\nlonger-than-8\tc\n"),
            "a\t\tb\nlonger-than-8\tc\n"
        );
    }

    #[test]
    fn the_dry_run_sink_prints_each_entry() {
        let sink = DryRunSink::new(Vec::new());
        let e = Entry {
            labels: labels(&[("job", "j")]),
            ts_ns: 1_000_000_000,
            line: "a".into(),
            ..Entry::default()
        };
        assert_eq!(sink.send(e.clone()), Ok(()));
        assert_eq!(sink.send(e), Ok(()));
        let text = String::from_utf8(sink.into_inner()).expect("utf-8");
        assert_eq!(text, "1970-01-01T00:00:01+0000{job=\"j\"}\ta\n".repeat(2));
    }

    #[test]
    fn a_dry_run_line_as_promtail_prints_it() {
        let e = Entry {
            labels: labels(&[("env", "dev"), ("job", "fast-api-logs")]),
            ts_ns: 1_690_899_098_000_000_000,
            line: "hello".into(),
            ..Entry::default()
        };
        // Both cells are 24 and 32 runes wide: no tab at all (golden case02).
        assert_eq!(
            dry_run_line(&e),
            "2023-08-01T14:11:38+0000{env=\"dev\", job=\"fast-api-logs\"}hello\n"
        );
    }
}
