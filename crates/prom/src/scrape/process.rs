//! What one scrape body becomes once stored: target labels attached (with
//! `honor_labels` or the `exported_` prefix), metric relabeling, limits,
//! timestamps, staleness markers and the report series.
//!
//! Like Prometheus' scrape cache, a target's [`ScrapeCache`] maps each
//! series as the target writes it (`http_requests_total{method="GET"}`) to
//! the TSDB series it is stored in, or to "dropped by relabeling". A target
//! exposes the same series scrape after scrape, so a scrape normally builds
//! no label set, runs no relabeling and hashes no labels: it looks the text
//! up and appends by reference. Labels are built only for series met for
//! the first time, or whose head series a block cut has dropped.

use std::collections::HashMap;

use model::{Labels, METRIC_NAME};
use tsdb::{Appender, SeriesHandle, Tsdb, TsdbError};

use crate::config::ScrapeConfig;
use crate::exposition::{self, ExpositionFormat, Metadata};
use crate::remote::{RemoteWriters, to_request};
use model::relabel;

/// Names of the series Prometheus adds for every scrape, in the order of
/// [`Report::values`].
pub(crate) const REPORT_SERIES: [&str; 5] = [
    "up",
    "scrape_duration_seconds",
    "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling",
    "scrape_series_added",
];

/// A fetched body and the format to read it with.
pub(crate) struct Fetched {
    pub(crate) body: Vec<u8>,
    pub(crate) format: ExpositionFormat,
}

/// What a scrape stored, for the report series and the targets API.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Report {
    /// Why the scrape failed; `None` when it succeeded.
    pub(crate) error: Option<String>,
    /// Samples in the body (`scrape_samples_scraped`).
    pub(crate) scraped: usize,
    /// Samples left after metric relabeling.
    pub(crate) post_relabel: usize,
    /// Series seen for the first time (`scrape_series_added`).
    pub(crate) added: usize,
    /// Samples the TSDB refused (out of order, duplicates).
    pub(crate) rejected: u64,
    /// Metadata of the families the body exposed.
    pub(crate) metadata: Option<Vec<Metadata>>,
}

/// One series as a target writes it.
#[derive(Debug, Clone)]
struct Entry {
    /// Where its samples go; `None` when metric relabeling drops it.
    series: Option<SeriesHandle>,
    /// The format it was written in, to read its labels again.
    format: ExpositionFormat,
    /// The last scrape that exposed it, and the one before (to undo a
    /// failed scrape's sightings).
    last_seen: u64,
    seen_before: u64,
    /// Whether its last sample had no timestamp of its own: only such
    /// series get a staleness marker when they disappear.
    tracks_staleness: bool,
}

/// A target's state between scrapes: its series cache and the references of
/// its report series.
pub(crate) struct ScrapeCache {
    target_labels: Labels,
    job: std::sync::Arc<ScrapeConfig>,
    entries: HashMap<Box<str>, Entry, foldhash::fast::RandomState>,
    /// Counts scrapes; an entry's `last_seen` is one of these.
    iteration: u64,
    report: [Option<SeriesHandle>; 5],
}

impl ScrapeCache {
    /// An empty cache for one target of `job`.
    pub(crate) fn new(target_labels: Labels, job: std::sync::Arc<ScrapeConfig>) -> Self {
        Self {
            target_labels,
            job,
            entries: HashMap::default(),
            iteration: 0,
            report: Default::default(),
        }
    }

    /// Stores one scrape started at `at` (ms) whose request took
    /// `duration_s`: its samples, staleness markers for the series that
    /// disappeared (all of them when the scrape failed), and the report
    /// series, committed together and forwarded to `remote`.
    pub(crate) fn store(
        &mut self,
        db: &Tsdb,
        fetched: Result<Fetched, String>,
        at: i64,
        duration_s: f64,
        remote: Option<&RemoteWriters>,
    ) -> Result<Report, TsdbError> {
        self.iteration += 1;
        let mut appender = db.appender();
        let mut report = match fetched {
            Ok(fetched) => self.append_body(&mut appender, &fetched, at),
            Err(error) => Ok(Report {
                error: Some(error),
                ..Report::default()
            }),
        }?;
        if report.error.is_some() {
            // Nothing of a failed scrape is kept: as in Prometheus, it
            // counts as an empty one.
            appender = db.appender();
            self.unsee();
            report.scraped = 0;
            report.post_relabel = 0;
            report.added = 0;
        }
        report.rejected += self.mark_gone_stale(&mut appender, at, report.error.is_none())?;
        let up = if report.error.is_none() { 1.0 } else { 0.0 };
        let values = [
            up,
            duration_s,
            report.scraped as f64,
            report.post_relabel as f64,
            report.added as f64,
        ];
        for (i, value) in values.into_iter().enumerate() {
            report.rejected += self.append_report(&mut appender, i, at, value)?;
        }
        // Forward only what is stored: the queue write is local and quick,
        // the network is the sender's business.
        let forward = remote
            .filter(|writers| !writers.is_empty())
            .map(|writers| (writers, to_request(appender.pending())));
        let commit = appender.commit()?;
        report.rejected += commit.rejected as u64;
        if let Some((writers, request)) = forward {
            writers.enqueue_request(&request);
        }
        Ok(report)
    }

    /// Staleness markers for every series of the last scrape and the report
    /// series: the target is gone.
    pub(crate) fn mark_all_stale(&mut self, db: &Tsdb, at: i64) -> Result<(), TsdbError> {
        let mut appender = db.appender();
        // One more iteration with nothing seen: everything of the last
        // scrape disappears.
        self.iteration += 1;
        self.mark_gone_stale(&mut appender, at, false)?;
        let stale = model::staleness::stale_nan();
        for i in 0..REPORT_SERIES.len() {
            self.append_report(&mut appender, i, at, stale)?;
        }
        appender.commit().map(drop)
    }

    fn append_body(
        &mut self,
        appender: &mut Appender<'_>,
        fetched: &Fetched,
        at: i64,
    ) -> Result<Report, TsdbError> {
        let failed = |error: String| {
            Ok(Report {
                error: Some(error),
                ..Report::default()
            })
        };
        let scan = match exposition::scan(&fetched.body, fetched.format) {
            Ok(scan) => scan,
            Err(e) => return failed(e.to_string()),
        };
        let honor_timestamps = self.job.honor_timestamps.unwrap_or(true);
        let mut report = Report {
            scraped: scan.samples.len(),
            ..Report::default()
        };
        for sample in &scan.samples {
            let timestamp = match sample.timestamp_ms {
                Some(t) if honor_timestamps => t,
                _ => at,
            };
            let tracks_staleness = timestamp == at;
            let appended = match self.entries.get_mut(sample.series) {
                Some(entry) => {
                    if entry.last_seen != self.iteration {
                        entry.seen_before = entry.last_seen;
                        entry.last_seen = self.iteration;
                    }
                    entry.tracks_staleness = tracks_staleness;
                    let Some(series) = &entry.series else {
                        continue; // dropped by relabeling
                    };
                    report.post_relabel += 1;
                    appender.append_to(series, timestamp, sample.value)
                }
                None => {
                    let labels = match exposition::series_labels(sample.series, fetched.format) {
                        Ok(labels) => labels,
                        Err(e) => return failed(format!("line {}: {e}", sample.line)),
                    };
                    let labels = match stored_labels(labels, &self.target_labels, &self.job) {
                        Ok(labels) => labels,
                        Err(e) => return failed(e),
                    };
                    let mut entry = Entry {
                        series: None,
                        format: fetched.format,
                        last_seen: self.iteration,
                        seen_before: 0,
                        tracks_staleness,
                    };
                    if let Some(labels) = labels {
                        report.post_relabel += 1;
                        match appender.append_series(&labels, timestamp, sample.value) {
                            Ok(series) => {
                                report.added += 1;
                                entry.series = Some(series);
                            }
                            // Not cached: the next scrape tries it afresh.
                            Err(e) if is_sample_error(&e) => {
                                report.rejected += 1;
                                continue;
                            }
                            Err(e) => return Err(e),
                        }
                    }
                    self.entries.insert(sample.series.into(), entry);
                    continue;
                }
            };
            match appended {
                Ok(()) => {}
                Err(TsdbError::UnknownSeries(_)) => {
                    // A block cut dropped the series: store it by labels again.
                    let labels = self.labels_of(sample.series, fetched.format).ok().flatten();
                    let Some(labels) = labels else { continue };
                    match appender.append_series(&labels, timestamp, sample.value) {
                        Ok(series) => {
                            if let Some(entry) = self.entries.get_mut(sample.series) {
                                entry.series = Some(series);
                            }
                        }
                        Err(e) if is_sample_error(&e) => report.rejected += 1,
                        Err(e) => return Err(e),
                    }
                }
                Err(e) if is_sample_error(&e) => report.rejected += 1,
                Err(e) => return Err(e),
            }
        }
        if let Some(limit) = self.job.sample_limit.filter(|l| *l > 0) {
            if report.post_relabel as u64 > limit {
                return failed(format!(
                    "sample limit exceeded: {} samples, limit {limit}",
                    report.post_relabel
                ));
            }
        }
        report.metadata = Some(scan.metadata);
        Ok(report)
    }

    /// The labels a series is stored under, or `None` when metric relabeling
    /// drops it; an error (a limit, duplicate label names) fails the scrape.
    fn labels_of(&self, series: &str, format: ExpositionFormat) -> Result<Option<Labels>, String> {
        let labels = exposition::series_labels(series, format)?;
        stored_labels(labels, &self.target_labels, &self.job)
    }

    /// Forgets the sightings of the current scrape, which failed.
    fn unsee(&mut self) {
        let iteration = self.iteration;
        self.entries.retain(|_, entry| {
            if entry.last_seen == iteration {
                entry.last_seen = entry.seen_before;
            }
            // Entries first met in the failed scrape go.
            entry.last_seen != 0
        });
    }

    /// Staleness markers for the series the previous scrape exposed and
    /// this one did not. After a successful scrape, such series leave the
    /// cache: a target that brings one back has added a series again.
    /// Returns how many markers the TSDB refused.
    fn mark_gone_stale(
        &mut self,
        appender: &mut Appender<'_>,
        at: i64,
        evict: bool,
    ) -> Result<u64, TsdbError> {
        let iteration = self.iteration;
        let stale = model::staleness::stale_nan();
        let mut rejected = 0;
        let mut result = Ok(());
        let mut refetch = Vec::new();
        self.entries.retain(|text, entry| {
            if entry.last_seen == iteration {
                return true;
            }
            if entry.last_seen + 1 == iteration && entry.tracks_staleness && result.is_ok() {
                if let Some(series) = &entry.series {
                    match appender.append_to(series, at, stale) {
                        Ok(()) => {}
                        Err(TsdbError::UnknownSeries(_)) => {
                            refetch.push((text.clone(), entry.format));
                        }
                        Err(e) if is_sample_error(&e) => rejected += 1,
                        Err(e) => result = Err(e),
                    }
                }
            }
            !evict
        });
        result?;
        // Rare: a series the head dropped still needs its marker.
        for (text, format) in refetch {
            if let Ok(Some(labels)) = self.labels_of(&text, format) {
                match appender.append(&labels, at, stale) {
                    Ok(_) => {}
                    Err(e) if is_sample_error(&e) => rejected += 1,
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(rejected)
    }

    /// Appends report series `i`; returns 1 if the TSDB refused the sample.
    fn append_report(
        &mut self,
        appender: &mut Appender<'_>,
        i: usize,
        at: i64,
        value: f64,
    ) -> Result<u64, TsdbError> {
        if let Some(series) = &self.report[i] {
            match appender.append_to(series, at, value) {
                Ok(()) => return Ok(0),
                Err(TsdbError::UnknownSeries(_)) => {}
                Err(e) if is_sample_error(&e) => return Ok(1),
                Err(e) => return Err(e),
            }
        }
        let mut labels = self.target_labels.clone();
        labels.set(METRIC_NAME, REPORT_SERIES[i]);
        match appender.append_series(&labels, at, value) {
            Ok(series) => {
                self.report[i] = Some(series);
                Ok(0)
            }
            Err(e) if is_sample_error(&e) => Ok(1),
            Err(e) => Err(e),
        }
    }
}

/// Errors that refuse one sample and leave the rest of a scrape alone.
fn is_sample_error(error: &TsdbError) -> bool {
    matches!(
        error,
        TsdbError::OutOfOrder
            | TsdbError::DuplicateSample
            | TsdbError::OutOfBounds { .. }
            | TsdbError::EmptyLabels
    )
}

/// Applies the job's rules to a scraped series: the labels it is stored
/// under, or `None` when metric relabeling drops it. A label limit that is
/// exceeded fails the whole scrape, as in Prometheus.
pub(crate) fn stored_labels(
    labels: Labels,
    target_labels: &Labels,
    job: &ScrapeConfig,
) -> Result<Option<Labels>, String> {
    let labels = attach_target_labels(labels, target_labels, job.honor_labels);
    let Some(labels) = relabel::process(&labels, &job.metric_relabel_configs) else {
        return Ok(None);
    };
    if labels.get(METRIC_NAME).is_none() {
        // Relabeling removed the name: such a series cannot be stored.
        return Ok(None);
    }
    check_label_limits(&labels, job)?;
    Ok(Some(labels))
}

/// Target labels win over the sample's (whose clashing values move to
/// `exported_<name>`), unless `honor_labels` keeps the sample's.
fn attach_target_labels(mut labels: Labels, target: &Labels, honor_labels: bool) -> Labels {
    for label in target.iter() {
        let existing = labels.get(label.name).map(str::to_owned);
        match existing {
            Some(_) if honor_labels => {}
            Some(value) => {
                // `exported_job` may itself be taken: prefix until free.
                let mut name = format!("exported_{}", label.name);
                while labels.get(&name).is_some() {
                    name = format!("exported_{name}");
                }
                labels.set(name, value);
                labels.set(label.name, label.value);
            }
            None => labels.set(label.name, label.value),
        }
    }
    labels
}

fn check_label_limits(labels: &Labels, job: &ScrapeConfig) -> Result<(), String> {
    let metric = labels.get(METRIC_NAME).unwrap_or("");
    if let Some(limit) = job.label_limit.filter(|l| *l > 0) {
        if labels.len() as u64 > limit {
            return Err(format!(
                "label_limit exceeded (metric: {metric}, number of labels: {}, limit: {limit})",
                labels.len()
            ));
        }
    }
    for label in labels.iter() {
        if let Some(limit) = job.label_name_length_limit.filter(|l| *l > 0) {
            if label.name.len() as u64 > limit {
                return Err(format!(
                    "label_name_length_limit exceeded (metric: {metric}, label name: {}, length: {}, limit: {limit})",
                    label.name,
                    label.name.len()
                ));
            }
        }
        if let Some(limit) = job.label_value_length_limit.filter(|l| *l > 0) {
            if label.value.len() as u64 > limit {
                return Err(format!(
                    "label_value_length_limit exceeded (metric: {metric}, label name: {}, value: {:?}, length: {}, limit: {limit})",
                    label.name,
                    label.value,
                    label.value.len()
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use tsdb::{Options, Queryable};

    use super::*;
    use crate::config::Config;

    fn job(extra: &str) -> Arc<ScrapeConfig> {
        let yaml = format!("scrape_configs:\n  - job_name: api\n{extra}");
        Arc::new(
            Config::parse(&yaml, std::path::Path::new("t.yml"))
                .unwrap()
                .scrape_configs
                .remove(0),
        )
    }

    struct Fixture {
        _dir: tempfile::TempDir,
        db: Tsdb,
        cache: ScrapeCache,
    }

    impl Fixture {
        fn new(extra: &str) -> Self {
            let dir = tempfile::tempdir().unwrap();
            let db = Tsdb::open(dir.path(), Options::default()).unwrap();
            let target = Labels::from_pairs([("job", "api"), ("instance", "h:1")]);
            Self {
                _dir: dir,
                db,
                cache: ScrapeCache::new(target, job(extra)),
            }
        }

        fn scrape(&mut self, body: &str, at: i64) -> Report {
            let fetched = Fetched {
                body: body.as_bytes().to_vec(),
                format: ExpositionFormat::Text,
            };
            self.cache
                .store(&self.db, Ok(fetched), at, 0.01, None)
                .unwrap()
        }

        /// `(labels, samples)` of every stored series but the report ones.
        fn stored(&self) -> Vec<(String, Vec<(i64, f64)>)> {
            self.db
                .querier(i64::MIN, i64::MAX)
                .unwrap()
                .select(&[])
                .unwrap()
                .iter()
                .filter(|s| {
                    !REPORT_SERIES.contains(&s.labels().get(METRIC_NAME).unwrap_or_default())
                })
                .map(|s| (s.labels().to_string(), s.samples().collect()))
                .collect()
        }

        fn report_values(&self, name: &str) -> Vec<f64> {
            let matcher = model::Matcher::new(model::MatchOp::Equal, METRIC_NAME, name).unwrap();
            let series = self
                .db
                .querier(i64::MIN, i64::MAX)
                .unwrap()
                .select(&[matcher])
                .unwrap();
            series[0].samples().map(|(_, v)| v).collect()
        }
    }

    #[test]
    fn target_labels_are_attached_and_clashes_exported() {
        let mut f = Fixture::new("");
        let report = f.scrape("a{job=\"other\",exported_job=\"x\"} 1\nb 2 1000\n", 5_000);
        assert_eq!(report.error, None);
        let stored = f.stored();
        assert_eq!(
            stored[0].0,
            r#"{__name__="a", exported_exported_job="other", exported_job="x", instance="h:1", job="api"}"#
        );
        // Timestamps from the target are honoured by default.
        assert_eq!((stored[0].1[0].0, stored[1].1[0].0), (5_000, 1_000));
        assert_eq!(
            (report.scraped, report.post_relabel, report.added),
            (2, 2, 2)
        );
    }

    #[test]
    fn honor_labels_keeps_the_targets_values() {
        let mut f = Fixture::new("    honor_labels: true\n");
        f.scrape("a{job=\"other\"} 1\n", 5_000);
        assert_eq!(
            f.stored()[0].0,
            r#"{__name__="a", instance="h:1", job="other"}"#
        );
    }

    #[test]
    fn honor_timestamps_false_uses_the_scrape_time() {
        let mut f = Fixture::new("    honor_timestamps: false\n");
        f.scrape("b 2 1000\n", 5_000);
        assert_eq!(f.stored()[0].1, [(5_000, 2.0)]);
    }

    #[test]
    fn metric_relabeling_drops_and_rewrites_and_is_remembered() {
        let extra = "    metric_relabel_configs:\n      - source_labels: [__name__]\n        regex: go_.*\n        action: drop\n      - source_labels: [instance]\n        target_label: host\n        regex: (.*):.*\n";
        let mut f = Fixture::new(extra);
        for at in [1_000, 2_000] {
            let report = f.scrape("go_gc 1\nkeep 2\n", at);
            assert_eq!((report.scraped, report.post_relabel), (2, 1));
        }
        let stored = f.stored();
        assert_eq!(stored.len(), 1);
        assert!(stored[0].0.contains(r#"host="h""#), "{}", stored[0].0);
        assert_eq!(stored[0].1, [(1_000, 2.0), (2_000, 2.0)]);
    }

    #[test]
    fn limits_fail_the_scrape_and_store_nothing_of_it() {
        let mut f = Fixture::new("    sample_limit: 2\n");
        let report = f.scrape("a 1\nb 2\nc 3\n", 1_000);
        let error = report.error.unwrap();
        assert!(error.starts_with("sample limit exceeded"), "{error}");
        assert!(f.stored().is_empty());
        assert_eq!(f.report_values("up"), [0.0]);
        assert_eq!(f.scrape("a 1\nb 2\n", 2_000).error, None);

        let mut f = Fixture::new("    label_limit: 4\n");
        let error = f.scrape("a{x=\"1\",y=\"2\"} 1\n", 1_000).error.unwrap();
        assert!(error.contains("number of labels: 5, limit: 4"), "{error}");
        let mut f = Fixture::new("    label_value_length_limit: 5\n");
        let error = f.scrape("a{x=\"123456\"} 1\n", 1_000).error.unwrap();
        assert!(
            error.starts_with("label_value_length_limit exceeded"),
            "{error}"
        );
    }

    #[test]
    fn repeated_label_names_fail_with_the_line() {
        let mut f = Fixture::new("");
        let error = f
            .scrape("ok 1\na{x=\"1\",x=\"2\"} 1\n", 1_000)
            .error
            .unwrap();
        assert!(error.starts_with("line 2: "), "{error}");
    }

    #[test]
    fn series_added_counts_series_new_to_the_cache() {
        let mut f = Fixture::new("");
        let added: Vec<usize> = ["a 1\nb 1\n", "a 2\nb 2\n", "a 3\nb 3\nc 3\n"]
            .iter()
            .zip([1_000, 2_000, 3_000])
            .map(|(body, at)| f.scrape(body, at).added)
            .collect();
        assert_eq!(added, [2, 0, 1]);
        assert_eq!(f.report_values("scrape_series_added"), [2.0, 0.0, 1.0]);
        // The same series written another way is another cache entry, but
        // one stored series.
        f.scrape("a{} 4\nb 4\nc 4\n", 4_000);
        assert_eq!(f.stored().len(), 3);
    }

    #[test]
    fn series_that_disappear_get_one_staleness_marker() {
        let mut f = Fixture::new("");
        f.scrape("a 1\nb 1\nt 1 500\n", 1_000);
        f.scrape("a 2\n", 2_000);
        f.scrape("a 3\n", 3_000);
        let stored = f.stored();
        let b = &stored.iter().find(|(l, _)| l.contains("\"b\"")).unwrap().1;
        assert_eq!(b.len(), 2);
        assert!(model::staleness::is_stale_nan(b[1].1) && b[1].0 == 2_000);
        // A sample with its own timestamp gets no marker.
        let t = &stored.iter().find(|(l, _)| l.contains("\"t\"")).unwrap().1;
        assert_eq!(t, &[(500, 1.0)]);
        // Coming back, it is a new series again.
        assert_eq!(f.scrape("a 4\nb 4\n", 4_000).added, 1);
    }

    #[test]
    fn a_failed_scrape_marks_everything_stale_once() {
        let mut f = Fixture::new("");
        f.scrape("a 1\n", 1_000);
        let report = f
            .cache
            .store(&f.db, Err("connection refused".into()), 2_000, 0.0, None)
            .unwrap();
        assert_eq!(report.error.as_deref(), Some("connection refused"));
        f.cache
            .store(&f.db, Err("connection refused".into()), 3_000, 0.0, None)
            .unwrap();
        let a = &f.stored()[0].1;
        assert_eq!(a.len(), 2);
        assert!(model::staleness::is_stale_nan(a[1].1));
        assert_eq!(f.report_values("up"), [1.0, 0.0, 0.0]);
        // A garbage body fails the same way, and what it had parsed before
        // the bad line is not kept.
        let mut f = Fixture::new("");
        f.scrape("a 1\n", 1_000);
        let report = f.scrape("a 2\nnew 1\n{{{\n", 2_000);
        assert!(report.error.is_some());
        let stored = f.stored();
        assert_eq!(stored.len(), 1, "{stored:?}");
        assert!(model::staleness::is_stale_nan(stored[0].1[1].1));
        assert_eq!(f.scrape("a 3\nnew 1\n", 3_000).added, 1);
    }

    #[test]
    fn mark_all_stale_ends_every_series_and_the_report_series() {
        let mut f = Fixture::new("");
        f.scrape("a 1\n", 1_000);
        f.cache.mark_all_stale(&f.db, 2_000).unwrap();
        assert!(model::staleness::is_stale_nan(f.stored()[0].1[1].1));
        let up = f.report_values("up");
        assert!(up[0] == 1.0 && model::staleness::is_stale_nan(up[1]));
    }

    #[test]
    fn refused_samples_are_counted_and_the_scrape_goes_on() {
        let mut f = Fixture::new("");
        f.scrape("a 1\n", 2_000);
        // Out of order for `a`, through the cache.
        let report = f.scrape("a 2 1000\nb 1\n", 3_000);
        assert_eq!((report.error, report.rejected), (None, 1));
        assert_eq!(f.stored().len(), 2);
    }

    #[test]
    fn series_dropped_from_the_head_are_stored_again_by_labels() {
        let dir = tempfile::tempdir().unwrap();
        let options = Options {
            block_duration: 1_000,
            ..Options::default()
        };
        let db = Tsdb::open(dir.path(), options).unwrap();
        let target = Labels::from_pairs([("job", "api")]);
        let mut cache = ScrapeCache::new(target, job(""));
        let scrape = |cache: &mut ScrapeCache, body: &str, at: i64| {
            let fetched = Fetched {
                body: body.as_bytes().to_vec(),
                format: ExpositionFormat::Text,
            };
            cache.store(&db, Ok(fetched), at, 0.0, None).unwrap()
        };
        scrape(&mut cache, "a 1\n", 1_000);
        // Cut everything into blocks: the head forgets `a` and the report
        // series, whose references the cache holds.
        scrape(&mut cache, "b 1\n", 10_000);
        scrape(&mut cache, "c 1\n", 20_000);
        db.compact().unwrap();
        let report = scrape(&mut cache, "a 2\nc 2\n", 30_000);
        assert_eq!((report.error, report.rejected), (None, 0));
        let a = Labels::from_pairs([("__name__", "a"), ("job", "api")]);
        let series = db.querier(0, 40_000).unwrap().select(&[]).unwrap();
        let a = series.iter().find(|s| s.labels() == &a).unwrap();
        assert_eq!(a.samples().last(), Some((30_000, 2.0)));
    }
}
