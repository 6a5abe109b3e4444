//! `--stdin`: lines from standard input through the first job's pipeline,
//! as Promtail reads them: the job's static labels (no `filename`), the
//! read time, empty lines skipped; at the end of the input the pipeline is
//! drained and the clients get a few seconds to acknowledge.

use std::io::BufRead as _;
use std::sync::Arc;
use std::time::Duration;

use super::job::{JobSink, now_ns};
use super::{
    AgentError, AgentOptions, DRAIN_TIMEOUT, Metrics, Ticker, job_pipeline, readline_limit, sinks,
};
use crate::config::Config;
use crate::entry::{Entry, LabelSet, Sink};

/// Reads standard input to its end through the first job's pipeline, then
/// drains. Blocking: call it from a plain thread or `spawn_blocking`.
pub fn run_stdin(options: &AgentOptions) -> Result<(), AgentError> {
    let mut config: Config =
        Config::load_config_file_flag(&options.config_file, options.expand_env)?;
    config.apply(&options.overrides);
    config.validate(true).map_err(AgentError::from)?;
    let metrics = Metrics::new()?;
    let (sink, clients) = sinks(&config, options, &metrics)?;
    let scrape = config.stdin_job(&hostname());
    let labels: LabelSet = scrape
        .merged_static_labels()
        .into_iter()
        .filter(|(k, _)| !k.starts_with("__"))
        .collect();
    let job = Arc::new(
        JobSink::new(
            job_pipeline(&scrape, &metrics.stages, options.inspect)?,
            sink,
        )
        .with_readline_limit(readline_limit(&config, &metrics)),
    );
    let ticker = Ticker::start(vec![job.clone()]);
    let result = feed(&job, labels);
    let drained = job.close();
    ticker.stop();
    if let Some(clients) = clients {
        clients.stop(DRAIN_TIMEOUT + Duration::from_secs(2));
    }
    result?;
    drained.map_err(|_| AgentError::Task("the clients stopped early".into()))
}

/// Sends every non-empty line of standard input to `job`.
fn feed(job: &JobSink, labels: LabelSet) -> Result<(), AgentError> {
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let n = input
            .read_until(b'\n', &mut buf)
            .map_err(AgentError::Stdin)?;
        if n == 0 {
            return Ok(());
        }
        if buf.last() == Some(&b'\n') {
            buf.pop();
        }
        if buf.is_empty() {
            continue;
        }
        let entry = Entry {
            labels: labels.clone(),
            ts_ns: now_ns(),
            line: String::from_utf8_lossy(&buf).into_owned(),
            ..Entry::default()
        };
        if job.send(entry).is_err() {
            return Err(AgentError::Task("the clients stopped early".into()));
        }
    }
}

/// This machine's name, for Promtail's default stdin job.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}
