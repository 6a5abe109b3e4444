//! Datasources: what a panel query goes to. Provisioned from files (see
//! [`crate::provisioning`]); read by the proxy, `/api/ds/query` and the
//! API's listings through a [`Datasources`] snapshot.

use std::collections::BTreeMap;

use serde::Serialize;

/// One datasource as Grafana models it (organisation 1 only).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Datasource {
    /// Grafana's numeric id, stable for a given uid within one run.
    pub id: i64,
    pub uid: String,
    pub name: String,
    /// `prometheus`, `loki`, or any other type (listed, not queried).
    #[serde(rename = "type")]
    pub kind: String,
    /// `proxy` (server) or `direct` (browser; served as proxy here).
    pub access: String,
    pub url: String,
    pub is_default: bool,
    pub basic_auth: bool,
    pub basic_auth_user: String,
    pub with_credentials: bool,
    /// Free-form settings, e.g. `timeInterval` (the minimum `$__interval`),
    /// `httpMethod`, `maxLines`, `httpHeaderName1`.
    pub json_data: serde_json::Map<String, serde_json::Value>,
    /// Secrets (`basicAuthPassword`, `httpHeaderValue1`, ...): used by the
    /// proxy, never serialized back to a client.
    #[serde(skip)]
    pub secure_json_data: BTreeMap<String, String>,
    pub read_only: bool,
    pub version: i64,
}

impl Datasource {
    /// The `{type, uid}` reference dashboards use.
    pub fn reference(&self) -> serde_json::Value {
        serde_json::json!({ "type": self.kind, "uid": self.uid })
    }
}

/// The datasources of one moment: provisioning replaces the whole snapshot
/// when it re-reads its files.
#[derive(Debug, Clone, Default)]
pub struct Datasources {
    list: Vec<Datasource>,
}

impl Datasources {
    /// A snapshot of `list`, in the given order.
    pub fn new(list: Vec<Datasource>) -> Datasources {
        Datasources { list }
    }

    pub fn all(&self) -> &[Datasource] {
        &self.list
    }

    pub fn by_uid(&self, uid: &str) -> Option<&Datasource> {
        self.list.iter().find(|d| d.uid == uid)
    }

    pub fn by_name(&self, name: &str) -> Option<&Datasource> {
        self.list.iter().find(|d| d.name == name)
    }

    /// The default datasource: the one marked `isDefault`, else the first.
    pub fn default_source(&self) -> Option<&Datasource> {
        self.list
            .iter()
            .find(|d| d.is_default)
            .or_else(|| self.list.first())
    }
}
