//! The traffic generator: rounds of concurrent requests to the test
//! endpoints, like the reference `api_metrics_generator.py`.
//!
//! Each round sends `clients` requests at once, each to a random endpoint
//! with its method, waits for all of them, then sleeps `interval`. Errors
//! are counted, never fatal. The [`Summary`] counts every answered request
//! by (method, path, status), so it can be checked against the server's own
//! counters.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use tokio::task::JoinSet;

use crate::DemoError;
use crate::api::TEST_ENDPOINTS;

/// How the generator runs.
#[derive(Debug, Clone)]
pub struct LoadgenConfig {
    /// Base URL of the API, e.g. `http://127.0.0.1:8000`.
    pub target: String,
    /// Concurrent requests per round.
    pub clients: usize,
    /// Pause between rounds.
    pub interval: Duration,
    /// Stop after this many rounds; `None` runs until shut down.
    pub rounds: Option<u64>,
    /// Per-request time limit (the API may wait up to its max delay).
    pub request_timeout: Duration,
    /// Seed of the endpoint choice, for reproducible runs.
    pub seed: Option<u64>,
}

impl Default for LoadgenConfig {
    fn default() -> Self {
        Self {
            target: "http://127.0.0.1:8000".into(),
            clients: 25,
            interval: Duration::from_secs(5),
            rounds: None,
            request_timeout: Duration::from_secs(60),
            seed: None,
        }
    }
}

/// Requests answered with one status by one endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EndpointCount {
    /// HTTP method.
    pub method: String,
    /// Path.
    pub path: String,
    /// Status answered.
    pub status: u16,
    /// Number of such answers.
    pub count: u64,
}

/// What a whole run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Rounds completed.
    pub rounds: u64,
    /// Requests answered (any status).
    pub requests: u64,
    /// Requests that got no answer (connection error, timeout).
    pub errors: u64,
    /// Answered requests by (method, path, status).
    pub by_endpoint: Vec<EndpointCount>,
}

/// What one round did.
#[derive(Debug, Clone)]
pub struct RoundReport {
    /// 1-based round number.
    pub round: u64,
    /// Requests answered, by status.
    pub statuses: BTreeMap<u16, u64>,
    /// Requests without an answer.
    pub errors: u64,
    /// Wall time of the round.
    pub elapsed: Duration,
}

impl std::fmt::Display for RoundReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let answered: u64 = self.statuses.values().sum();
        write!(
            f,
            "round {}: {answered} answered in {:.2} s (",
            self.round,
            self.elapsed.as_secs_f64()
        )?;
        for (i, (status, n)) in self.statuses.iter().enumerate() {
            write!(f, "{}{status}: {n}", if i > 0 { ", " } else { "" })?;
        }
        write!(f, "), {} errors", self.errors)
    }
}

type Key = (&'static str, &'static str, u16);

/// Runs rounds until `config.rounds` are done or `shutdown` resolves, and
/// returns what was answered; `on_round` sees each finished round.
pub async fn run(
    config: &LoadgenConfig,
    shutdown: impl Future<Output = ()>,
    mut on_round: impl FnMut(&RoundReport),
) -> Result<Summary, DemoError> {
    let base = reqwest::Url::parse(&config.target)
        .ok()
        .filter(|u| u.scheme() == "http" && u.host().is_some())
        .ok_or_else(|| DemoError::Target(config.target.clone()))?;
    let client = reqwest::Client::builder()
        .timeout(config.request_timeout)
        .build()
        .map_err(|e| DemoError::Target(format!("{}: {e}", config.target)))?;
    let mut rng = match config.seed {
        Some(seed) => StdRng::seed_from_u64(seed),
        None => StdRng::from_os_rng(),
    };
    let mut counts: BTreeMap<Key, u64> = BTreeMap::new();
    let mut errors = 0;
    let mut rounds = 0;
    tokio::pin!(shutdown);
    'rounds: while config.rounds.is_none_or(|n| rounds < n) {
        let started = Instant::now();
        let mut in_flight = JoinSet::new();
        for _ in 0..config.clients {
            let (method, path) = TEST_ENDPOINTS[rng.random_range(0..TEST_ENDPOINTS.len())];
            let url = base
                .join(path)
                .map_err(|_| DemoError::Target(config.target.clone()))?;
            let request = client.request(method.parse().unwrap_or_default(), url);
            in_flight.spawn(async move {
                (
                    method,
                    path,
                    request.send().await.map(|r| r.status().as_u16()),
                )
            });
        }
        let mut report = RoundReport {
            round: rounds + 1,
            statuses: BTreeMap::new(),
            errors: 0,
            elapsed: Duration::ZERO,
        };
        loop {
            tokio::select! {
                done = in_flight.join_next() => match done {
                    Some(Ok((method, path, Ok(status)))) => {
                        *counts.entry((method, path, status)).or_default() += 1;
                        *report.statuses.entry(status).or_default() += 1;
                    }
                    Some(Ok((method, path, Err(error)))) => {
                        tracing::debug!(%method, %path, %error, "request failed");
                        report.errors += 1;
                    }
                    Some(Err(_)) => report.errors += 1,
                    None => break,
                },
                () = &mut shutdown => break 'rounds,
            }
        }
        errors += report.errors;
        rounds += 1;
        report.elapsed = started.elapsed();
        on_round(&report);
        if config.rounds.is_some_and(|n| rounds >= n) {
            break;
        }
        tokio::select! {
            () = tokio::time::sleep(config.interval) => {}
            () = &mut shutdown => break,
        }
    }
    let by_endpoint: Vec<EndpointCount> = counts
        .into_iter()
        .map(|((method, path, status), count)| EndpointCount {
            method: method.into(),
            path: path.into(),
            status,
            count,
        })
        .collect();
    Ok(Summary {
        rounds,
        requests: by_endpoint.iter().map(|e| e.count).sum(),
        errors,
        by_endpoint,
    })
}

/// What each finished round is shown to (the subcommand prints it, `up`
/// logs it).
pub type OnRound = std::sync::Arc<dyn Fn(&RoundReport) + Send + Sync>;

/// What the generator as a component starts from.
#[derive(Clone)]
pub struct LoadgenStart {
    /// The rounds to send.
    pub config: LoadgenConfig,
    /// Sees each finished round.
    pub on_round: OnRound,
}

/// The traffic generator as a component: a task sending rounds until it
/// did its rounds (then its fault trips as "finished") or is shut down;
/// the shutdown returns the [`Summary`].
pub struct Loadgen(lifecycle::Worker<Result<Summary, DemoError>>);

impl lifecycle::Component for Loadgen {
    type Config = LoadgenStart;
    type Report = Summary;
    type Error = DemoError;

    async fn start(start: LoadgenStart) -> Result<Self, DemoError> {
        // A bad target is a start error, not a task's.
        reqwest::Url::parse(&start.config.target)
            .ok()
            .filter(|u| u.scheme() == "http" && u.host().is_some())
            .ok_or_else(|| DemoError::Target(start.config.target.clone()))?;
        Ok(Loadgen(lifecycle::Worker::start(
            "the traffic generator",
            "rounds",
            |stop| async move {
                let on_round = start.on_round;
                run(&start.config, stop.cancelled_owned(), |r| on_round(r)).await
            },
        )))
    }

    /// Nothing to re-read: the generator has no config file.
    async fn reload(&self) -> Result<(), DemoError> {
        Ok(())
    }

    fn fault(&self) -> &lifecycle::Fault {
        self.0.fault()
    }

    async fn shutdown(self) -> Result<Summary, DemoError> {
        self.0.stop().await?
    }
}
