//! Datasources and settings: `/api/datasources` (list, by uid, name, id),
//! `/api/frontend/settings`, `/api/health`. Secrets (`secureJsonData`)
//! never leave the server: only which of them are set
//! (`secureJsonFields`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{ApiError, COMMIT, VERSION};
use crate::datasource::Datasource;
use crate::provisioning::Provisioned;
use crate::server::AppState;

const NOT_FOUND: ApiError = ApiError::NotFound("Data source not found");

/// Grafana's display name and logo of a datasource type it knows.
fn type_info(kind: &str) -> (String, String) {
    match kind {
        "prometheus" => (
            "Prometheus".to_owned(),
            "public/app/plugins/datasource/prometheus/img/prometheus_logo.svg".to_owned(),
        ),
        "loki" => (
            "Loki".to_owned(),
            "public/app/plugins/datasource/loki/img/loki_icon.svg".to_owned(),
        ),
        other => (other.to_owned(), String::new()),
    }
}

/// A datasource as Grafana lists it (`GET /api/datasources`).
fn summary(ds: &Datasource, provisioned: &Provisioned) -> Value {
    let legacy = provisioned.legacy.get(&ds.uid).cloned().unwrap_or_default();
    let (type_name, logo) = type_info(&ds.kind);
    json!({
        "id": ds.id,
        "uid": ds.uid,
        "orgId": 1,
        "name": ds.name,
        "type": ds.kind,
        "typeName": type_name,
        "typeLogoUrl": logo,
        "access": ds.access,
        "url": ds.url,
        "user": legacy.user,
        "database": legacy.database,
        "basicAuth": ds.basic_auth,
        "isDefault": ds.is_default,
        "jsonData": ds.json_data,
        "readOnly": ds.read_only,
    })
}

/// A datasource as Grafana answers it alone (`/api/datasources/uid/<uid>`).
fn detail(ds: &Datasource, provisioned: &Provisioned) -> Value {
    let legacy = provisioned.legacy.get(&ds.uid).cloned().unwrap_or_default();
    let (_, logo) = type_info(&ds.kind);
    let secure_fields: serde_json::Map<String, Value> = ds
        .secure_json_data
        .keys()
        .map(|k| (k.clone(), Value::Bool(true)))
        .collect();
    json!({
        "id": ds.id,
        "uid": ds.uid,
        "orgId": 1,
        "name": ds.name,
        "type": ds.kind,
        "typeLogoUrl": logo,
        "access": ds.access,
        "url": ds.url,
        "user": legacy.user,
        "database": legacy.database,
        "basicAuth": ds.basic_auth,
        "basicAuthUser": ds.basic_auth_user,
        "withCredentials": ds.with_credentials,
        "isDefault": ds.is_default,
        "jsonData": ds.json_data,
        "secureJsonFields": secure_fields,
        "version": ds.version,
        "readOnly": ds.read_only,
        "apiVersion": "",
    })
}

/// `GET /api/datasources`: every datasource, by name.
pub(super) async fn list(State(state): State<AppState>) -> Json<Vec<Value>> {
    let provisioned = state.provisioned();
    let mut all: Vec<&Datasource> = provisioned.datasources.all().iter().collect();
    all.sort_by_key(|d| d.name.to_lowercase());
    Json(all.iter().map(|d| summary(d, &provisioned)).collect())
}

/// `GET /api/datasources/uid/<uid>`.
pub(super) async fn by_uid(
    State(state): State<AppState>,
    Path(uid): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let provisioned = state.provisioned();
    let ds = provisioned.datasources.by_uid(&uid).ok_or(NOT_FOUND)?;
    Ok(Json(detail(ds, &provisioned)))
}

/// `GET /api/datasources/name/<name>`.
pub(super) async fn by_name(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let provisioned = state.provisioned();
    let ds = provisioned.datasources.by_name(&name).ok_or(NOT_FOUND)?;
    Ok(Json(detail(ds, &provisioned)))
}

/// `GET /api/datasources/<id>` (Grafana's deprecated numeric form).
pub(super) async fn by_id(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let provisioned = state.provisioned();
    let id: i64 = id.parse().map_err(|_| NOT_FOUND)?;
    let ds = provisioned
        .datasources
        .all()
        .iter()
        .find(|d| d.id == id)
        .ok_or(NOT_FOUND)?;
    Ok(Json(detail(ds, &provisioned)))
}

/// `GET /api/frontend/settings`: what the UI needs before it draws:
/// the datasources by name (with the proxy URL the UI queries them
/// through), the default one, the build, whether anonymous access is on.
pub(super) async fn frontend_settings(State(state): State<AppState>) -> Json<Value> {
    let provisioned = state.provisioned();
    let mut datasources = serde_json::Map::new();
    for ds in provisioned.datasources.all() {
        let (type_name, _) = type_info(&ds.kind);
        datasources.insert(
            ds.name.clone(),
            json!({
                "id": ds.id,
                "uid": ds.uid,
                "name": ds.name,
                "type": ds.kind,
                "meta": { "id": ds.kind, "name": type_name, "type": "datasource" },
                "isDefault": ds.is_default,
                "access": "proxy",
                "url": format!("/api/datasources/proxy/uid/{}", ds.uid),
                "jsonData": ds.json_data,
                "readOnly": ds.read_only,
            }),
        );
    }
    let default = provisioned
        .datasources
        .default_source()
        .map(|d| d.name.clone());
    Json(json!({
        "datasources": datasources,
        "defaultDatasource": default,
        "buildInfo": {
            "version": VERSION,
            "commit": COMMIT,
            "edition": "vigil",
            "env": "production",
        },
        "anonymousEnabled": state.options.security.anonymous_enabled,
        "appUrl": format!("http://{}/", state.options.http_addr),
        "appSubUrl": "",
        "defaultDatasourceUid": provisioned.datasources.default_source().map(|d| d.uid.clone()),
    }))
}

/// `GET /api/health`: Grafana's `{"commit","database","version"}`; 503
/// with `"database": "failing"` when the state database does not answer.
pub(super) async fn health(State(state): State<AppState>) -> Response {
    let ok = state
        .store
        .call(|c| Ok(c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))?))
        .await
        .is_ok();
    let body = json!({
        "commit": COMMIT,
        "database": if ok { "ok" } else { "failing" },
        "version": VERSION,
    });
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}
