//! The `docker` stage: Docker's JSON log lines (`{"log": …, "stream": …,
//! "time": …}`) read as Promtail 2.8 reads them — a fixed pipeline of
//! `json`, `labels`, `timestamp` and `output` stages.

use super::{Pipeline, PipelineEntry, PipelineError, Stage, StageConfig, StageContext};

/// Promtail's composition (`NewDocker`), as the stages it is made of. The
/// timestamp stage keeps its default `action_on_failure: fudge`.
const DOCKER_STAGES: &str = r#"
- json:
    expressions:
      output: log
      stream: stream
      timestamp: time
- labels:
    stream:
- timestamp:
    source: timestamp
    format: RFC3339Nano
- output:
    source: output
"#;

/// Parses a fixed composition of stages and builds it.
pub(crate) fn composed(yaml: &str, ctx: &StageContext) -> Result<Pipeline, PipelineError> {
    let stages: Vec<StageConfig> =
        yaml_serde::from_str(yaml).map_err(|e| PipelineError::Composition(e.to_string()))?;
    Pipeline::new(&stages, ctx)
}

/// The `docker` stage.
pub struct DockerStage {
    inner: Pipeline,
}

impl DockerStage {
    /// Builds the stage's pipeline.
    pub fn new(ctx: &StageContext) -> Result<Self, PipelineError> {
        Ok(Self {
            inner: composed(DOCKER_STAGES, ctx)?,
        })
    }
}

impl Stage for DockerStage {
    fn name(&self) -> &'static str {
        "docker"
    }

    fn process(&mut self, entry: PipelineEntry, now_ns: i64, out: &mut Vec<PipelineEntry>) {
        Stage::process(&mut self.inner, entry, now_ns, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::Entry;
    use instrument::Registry;
    use std::sync::Arc;

    fn stage() -> Result<DockerStage, PipelineError> {
        DockerStage::new(&StageContext::new("job", Arc::new(Registry::new()))?)
    }

    /// `(labels, ts, line)` of what a line becomes.
    fn run(line: &str) -> Option<(String, i64, String)> {
        let mut stage = stage().ok()?;
        let mut out = Vec::new();
        let e = Entry {
            line: line.to_owned(),
            ts_ns: 7,
            ..Entry::default()
        };
        stage.process(PipelineEntry::new(e), 7, &mut out);
        let e = out.pop()?.entry;
        let labels: Vec<String> = e.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        Some((labels.join(","), e.ts_ns, e.line))
    }

    #[test]
    fn the_composition_parses() {
        let stages: Vec<StageConfig> = yaml_serde::from_str(DOCKER_STAGES).unwrap();
        let names: Vec<_> = stages.iter().map(StageConfig::name).collect();
        assert_eq!(names, ["json", "labels", "timestamp", "output"]);
    }

    #[test]
    fn a_docker_line_gives_its_log_and_stream() {
        // Without the timestamp stage: what the stage itself wires.
        let stages: Vec<StageConfig> = yaml_serde::from_str(DOCKER_STAGES).unwrap();
        let stages: Vec<StageConfig> = stages
            .into_iter()
            .filter(|s| s.name() != "timestamp")
            .collect();
        let ctx = StageContext::new("job", Arc::new(Registry::new())).unwrap();
        let mut stage = DockerStage {
            inner: Pipeline::new(&stages, &ctx).unwrap(),
        };
        let mut out = Vec::new();
        for line in [
            r#"{"log":"hello\n","stream":"stderr","time":"2019-04-30T02:12:41.8443515Z"}"#,
            "not json",
        ] {
            let e = Entry {
                line: line.to_owned(),
                ..Entry::default()
            };
            stage.process(PipelineEntry::new(e), 0, &mut out);
        }
        let got: Vec<(Option<&str>, &str)> = out
            .iter()
            .map(|e| {
                (
                    e.entry.labels.get("stream").map(String::as_str),
                    e.entry.line.as_str(),
                )
            })
            .collect();
        assert_eq!(got, [(Some("stderr"), "hello\n"), (None, "not json")]);
    }

    #[test]
    fn a_docker_line_gives_its_log_stream_and_time() {
        let got =
            run(r#"{"log":"hello\n","stream":"stderr","time":"2019-04-30T02:12:41.8443515Z"}"#);
        assert_eq!(
            got,
            Some((
                "stream=stderr".to_owned(),
                1_556_590_361_844_351_500,
                "hello\n".to_owned()
            ))
        );
        assert_eq!(
            run("not json"),
            Some((String::new(), 7, "not json".to_owned()))
        );
    }
}
