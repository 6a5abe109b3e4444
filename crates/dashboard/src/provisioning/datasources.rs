//! `DIR/datasources/*.yaml|yml`: the datasources, read as Grafana reads
//! them. Files are applied in name order, each one first deleting its
//! `deleteDatasources` then inserting or updating (by name) its
//! `datasources`, so a later file can delete what an earlier one made.
//!
//! Grafana refuses to start on a file it cannot use; vigil logs the
//! problem with its place and goes on without that file (or entry), so
//! one mistake never takes the other datasources down.

use std::collections::BTreeMap;
use std::path::Path;

use gocompat::yaml::{FileError, Location};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::values::{Flag, Int, Json, Text, TextMap};
use super::{IdKind, Ids, MESSAGES, Problems, locate, yaml_files};
use crate::datasource::Datasource;

/// One file of `DIR/datasources`. The keys of Grafana's old format
/// (apiVersion 0, snake_case) are accepted as aliases.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DatasourcesFile {
    #[serde(rename = "apiVersion")]
    #[allow(dead_code)] // Read so that a bad value is reported; both versions read alike.
    api_version: Int,
    datasources: Vec<Entry>,
    #[serde(rename = "deleteDatasources", alias = "delete_datasources")]
    delete_datasources: Vec<DeleteEntry>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Entry {
    name: Text,
    #[serde(rename = "type")]
    kind: Text,
    access: Text,
    #[serde(alias = "org_id")]
    org_id: Int,
    uid: Text,
    url: Text,
    user: Text,
    password: Text,
    database: Text,
    #[serde(alias = "basic_auth")]
    basic_auth: Flag,
    #[serde(alias = "basic_auth_user")]
    basic_auth_user: Text,
    #[serde(alias = "basic_auth_password")]
    basic_auth_password: Text,
    #[serde(alias = "with_credentials")]
    with_credentials: Flag,
    #[serde(alias = "is_default")]
    is_default: Flag,
    #[serde(alias = "json_data")]
    json_data: Json,
    #[serde(alias = "secure_json_data")]
    secure_json_data: TextMap,
    version: Int,
    editable: Flag,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct DeleteEntry {
    name: Text,
    uid: Text,
    #[serde(alias = "org_id")]
    org_id: Int,
}

/// What a datasource has beside [`Datasource`]'s fields: the legacy
/// `user` and `database`, listed by the API as Grafana does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LegacyFields {
    /// `user` of the file.
    pub user: String,
    /// `database` of the file.
    pub database: String,
}

/// The uid Grafana gives a provisioned datasource that has none: `P` and
/// the first 8 bytes of the SHA-256 of its name in upper-case hex (so
/// "Prometheus" is `PBFA97CFB590B2093` in every Grafana and here).
pub fn uid_from_name(name: &str) -> String {
    let digest = Sha256::digest(name.as_bytes());
    let mut uid = String::from("P");
    for byte in &digest[..8] {
        uid.push_str(&format!("{byte:02X}"));
    }
    uid
}

/// Grafana's rule for uids: at most 40 characters of `[A-Za-z0-9_-]`.
pub(crate) fn uid_problem(uid: &str) -> Option<&'static str> {
    if uid.len() > 40 {
        Some("uid too long, max 40 characters")
    } else if !uid
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        Some("uid contains illegal characters")
    } else {
        None
    }
}

/// Reads every datasource file of `dir` (the `datasources` folder).
pub(crate) fn read(
    dir: &Path,
    env: &super::values::Env,
    ids: &Ids,
    problems: &mut Problems,
) -> (Vec<Datasource>, BTreeMap<String, LegacyFields>) {
    let mut list: Vec<(Datasource, LegacyFields)> = Vec::new();
    for path in yaml_files(dir, problems) {
        let name = path.display().to_string();
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) => {
                problems.push(FileError::whole_file(&name, format!("cannot read: {e}")));
                continue;
            }
        };
        let file = match super::values::with_env(env, || parse(&text)) {
            Ok(file) => file,
            Err(e) => {
                problems.push(MESSAGES.error(&name, &text, &e));
                continue;
            }
        };
        apply(&name, &text, file, ids, &mut list, problems);
    }
    let mut legacy = BTreeMap::new();
    let datasources = list
        .into_iter()
        .map(|(ds, fields)| {
            legacy.insert(ds.uid.clone(), fields);
            ds
        })
        .collect();
    (datasources, legacy)
}

fn parse(text: &str) -> Result<DatasourcesFile, yaml_serde::Error> {
    // An empty file (or one of comments only) is an empty config.
    let file: Option<DatasourcesFile> = yaml_serde::from_str(text)?;
    Ok(file.unwrap_or_default())
}

fn apply(
    name: &str,
    text: &str,
    file: DatasourcesFile,
    ids: &Ids,
    list: &mut Vec<(Datasource, LegacyFields)>,
    problems: &mut Problems,
) {
    let at = |locations: &[Location], i: usize, message: String| match locations.get(i) {
        Some(l) => FileError {
            file: name.to_owned(),
            location: Some(*l),
            message,
        },
        None => FileError::whole_file(name, message),
    };
    let deletes = locate::item_locations(text, "deleteDatasources");
    for (i, delete) in file.delete_datasources.iter().enumerate() {
        if !matches!(delete.org_id.0, 0 | 1) {
            continue;
        }
        let before = list.len();
        let deleted = |ds: &Datasource| {
            (!delete.name.0.is_empty() && ds.name == delete.name.0)
                || (!delete.uid.0.is_empty() && ds.uid == delete.uid.0)
        };
        list.retain(|(ds, _)| !deleted(ds));
        if delete.name.0.is_empty() && delete.uid.0.is_empty() {
            problems.push(at(
                &deletes,
                i,
                "deleteDatasources: an entry needs a name or a uid".to_owned(),
            ));
        } else if list.len() < before {
            tracing::info!(file = name, name = delete.name.0, "datasource deleted");
        }
    }
    let items = locate::item_locations(text, "datasources");
    for (i, entry) in file.datasources.into_iter().enumerate() {
        let ds_name = entry.name.0.trim().to_owned();
        if ds_name.is_empty() {
            problems.push(at(
                &items,
                i,
                "datasource without a name; skipped".to_owned(),
            ));
            continue;
        }
        if !matches!(entry.org_id.0, 0 | 1) {
            problems.push(at(
                &items,
                i,
                format!(
                    "datasource {ds_name:?} is for organization {}; vigil serves organization 1 only, skipped",
                    entry.org_id.0
                ),
            ));
            continue;
        }
        if entry.kind.0.is_empty() {
            problems.push(at(
                &items,
                i,
                format!("datasource {ds_name:?} has no type; skipped"),
            ));
            continue;
        }
        let access = match entry.access.0.as_str() {
            "" | "proxy" => "proxy",
            "direct" => "direct",
            other => {
                problems.push(at(
                    &items,
                    i,
                    format!(
                        "datasource {ds_name:?}: access {other:?} is invalid, must be proxy or direct; skipped"
                    ),
                ));
                continue;
            }
        };
        let uid = if entry.uid.0.is_empty() {
            uid_from_name(&ds_name)
        } else {
            entry.uid.0.clone()
        };
        if let Some(problem) = uid_problem(&uid) {
            problems.push(at(
                &items,
                i,
                format!("datasource {ds_name:?}: {problem}; skipped"),
            ));
            continue;
        }
        if let Some((other, _)) = list
            .iter()
            .find(|(ds, _)| ds.uid == uid && ds.name != ds_name)
        {
            problems.push(at(
                &items,
                i,
                format!(
                    "datasource {ds_name:?}: uid {uid:?} is already used by datasource {:?}; skipped",
                    other.name
                ),
            ));
            continue;
        }
        let mut is_default = entry.is_default.0;
        if is_default
            && let Some((other, _)) = list
                .iter()
                .find(|(ds, _)| ds.is_default && ds.name != ds_name)
        {
            problems.push(at(
                &items,
                i,
                format!(
                    "only one datasource per organization can be marked as default: {:?} already is, so {ds_name:?} is not",
                    other.name
                ),
            ));
            is_default = false;
        }
        let mut secure = entry.secure_json_data.0;
        // Grafana's legacy top-level secrets move into secureJsonData.
        for (key, value) in [
            ("password", entry.password.0),
            ("basicAuthPassword", entry.basic_auth_password.0),
        ] {
            if !value.is_empty() {
                tracing::warn!(
                    file = name,
                    datasource = ds_name,
                    "the top-level {key} is deprecated; use secureJsonData.{key}"
                );
                secure.entry(key.to_owned()).or_insert(value);
            }
        }
        let datasource = Datasource {
            id: ids.id(IdKind::Datasource, &uid),
            uid,
            name: ds_name.clone(),
            kind: entry.kind.0,
            access: access.to_owned(),
            url: entry.url.0,
            is_default,
            basic_auth: entry.basic_auth.0,
            basic_auth_user: entry.basic_auth_user.0,
            with_credentials: entry.with_credentials.0,
            json_data: entry.json_data.0,
            secure_json_data: secure,
            read_only: !entry.editable.0,
            version: entry.version.0.max(1),
        };
        let legacy = LegacyFields {
            user: entry.user.0,
            database: entry.database.0,
        };
        match list.iter_mut().find(|(ds, _)| ds.name == ds_name) {
            Some(slot) => *slot = (datasource, legacy),
            None => list.push((datasource, legacy)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_uids_are_grafanas() {
        // The uid every Grafana gives a provisioned "Prometheus" without one.
        assert_eq!(uid_from_name("Prometheus"), "PBFA97CFB590B2093");
    }

    #[test]
    fn uids_are_checked_as_grafana_does() {
        assert_eq!(uid_problem("prometheus-datasource_1"), None);
        assert!(uid_problem(&"a".repeat(41)).is_some());
        assert!(uid_problem("a b").is_some());
    }
}
