//! The dashboards server as one component with vigil's lifecycle:
//! [`Dashboards::start`] (state opened, provisioning read, listening),
//! [`Dashboards::reload`] (provisioning re-read), [`Dashboards::shutdown`]
//! (stop accepting, finish requests in flight, close the database).
//!
//! Beside the server task runs the rescan task: it re-reads each dashboard
//! provider's files every `updateIntervalSeconds` and replaces the
//! [`Provisioned`] snapshot, so an open dashboard sees its file change.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use axum::Router;
use tokio_util::sync::CancellationToken;

use crate::auth::{Auth, SecurityOptions};
use crate::provisioning::{
    DEFAULT_UPDATE_INTERVAL, Ids, Provisioned, Provisioner, ProvisioningError,
};
use crate::store::{Store, StoreError};

/// What `vigil grafana` and `vigil up` start the server with.
#[derive(Debug, Clone)]
pub struct DashboardOptions {
    /// Where to listen (`--http-addr`, default 127.0.0.1:3000).
    pub http_addr: SocketAddr,
    /// Where state lives (`--data`, default `data/grafana`).
    pub data_dir: PathBuf,
    /// Grafana's provisioning folder (`--provisioning`): `datasources/*.yml`
    /// and `dashboards/*.yml`.
    pub provisioning_dir: Option<PathBuf>,
    /// Logins and access (`GF_SECURITY_*`, `GF_AUTH_ANONYMOUS_*`).
    pub security: SecurityOptions,
}

/// Why the server could not start or reload.
#[derive(Debug, thiserror::Error)]
pub enum DashboardError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Provisioning(#[from] ProvisioningError),
    #[error("dashboards: {0}")]
    Auth(#[from] crate::auth::AuthError),
    #[error("dashboards: cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("dashboards: the server task failed: {0}")]
    Task(String),
    #[error("dashboards: {0}")]
    Io(#[from] std::io::Error),
}

/// What every request handler shares.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub auth: Auth,
    pub options: Arc<DashboardOptions>,
    provisioned: Arc<RwLock<Arc<Provisioned>>>,
    /// Numeric ids of datasources, dashboards and folders.
    pub ids: Arc<Ids>,
}

impl AppState {
    /// The provisioned datasources and dashboards of this moment.
    pub fn provisioned(&self) -> Arc<Provisioned> {
        self.provisioned
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Replaces what provisioning found (on reload or a file change).
    pub fn set_provisioned(&self, next: Provisioned) {
        *self.provisioned.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(next);
    }
}

/// The running server.
pub struct Dashboards {
    addr: SocketAddr,
    state: AppState,
    stop: CancellationToken,
    task: Option<lifecycle::Task<std::io::Result<()>>>,
    provisioner: Arc<Provisioner>,
    rescans: Option<lifecycle::Task<()>>,
    fault: lifecycle::Fault,
}

/// The dashboards' name in messages.
const NAME: &str = "the dashboards";

impl Dashboards {
    /// Opens the state database, reads provisioning, binds and serves.
    pub async fn start(options: DashboardOptions) -> Result<Dashboards, DashboardError> {
        let data_dir = options.data_dir.clone();
        let store = tokio::task::spawn_blocking(move || Store::open(&data_dir))
            .await
            .map_err(|e| DashboardError::Task(e.to_string()))??;
        let auth = Auth::start(&store, &options.security).await?;
        let ids = Arc::new(Ids::default());
        let provisioner = Arc::new(Provisioner::new(
            options.provisioning_dir.clone(),
            crate::provisioning::values::process_env(),
            ids.clone(),
        ));
        let provisioned = load(&provisioner).await?;
        let state = AppState {
            store,
            auth,
            options: Arc::new(options.clone()),
            provisioned: Arc::new(RwLock::new(Arc::new(provisioned))),
            ids,
        };
        let listener = tokio::net::TcpListener::bind(options.http_addr)
            .await
            .map_err(|source| DashboardError::Bind {
                addr: options.http_addr,
                source,
            })?;
        let addr = listener.local_addr()?;
        let stop = CancellationToken::new();
        let app = router(state.clone());
        let shutdown = stop.clone().cancelled_owned();
        let fault = lifecycle::Fault::new(NAME);
        let task = lifecycle::spawn(&fault, "serve", async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(shutdown)
            .await
        });
        let rescans = lifecycle::spawn(
            &fault,
            "rescan",
            rescan_until(provisioner.clone(), state.clone(), stop.clone()),
        );
        Ok(Dashboards {
            addr,
            state,
            stop,
            task: Some(task),
            provisioner,
            rescans: Some(rescans),
            fault,
        })
    }

    /// Where the server listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The shared state (tests and `up` read it).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Re-reads the provisioning files; on an error the previous ones stay.
    pub async fn reload(&self) -> Result<(), DashboardError> {
        let next = load(&self.provisioner).await?;
        self.state.set_provisioned(next);
        Ok(())
    }

    /// Rescans every dashboard provider's files now, whatever their
    /// intervals (the rescan task does this on its own when they are due).
    pub async fn rescan_now(&self) -> Result<(), DashboardError> {
        let p = self.provisioner.clone();
        let next = tokio::task::spawn_blocking(move || p.rescan(true))
            .await
            .map_err(|e| DashboardError::Task(e.to_string()))?;
        self.state.set_provisioned(next);
        Ok(())
    }

    /// Stops accepting, lets requests in flight finish, and reports a
    /// panic or error of the serving task.
    pub async fn shutdown(mut self) -> Result<(), DashboardError> {
        self.stop.cancel();
        let rescans = match self.rescans.take() {
            Some(task) => task
                .join()
                .await
                .map_err(|e| DashboardError::Task(e.to_string())),
            None => Ok(()),
        };
        let served = match self.task.take() {
            Some(task) => match task.join().await {
                Ok(result) => result.map_err(DashboardError::Io),
                Err(e) => Err(DashboardError::Task(e.to_string())),
            },
            None => Ok(()),
        };
        served.and(rescans)
    }
}

impl lifecycle::Component for Dashboards {
    type Config = DashboardOptions;
    type Report = ();
    type Error = DashboardError;

    async fn start(options: DashboardOptions) -> Result<Self, DashboardError> {
        Dashboards::start(options).await
    }

    async fn reload(&self) -> Result<(), DashboardError> {
        Dashboards::reload(self).await
    }

    fn fault(&self) -> &lifecycle::Fault {
        &self.fault
    }

    async fn shutdown(self) -> Result<(), DashboardError> {
        Dashboards::shutdown(self).await
    }
}

/// A full read of the provisioning folder, on a blocking thread.
async fn load(provisioner: &Arc<Provisioner>) -> Result<Provisioned, DashboardError> {
    let provisioner = provisioner.clone();
    Ok(tokio::task::spawn_blocking(move || provisioner.load())
        .await
        .map_err(|e| DashboardError::Task(e.to_string()))??)
}

/// Rescans the dashboard providers as their intervals come due, until
/// `stop`. A rescan that fails (a panic in the reading thread) is logged
/// and the previous snapshot stays; the next one is tried on time.
async fn rescan_until(provisioner: Arc<Provisioner>, state: AppState, stop: CancellationToken) {
    // The provisioner's lock may be held by a reload reading files: it is
    // only ever taken on blocking threads.
    let p = provisioner.clone();
    let mut wait = tokio::task::spawn_blocking(move || p.next_rescan())
        .await
        .unwrap_or(DEFAULT_UPDATE_INTERVAL);
    loop {
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = stop.cancelled() => return,
        }
        let p = provisioner.clone();
        match tokio::task::spawn_blocking(move || (p.rescan(false), p.next_rescan())).await {
            Ok((next, next_wait)) => {
                state.set_provisioned(next);
                wait = next_wait;
            }
            Err(e) => {
                tracing::error!("dashboards: rescanning the provisioned dashboards failed: {e}");
                wait = DEFAULT_UPDATE_INTERVAL;
            }
        }
    }
}

/// Every route: the API, logins, the proxy, queries and the UI.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(crate::api::routes())
        .merge(crate::auth::routes())
        .merge(crate::proxy::routes())
        .merge(crate::query::routes())
        .merge(crate::assets::routes())
        // Every route above needs a user except the few public ones.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::auth::require_user,
        ))
        .with_state(state)
}
