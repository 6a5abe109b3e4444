//! One view of the dashboards and folders the API serves: the provisioned
//! ones (from the current [`Provisioned`](crate::provisioning::Provisioned)
//! snapshot) and the ones saved through the API (SQLite).
//!
//! A saved row with the uid of a provisioned dashboard is that dashboard
//! edited in the UI: it is shown while its provider allows UI updates and
//! the file has not changed since (a newer file wins, as in Grafana, where
//! the provisioner overwrites the database copy when the file changes).

use std::sync::Arc;

use super::ApiError;
use crate::provisioning::IdKind;
use crate::server::AppState;
use crate::store::dashboards::{SavedDashboard, list_dashboards, list_folders};

/// A dashboard as the API shows it.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub id: i64,
    pub uid: String,
    pub title: String,
    pub tags: Vec<String>,
    pub folder_uid: String,
    pub version: i64,
    pub created: i64,
    pub updated: i64,
    pub json: Arc<serde_json::Value>,
    pub provisioned: Option<Provenance>,
}

/// Where a provisioned dashboard comes from.
#[derive(Debug, Clone)]
pub(crate) struct Provenance {
    pub external_id: String,
    pub allow_ui_updates: bool,
}

impl Entry {
    pub(crate) fn slug(&self) -> String {
        slugify(&self.title)
    }

    pub(crate) fn url(&self) -> String {
        format!("/d/{}/{}", self.uid, self.slug())
    }
}

/// A folder as the API shows it.
#[derive(Debug, Clone)]
pub(crate) struct FolderEntry {
    pub id: i64,
    pub uid: String,
    pub title: String,
    pub created: i64,
    pub updated: i64,
}

impl FolderEntry {
    pub(crate) fn url(&self) -> String {
        format!("/dashboards/f/{}/{}", self.uid, slugify(&self.title))
    }
}

fn saved_entry(state: &AppState, saved: SavedDashboard) -> Entry {
    Entry {
        id: state.ids.id(IdKind::Dashboard, &saved.uid),
        tags: tags_of(&saved.json),
        uid: saved.uid,
        title: saved.title,
        folder_uid: saved.folder_uid,
        version: saved.version,
        created: saved.created,
        updated: saved.updated,
        json: Arc::new(saved.json),
        provisioned: None,
    }
}

pub(crate) fn tags_of(json: &serde_json::Value) -> Vec<String> {
    json.get("tags")
        .and_then(|t| t.as_array())
        .map(|tags| {
            tags.iter()
                .filter_map(|t| t.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Every dashboard: provisioned ones first (in provisioning order), then
/// those saved through the API.
pub(crate) async fn dashboards(state: &AppState) -> Result<Vec<Entry>, ApiError> {
    let saved = state.store.call(|c| list_dashboards(c)).await?;
    let provisioned = state.provisioned();
    let mut out: Vec<Entry> = Vec::with_capacity(provisioned.dashboards.len() + saved.len());
    for p in &provisioned.dashboards {
        out.push(Entry {
            id: p.id,
            uid: p.uid.clone(),
            title: p.title.clone(),
            tags: p.tags.clone(),
            folder_uid: p.folder_uid.clone(),
            version: p.version,
            created: p.created,
            updated: p.updated,
            json: p.json.clone(),
            provisioned: Some(Provenance {
                external_id: p.external_id.clone(),
                allow_ui_updates: p.allow_ui_updates,
            }),
        });
    }
    for s in saved {
        match out.iter_mut().find(|e| e.uid == s.uid) {
            Some(entry) => {
                let edited = entry
                    .provisioned
                    .as_ref()
                    .is_some_and(|p| p.allow_ui_updates)
                    && s.updated >= entry.updated;
                if edited {
                    let provenance = entry.provisioned.take();
                    *entry = Entry {
                        provisioned: provenance,
                        ..saved_entry(state, s)
                    };
                }
            }
            None => out.push(saved_entry(state, s)),
        }
    }
    Ok(out)
}

/// The dashboard `uid`.
pub(crate) async fn dashboard(state: &AppState, uid: &str) -> Result<Option<Entry>, ApiError> {
    // Few dashboards: one pass over all of them keeps the override rule in
    // one place.
    Ok(dashboards(state).await?.into_iter().find(|e| e.uid == uid))
}

/// Every folder: provisioned ones, then those created through the API.
pub(crate) async fn folders(state: &AppState) -> Result<Vec<FolderEntry>, ApiError> {
    let saved = state.store.call(|c| list_folders(c)).await?;
    let provisioned = state.provisioned();
    let mut out: Vec<FolderEntry> = provisioned
        .folders
        .iter()
        .map(|f| FolderEntry {
            id: f.id,
            uid: f.uid.clone(),
            title: f.title.clone(),
            created: f.created,
            updated: f.created,
        })
        .collect();
    for f in saved {
        if out.iter().any(|o| o.uid == f.uid) {
            continue;
        }
        out.push(FolderEntry {
            id: state
                .ids
                .id(IdKind::Dashboard, &format!("folder/{}", f.uid)),
            uid: f.uid,
            title: f.title,
            created: f.created,
            updated: f.updated,
        });
    }
    Ok(out)
}

/// A URL slug of a title as Grafana makes one: lower case, `&` as "and",
/// `@` as "at", accented Latin letters without their accents, anything
/// else but `a-z0-9` as one `-`, no `-` at either end.
pub fn slugify(title: &str) -> String {
    let mut out = String::with_capacity(title.len());
    let mut dash = false;
    for c in title.trim().to_lowercase().chars() {
        let replacement = match c {
            'a'..='z' | '0'..='9' => {
                out.push(c);
                dash = false;
                continue;
            }
            '&' => "and",
            '@' => "at",
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ą' => "a",
            'æ' => "ae",
            'ç' | 'ć' | 'č' => "c",
            'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ę' | 'ě' => "e",
            'ì' | 'í' | 'î' | 'ï' | 'ī' => "i",
            'ñ' | 'ń' | 'ň' => "n",
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' => "o",
            'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' => "u",
            'ý' | 'ÿ' => "y",
            'ß' => "ss",
            'ł' => "l",
            'ś' | 'š' => "s",
            'ź' | 'ż' | 'ž' => "z",
            'ř' => "r",
            'ť' => "t",
            'ď' => "d",
            _ => {
                if !dash {
                    out.push('-');
                    dash = true;
                }
                continue;
            }
        };
        out.push_str(replacement);
        dash = false;
    }
    out.trim_matches('-').to_owned()
}

#[cfg(test)]
mod tests {
    use super::slugify;

    #[test]
    fn slugs_are_grafanas() {
        for (title, slug) in [
            ("Fast API Metrics", "fast-api-metrics"),
            ("  Node Exporter Full  ", "node-exporter-full"),
            ("Kubernetes / Views / Pods", "kubernetes-views-pods"),
            ("Loki & Promtail", "loki-and-promtail"),
            ("Café déjà vu", "cafe-deja-vu"),
            ("--x--", "x"),
            ("", ""),
        ] {
            assert_eq!(slugify(title), slug, "{title:?}");
        }
    }
}
