//! Runs components through their one lifecycle ([`lifecycle::Component`]),
//! the same way for a subcommand (one component) and for `up` (all of
//! them): start each in order (a failure drains the ones already started),
//! reload all on SIGHUP, and on Ctrl-C, SIGTERM or a component's fault
//! drain all in reverse order. A task that panicked makes the run fail, so
//! the process exits non-zero.

use std::any::Any;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;

use lifecycle::{CancellationToken, Component};

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// How a component is named to the user, and which flag moves it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Part {
    /// What runs it: `vigil up`, `vigil loki`.
    pub(crate) command: &'static str,
    /// "the log store".
    pub(crate) name: &'static str,
    /// Where it was asked to listen, and the flag that changes it.
    pub(crate) listen: Option<(SocketAddr, &'static str)>,
}

/// A started component, its type erased so that `up` holds them in one
/// list.
trait Running: Send + Sync {
    fn reload(&self) -> BoxFuture<'_, anyhow::Result<()>>;
    fn shutdown(self: Box<Self>) -> BoxFuture<'static, anyhow::Result<Box<dyn Any + Send>>>;
}

struct Started<C>(C);

impl<C: Component> Running for Started<C> {
    fn reload(&self) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async move { Ok(self.0.reload().await?) })
    }

    fn shutdown(self: Box<Self>) -> BoxFuture<'static, anyhow::Result<Box<dyn Any + Send>>> {
        Box::pin(async move {
            let fault = self.0.fault().clone();
            let report = self.0.shutdown().await?;
            // A panic the component's own shutdown did not see (a task it
            // does not join) still fails the run.
            fault.check()?;
            Ok(Box::new(report) as Box<dyn Any + Send>)
        })
    }
}

/// The components started so far, in start order.
pub(crate) struct Supervisor {
    command: &'static str,
    parts: Vec<(Part, Box<dyn Running>)>,
    /// Cancelled when any component's fault trips.
    any_fault: CancellationToken,
    /// SIGHUP, caught from the moment the supervisor exists: a signal
    /// arriving between the first component's start and [`Self::run_until`]
    /// is a reload, not the default action (which ends the process).
    hangup: tokio::signal::unix::Signal,
}

impl Supervisor {
    pub(crate) fn new(command: &'static str) -> anyhow::Result<Supervisor> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Supervisor {
            command,
            parts: Vec::new(),
            any_fault: CancellationToken::new(),
            hangup: signal(SignalKind::hangup())?,
        })
    }

    /// Starts `C` from `config` and keeps it; `inspect` sees it once it is
    /// ready (for its address, registries, storage). If it does not
    /// start, every component started before it is drained and the error
    /// names the component (and, for a taken port, the flag to change).
    pub(crate) async fn start<C: Component, T>(
        &mut self,
        part: Part,
        config: C::Config,
        inspect: impl FnOnce(&C) -> T,
    ) -> anyhow::Result<T> {
        match C::start(config).await {
            Ok(component) => {
                let seen = inspect(&component);
                let fault = component.fault().clone();
                let any = self.any_fault.clone();
                tokio::spawn(async move {
                    tokio::select! {
                        () = fault.tripped() => any.cancel(),
                        () = any.cancelled() => {}
                    }
                });
                self.parts.push((part, Box::new(Started(component))));
                Ok(seen)
            }
            Err(e) => {
                let error = start_error(&part, &anyhow::Error::new(e));
                // Nothing half-started stays behind.
                if let Err(drained) = self.drain().await {
                    tracing::error!("while stopping after a failed start: {drained:#}");
                }
                Err(error)
            }
        }
    }

    /// Runs until `stop` (Ctrl-C, SIGTERM) or a fault, reloading every
    /// component on SIGHUP; then drains everything. Errors of the drain
    /// (a task that panicked) make the result an error.
    pub(crate) async fn run_until(
        mut self,
        stop: CancellationToken,
    ) -> anyhow::Result<Vec<Box<dyn Any + Send>>> {
        loop {
            tokio::select! {
                _ = self.hangup.recv() => self.reload().await,
                () = stop.cancelled() => break,
                () = self.any_fault.cancelled() => break,
            }
        }
        self.shutdown().await
    }

    /// Reloads every component; one that fails keeps its previous config
    /// and the others still reload.
    pub(crate) async fn reload(&self) {
        for (part, running) in &self.parts {
            match running.reload().await {
                Ok(()) => tracing::info!("{}: reloaded", part.name),
                Err(e) => tracing::error!(
                    "{}: reload failed, keeping the previous config: {e:#}",
                    part.name
                ),
            }
        }
    }

    /// Drains every component in reverse start order, all of them
    /// whatever the others report, and returns their reports in start
    /// order, or the first error.
    pub(crate) async fn shutdown(mut self) -> anyhow::Result<Vec<Box<dyn Any + Send>>> {
        self.drain().await
    }

    async fn drain(&mut self) -> anyhow::Result<Vec<Box<dyn Any + Send>>> {
        self.any_fault.cancel();
        let mut reports = Vec::new();
        let mut first_error: Option<anyhow::Error> = None;
        while let Some((part, running)) = self.parts.pop() {
            match running.shutdown().await {
                Ok(report) => reports.push(report),
                Err(e) => {
                    let e = e.context(format!("{} failed", part.name));
                    tracing::error!("{e:#}");
                    first_error.get_or_insert(e);
                }
            }
        }
        reports.reverse();
        match first_error {
            Some(e) => Err(e.context(format!("{} stopped on an error", self.command))),
            None => Ok(reports),
        }
    }
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        self.any_fault.cancel();
    }
}

/// Runs one component the way its subcommand does: started, reloaded on
/// SIGHUP, drained on Ctrl-C, SIGTERM or its own end; returns its report.
pub(crate) async fn run_alone<C: Component>(
    part: Part,
    config: C::Config,
    inspect: impl FnOnce(&C),
) -> anyhow::Result<C::Report> {
    let stop = crate::shutdown_on_signal()?;
    let mut supervisor = Supervisor::new(part.command)?;
    supervisor.start::<C, ()>(part, config, inspect).await?;
    let mut reports = supervisor.run_until(stop).await?;
    let report = reports
        .pop()
        .and_then(|r| r.downcast::<C::Report>().ok())
        .ok_or_else(|| anyhow::anyhow!("{}: no report", part.name))?;
    Ok(*report)
}

/// The error of a component that did not start: a taken port is named
/// with the component and the flag that moves it.
fn start_error(part: &Part, error: &anyhow::Error) -> anyhow::Error {
    let in_use = error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::AddrInUse)
    });
    match part.listen {
        Some((addr, flag)) if in_use => anyhow::anyhow!(
            "{}: {} cannot listen on {addr} (address in use); pick another with {flag}",
            part.command,
            part.name
        ),
        _ => anyhow::anyhow!("{}: {} did not start: {error:#}", part.command, part.name),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use lifecycle::Fault;

    use super::*;

    /// The ids of the fakes in the order they were shut down.
    type Stopped = Arc<Mutex<Vec<usize>>>;

    /// A component whose one task panics when asked to, recording its
    /// shutdown.
    struct Fake {
        id: usize,
        fault: Fault,
        task: lifecycle::Task<()>,
        stopped: Stopped,
    }

    #[derive(Debug)]
    struct FakeError;

    impl std::fmt::Display for FakeError {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("fake")
        }
    }

    impl std::error::Error for FakeError {}

    struct FakeConfig {
        id: usize,
        panics: bool,
        fails_to_start: bool,
        stopped: Stopped,
    }

    impl Component for Fake {
        type Config = FakeConfig;
        type Report = ();
        type Error = FakeError;

        async fn start(config: FakeConfig) -> Result<Self, FakeError> {
            if config.fails_to_start {
                return Err(FakeError);
            }
            let fault = Fault::new("the fake");
            let panics = config.panics;
            let task = lifecycle::spawn(&fault, "work", async move {
                if panics {
                    panic!("fake task gave up");
                }
                std::future::pending::<()>().await;
            });
            Ok(Fake {
                id: config.id,
                fault,
                task,
                stopped: config.stopped,
            })
        }

        async fn reload(&self) -> Result<(), FakeError> {
            Ok(())
        }

        fn fault(&self) -> &Fault {
            &self.fault
        }

        async fn shutdown(self) -> Result<(), FakeError> {
            self.task.abort();
            self.stopped.lock().unwrap().push(self.id);
            Ok(())
        }
    }

    /// Starts fake `id` under `supervisor`.
    async fn add(
        supervisor: &mut Supervisor,
        id: usize,
        (panics, fails_to_start): (bool, bool),
        stopped: &Stopped,
    ) -> anyhow::Result<()> {
        let part = Part {
            command: "vigil test",
            name: "the fake",
            listen: None,
        };
        let config = FakeConfig {
            id,
            panics,
            fails_to_start,
            stopped: stopped.clone(),
        };
        supervisor.start::<Fake, ()>(part, config, |_| ()).await
    }

    const WORKS: (bool, bool) = (false, false);
    const PANICS: (bool, bool) = (true, false);
    const FAILS_TO_START: (bool, bool) = (false, true);

    #[tokio::test]
    async fn a_panicking_task_stops_every_component_and_fails_the_run() {
        let stopped = Stopped::default();
        let mut supervisor = Supervisor::new("vigil test").unwrap();
        add(&mut supervisor, 1, WORKS, &stopped).await.unwrap();
        add(&mut supervisor, 2, PANICS, &stopped).await.unwrap();
        // Never cancelled: only the fault ends the run.
        let error = supervisor
            .run_until(CancellationToken::new())
            .await
            .unwrap_err();
        assert!(
            format!("{error:#}").contains("fake task gave up"),
            "{error:#}"
        );
        assert_eq!(*stopped.lock().unwrap(), [2, 1]);
    }

    #[tokio::test]
    async fn a_failed_start_drains_what_was_started() {
        let stopped = Stopped::default();
        let mut supervisor = Supervisor::new("vigil test").unwrap();
        add(&mut supervisor, 1, WORKS, &stopped).await.unwrap();
        add(&mut supervisor, 2, WORKS, &stopped).await.unwrap();
        let error = add(&mut supervisor, 3, FAILS_TO_START, &stopped)
            .await
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "vigil test: the fake did not start: fake"
        );
        assert_eq!(*stopped.lock().unwrap(), [2, 1]);
    }

    #[tokio::test]
    async fn a_stop_drains_every_component_in_reverse_order() {
        let stopped = Stopped::default();
        let mut supervisor = Supervisor::new("vigil test").unwrap();
        for id in 1..=3 {
            add(&mut supervisor, id, WORKS, &stopped).await.unwrap();
        }
        let stop = CancellationToken::new();
        stop.cancel();
        let reports = supervisor.run_until(stop).await.unwrap();
        assert_eq!(reports.len(), 3);
        assert_eq!(*stopped.lock().unwrap(), [3, 2, 1]);
    }

    #[test]
    fn a_taken_port_names_the_component_and_the_flag() {
        let part = Part {
            command: "vigil up",
            name: "the log store",
            listen: Some(("127.0.0.1:3100".parse().unwrap(), "--loki-listen")),
        };
        let taken = anyhow::Error::new(std::io::Error::from(std::io::ErrorKind::AddrInUse))
            .context("listening on 127.0.0.1:3100");
        assert_eq!(
            start_error(&part, &taken).to_string(),
            "vigil up: the log store cannot listen on 127.0.0.1:3100 (address in use); pick another with --loki-listen"
        );
    }
}
