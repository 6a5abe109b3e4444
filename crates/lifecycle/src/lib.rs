//! The one lifecycle every vigil component implements, so that `vigil up`
//! and each component's own subcommand drive it the same way.
//!
//! A [`Component`] is built from its own config struct by
//! [`Component::start`], which binds its listeners and returns once the
//! component is ready; [`Component::reload`] re-reads its config file (an
//! error keeps the old config in force); [`Component::shutdown`] drains it:
//! stop accepting, let work in flight finish, flush and sync what it
//! stores, and report a task that panicked as an error.
//!
//! While a component runs, its background tasks are spawned through
//! [`spawn`], tied to the component's [`Fault`]: a task that panics (or
//! fails) trips the fault at once, so the supervisor (the `vigil` binary)
//! learns of it without waiting for the shutdown, stops everything and
//! exits non-zero. Blocking work (replaying a log, reading files) goes
//! through [`blocking`], which turns a panic on the blocking thread into an
//! error rather than losing it.
//!
//! This crate must stay tiny: it knows no component, no config format and
//! no HTTP, and every component crate may depend on it.
//!
//! ```
//! # async fn demo() -> Result<(), lifecycle::TaskError> {
//! let fault = lifecycle::Fault::new("the example");
//! let task = lifecycle::spawn(&fault, "worker", async { 1 + 1 });
//! assert_eq!(task.join().await?, 2);
//! assert!(!fault.is_tripped());
//! # Ok(()) }
//! ```

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

pub use tokio_util::sync::CancellationToken;

/// The contract of a vigil component (demo API, generators, agent, log
/// store, metrics server, dashboards).
pub trait Component: Sized + Send + Sync + 'static {
    /// What the component is built from: its own config struct (the
    /// subcommand's flags and the config file's path).
    type Config: Send + 'static;
    /// What a finished component hands back (a generator's summary; `()`
    /// for servers).
    type Report: std::fmt::Debug + Send + 'static;
    /// The component's error type.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Builds and starts the component; returns once it is ready (its
    /// listeners bound, its storage replayed). Nothing is left running
    /// when it fails.
    fn start(config: Self::Config) -> impl Future<Output = Result<Self, Self::Error>> + Send;

    /// Re-reads the component's config; on error the previous one stays
    /// in force. Components without a config file do nothing.
    fn reload(&self) -> impl Future<Output = Result<(), Self::Error>> + Send;

    /// Tripped when one of the component's tasks failed or panicked, or
    /// when the component finished on its own (a generator that did its
    /// rounds): either way, time to shut down.
    fn fault(&self) -> &Fault;

    /// Drains the component: stop accepting, finish what is in flight,
    /// flush and sync. A task that panicked is reported as the error.
    fn shutdown(self) -> impl Future<Output = Result<Self::Report, Self::Error>> + Send;
}

/// A task of a component that panicked, failed, or was cancelled.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TaskError {
    /// The task panicked.
    #[error("{component}: task {task} panicked: {message}")]
    Panicked {
        /// The component.
        component: &'static str,
        /// The task.
        task: &'static str,
        /// The panic's message.
        message: String,
    },
    /// The task was cancelled before it finished (the runtime stopped).
    #[error("{component}: task {task} was cancelled")]
    Cancelled {
        /// The component.
        component: &'static str,
        /// The task.
        task: &'static str,
    },
}

/// A component's alarm: tripped by the first of its tasks that panics,
/// or by the component itself when it ends on its own. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Fault {
    component: &'static str,
    token: CancellationToken,
    first: Arc<Mutex<Option<TaskError>>>,
}

impl Fault {
    /// An untripped fault for `component` (named as a user reads it: "the
    /// log store").
    pub fn new(component: &'static str) -> Fault {
        Fault {
            component,
            token: CancellationToken::new(),
            first: Arc::default(),
        }
    }

    /// The component's name.
    pub fn component(&self) -> &'static str {
        self.component
    }

    /// Records `error` (the first one is kept) and trips the fault.
    pub fn report(&self, error: TaskError) {
        tracing::error!("{error}");
        self.first
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_or_insert(error);
        self.token.cancel();
    }

    /// Trips the fault without an error: the component finished its work.
    pub fn finish(&self) {
        self.token.cancel();
    }

    /// Passes this fault's error on to `to` when it trips, until `until`
    /// is cancelled: how a part's fault (a client of the agent) reaches
    /// its component's.
    pub fn forward(&self, to: &Fault, until: CancellationToken) {
        let (from, to) = (self.clone(), to.clone());
        tokio::spawn(async move {
            tokio::select! {
                () = from.tripped() => {
                    if let Some(error) = from.error() {
                        to.report(error);
                    }
                }
                () = until.cancelled() => {}
            }
        });
    }

    /// Whether the fault was tripped.
    pub fn is_tripped(&self) -> bool {
        self.token.is_cancelled()
    }

    /// Resolves once the fault is tripped.
    pub async fn tripped(&self) {
        self.token.cancelled().await;
    }

    /// The first task error reported, if any.
    pub fn error(&self) -> Option<TaskError> {
        self.first
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// `Err` with the first task error reported, if any: what a shutdown
    /// returns after it has drained everything else.
    pub fn check(&self) -> Result<(), TaskError> {
        self.error().map_or(Ok(()), Err)
    }
}

/// A task spawned with [`spawn`]; join it at shutdown.
#[derive(Debug)]
pub struct Task<T> {
    handle: tokio::task::JoinHandle<Result<T, TaskError>>,
    inner: tokio::task::AbortHandle,
    component: &'static str,
    name: &'static str,
}

impl<T> Task<T> {
    /// Waits for the task's end; a panic is the error (and was reported
    /// to the fault when it happened).
    pub async fn join(mut self) -> Result<T, TaskError> {
        self.join_ref().await
    }

    /// [`Task::join`] without giving the task up, for a `select!` against
    /// a grace period; not to be called again once it returned.
    pub async fn join_ref(&mut self) -> Result<T, TaskError> {
        match (&mut self.handle).await {
            Ok(result) => result,
            // The watcher itself never panics; it was cancelled with the
            // runtime.
            Err(_) => Err(TaskError::Cancelled {
                component: self.component,
                task: self.name,
            }),
        }
    }

    /// Cuts the task short (a grace period ran out); its join then
    /// reports it cancelled, and the fault is not tripped.
    pub fn abort(&self) {
        self.inner.abort();
    }

    /// Whether the task has ended.
    pub fn is_finished(&self) -> bool {
        self.handle.is_finished()
    }
}

/// Spawns `future` as task `name` of the component whose fault is
/// `fault`. If it panics, the fault is tripped at once with the panic's
/// message, and [`Task::join`] returns the error.
pub fn spawn<F>(fault: &Fault, name: &'static str, future: F) -> Task<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    spawn_on(&tokio::runtime::Handle::current(), fault, name, future)
}

/// [`spawn`] on `runtime`, for code that starts tasks from a plain thread.
pub fn spawn_on<F>(
    runtime: &tokio::runtime::Handle,
    fault: &Fault,
    name: &'static str,
    future: F,
) -> Task<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let inner = runtime.spawn(future);
    let abort = inner.abort_handle();
    let fault_for_task = fault.clone();
    let component = fault.component;
    let handle = runtime.spawn(async move {
        match inner.await {
            Ok(value) => Ok(value),
            // Aborted on purpose by its owner: not a fault.
            Err(e) if e.is_cancelled() => Err(TaskError::Cancelled {
                component,
                task: name,
            }),
            Err(e) => {
                let error = join_error(component, name, e);
                fault_for_task.report(error.clone());
                Err(error)
            }
        }
    });
    Task {
        handle,
        inner: abort,
        component,
        name,
    }
}

/// A component that is one task working until it is stopped or done
/// (the traffic and log generators): when the work ends on its own, the
/// fault trips as "finished", so the supervisor stops the rest.
#[derive(Debug)]
pub struct Worker<T> {
    stop: CancellationToken,
    task: Task<T>,
    fault: Fault,
}

impl<T: Send + 'static> Worker<T> {
    /// Spawns `work`, given the token that asks it to stop, as task
    /// `task` of `component`.
    pub fn start<F>(
        component: &'static str,
        task: &'static str,
        work: impl FnOnce(CancellationToken) -> F,
    ) -> Worker<T>
    where
        F: Future<Output = T> + Send + 'static,
    {
        let stop = CancellationToken::new();
        let fault = Fault::new(component);
        let work = work(stop.clone());
        let done = fault.clone();
        let task = spawn(&fault, task, async move {
            let out = work.await;
            done.finish();
            out
        });
        Worker { stop, task, fault }
    }

    /// The worker's fault.
    pub fn fault(&self) -> &Fault {
        &self.fault
    }

    /// Asks the work to stop and waits for what it returns.
    pub async fn stop(self) -> Result<T, TaskError> {
        self.stop.cancel();
        self.task.join().await
    }
}

/// Runs blocking `work` (file reads, log replay, fsync) on a blocking
/// thread; a panic there becomes an error instead of being lost.
pub async fn blocking<T, W>(
    component: &'static str,
    name: &'static str,
    work: W,
) -> Result<T, TaskError>
where
    T: Send + 'static,
    W: FnOnce() -> T + Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| join_error(component, name, e))
}

fn join_error(component: &'static str, task: &'static str, e: tokio::task::JoinError) -> TaskError {
    if e.is_panic() {
        let payload = e.into_panic();
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(a panic without a message)".to_owned());
        TaskError::Panicked {
            component,
            task,
            message,
        }
    } else {
        TaskError::Cancelled { component, task }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_task_trips_the_fault_with_its_message() {
        let fault = Fault::new("the test");
        let task = spawn(&fault, "boom", async { panic!("kaboom") });
        fault.tripped().await;
        let error = task.join().await.unwrap_err();
        assert_eq!(error.to_string(), "the test: task boom panicked: kaboom");
        assert_eq!(fault.check().unwrap_err().to_string(), error.to_string());
    }

    #[tokio::test]
    async fn a_task_that_ends_well_leaves_the_fault_untripped() {
        let fault = Fault::new("the test");
        assert_eq!(spawn(&fault, "ok", async { 7 }).join().await.unwrap(), 7);
        assert!(!fault.is_tripped());
        assert!(fault.check().is_ok());
    }

    #[tokio::test]
    async fn a_blocking_panic_is_an_error() {
        let error = blocking("the test", "replay", || -> u8 { panic!("torn") })
            .await
            .unwrap_err();
        assert!(matches!(error, TaskError::Panicked { ref message, .. } if message == "torn"));
    }

    #[tokio::test]
    async fn a_worker_that_is_done_trips_its_fault_and_returns_its_output() {
        let worker = Worker::start("the test", "count", |_stop| async { 3 });
        worker.fault().tripped().await;
        assert!(worker.fault().check().is_ok());
        assert_eq!(worker.stop().await.unwrap(), 3);
    }

    #[tokio::test]
    async fn a_worker_stops_when_asked() {
        let worker = Worker::start("the test", "wait", |stop| async move {
            stop.cancelled().await;
            "stopped"
        });
        assert_eq!(worker.stop().await.unwrap(), "stopped");
    }

    #[tokio::test]
    async fn a_forwarded_fault_reaches_the_component() {
        let (part, component) = (Fault::new("the part"), Fault::new("the component"));
        part.forward(&component, CancellationToken::new());
        let _task = spawn(&part, "push", async { panic!("lost") });
        component.tripped().await;
        assert!(component.check().unwrap_err().to_string().contains("lost"));
    }

    #[tokio::test]
    async fn finishing_trips_without_an_error() {
        let fault = Fault::new("the test");
        fault.finish();
        fault.tripped().await;
        assert!(fault.check().is_ok());
    }
}
