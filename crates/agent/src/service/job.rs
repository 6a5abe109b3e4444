//! A job's pipeline between its targets and the clients.
//!
//! Every file of a job feeds one pipeline, as in Promtail, so stateful
//! stages (`limit`, `metrics`, `multiline` per stream) see the whole job.
//! The pipeline runs on the calling tailer's thread under a lock that is
//! released before the entries are handed on: a full client blocks the
//! tailer, not the other files' pipelines.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::entry::{Entry, Sink, SinkClosed};
use crate::pipeline::{LimitStage, Pipeline, PipelineEntry, Stage};

/// `limits_config.readline_rate`, shared by every job of the agent.
pub type ReadlineLimit = Arc<Mutex<LimitStage>>;

/// The job's pipeline, as a sink for its targets.
pub struct JobSink {
    pipeline: Mutex<Pipeline>,
    next: Arc<dyn Sink>,
    /// Set at shutdown: nothing is held back any more.
    closing: AtomicBool,
    /// Applied to what leaves the pipeline, when configured.
    readline: Option<ReadlineLimit>,
}

impl JobSink {
    /// Runs `pipeline` in front of `next`.
    pub fn new(pipeline: Pipeline, next: Arc<dyn Sink>) -> Self {
        Self {
            pipeline: Mutex::new(pipeline),
            next,
            closing: AtomicBool::new(false),
            readline: None,
        }
    }

    /// Passes what leaves the pipeline through `limit` as well.
    pub fn with_readline_limit(mut self, limit: Option<ReadlineLimit>) -> Self {
        self.readline = limit;
        self
    }

    /// Releases the entries held past their time (`multiline`).
    pub fn tick(&self) -> Result<(), SinkClosed> {
        let mut out = Vec::new();
        self.lock().tick(now_ns(), &mut out);
        self.forward(out)
    }

    /// Releases every entry held, at shutdown.
    pub fn drain(&self) -> Result<(), SinkClosed> {
        let mut out = Vec::new();
        self.lock().drain(&mut out);
        self.forward(out)
    }

    /// Releases every entry held and holds nothing from now on: what the
    /// tailers still send while they stop passes straight through.
    pub fn close(&self) -> Result<(), SinkClosed> {
        self.closing.store(true, Ordering::SeqCst);
        self.drain()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pipeline> {
        // A panic inside a stage is a bug, reported where it happened; the
        // pipeline's state is still usable for the entries that follow.
        self.pipeline.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn forward(&self, out: Vec<Entry>) -> Result<(), SinkClosed> {
        let out = match &self.readline {
            Some(limit) => {
                let mut limit = limit.lock().unwrap_or_else(PoisonError::into_inner);
                let mut passed = Vec::with_capacity(out.len());
                for entry in out {
                    limit.process(PipelineEntry::new(entry), now_ns(), &mut passed);
                }
                passed.into_iter().map(|e| e.entry).collect()
            }
            None => out,
        };
        for entry in out {
            self.next.send(entry)?;
        }
        Ok(())
    }
}

impl Sink for JobSink {
    fn send(&self, entry: Entry) -> Result<(), SinkClosed> {
        let mut out = Vec::with_capacity(1);
        {
            let mut pipeline = self.lock();
            pipeline.process(entry, now_ns(), &mut out);
            if self.closing.load(Ordering::Relaxed) {
                pipeline.drain(&mut out);
            }
        }
        self.forward(out)
    }
}

/// Nanoseconds since the epoch, now.
pub(crate) fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// How often held entries are looked at: well under Promtail's shortest
/// useful `max_wait_time`.
pub(crate) const TICK: Duration = Duration::from_millis(100);

#[cfg(test)]
mod tests {
    use super::*;
    use instrument::Registry;

    /// Records what reaches it.
    #[derive(Default)]
    struct Recorder(Mutex<Vec<String>>);
    impl Sink for Recorder {
        fn send(&self, entry: Entry) -> Result<(), SinkClosed> {
            self.0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(entry.line);
            Ok(())
        }
    }

    #[test]
    fn the_readline_limit_drops_past_its_burst_and_counts() {
        let registry = Arc::new(Registry::new());
        let ctx = crate::pipeline::StageContext::new("job", registry).expect("registered");
        let recorder = Arc::new(Recorder::default());
        let limit = Arc::new(Mutex::new(LimitStage::readline(
            1.0,
            2,
            true,
            ctx.dropped.clone(),
        )));
        let job = JobSink::new(Pipeline::from_stages(Vec::new()), recorder.clone())
            .with_readline_limit(Some(limit));
        for i in 0..5 {
            let entry = Entry {
                line: format!("line {i}"),
                ..Entry::default()
            };
            job.send(entry).expect("sent");
        }
        assert_eq!(
            *recorder.0.lock().expect("not poisoned"),
            ["line 0", "line 1"]
        );
        assert_eq!(
            ctx.dropped.with_labels(&["global_rate_limiter_drop"]).get(),
            3.0
        );
    }
}
