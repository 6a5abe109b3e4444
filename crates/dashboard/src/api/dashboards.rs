//! Dashboards and folders: `/api/search`, `/api/dashboards/uid/<uid>`
//! (GET, DELETE), `POST /api/dashboards/db`, `/api/dashboards/tags`,
//! `/api/folders` (GET, POST), `/api/folders/<uid>`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::content::{self, Entry, FolderEntry, slugify};
use super::{ApiError, timestamp};
use crate::auth::CurrentUser;
use crate::provisioning::IdKind;
use crate::provisioning::datasources::uid_problem;
use crate::server::AppState;
use crate::store::dashboards::{
    SavedDashboard, SavedFolder, delete_dashboard as delete_saved, get_dashboard as get_saved,
    insert_folder, put_dashboard,
};

const NOT_FOUND: ApiError = ApiError::NotFound("Dashboard not found");

/// The query string's pairs, decoded (repeated keys kept: Grafana's
/// `tag=a&tag=b`).
fn pairs(query: Option<&str>) -> Vec<(String, String)> {
    query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let decode =
                |s: &str| gocompat::url::query_unescape(s).unwrap_or_else(|_| s.to_owned());
            (decode(k), decode(v))
        })
        .collect()
}

/// Every value of `key`, repeated or comma-separated.
fn values(pairs: &[(String, String)], key: &str) -> Vec<String> {
    pairs
        .iter()
        .filter(|(k, _)| k == key)
        .flat_map(|(_, v)| v.split(',').map(str::trim).map(str::to_owned))
        .filter(|v| !v.is_empty())
        .collect()
}

fn first(pairs: &[(String, String)], key: &str) -> Option<String> {
    pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
}

fn folder_title<'a>(folders: &'a [FolderEntry], uid: &str) -> Option<&'a FolderEntry> {
    folders.iter().find(|f| f.uid == uid)
}

/// `GET /api/search`: dashboards and folders whose title contains `query`
/// (any case), filtered by `type`, `folderUIDs`, `tag` (all of them),
/// `dashboardUIDs`; folders first, then by title, as Grafana sorts.
/// `starred` is accepted and ignored (nothing is starred here).
pub(super) async fn search(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Json<Vec<Value>>, ApiError> {
    let pairs = pairs(query.as_deref());
    let text = first(&pairs, "query").unwrap_or_default().to_lowercase();
    let kind = first(&pairs, "type").unwrap_or_default();
    let folder_uids = values(&pairs, "folderUIDs");
    let tags = values(&pairs, "tag");
    let dashboard_uids = values(&pairs, "dashboardUIDs");
    let limit = first(&pairs, "limit")
        .and_then(|l| l.parse::<usize>().ok())
        .filter(|l| *l > 0)
        .unwrap_or(1000)
        .min(5000);
    let page = first(&pairs, "page")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let in_folders = |uid: &str| {
        folder_uids.is_empty()
            || folder_uids
                .iter()
                .any(|f| f == uid || (uid.is_empty() && f == "general"))
    };
    let folders = content::folders(&state).await?;
    let mut hits: Vec<(bool, String, Value)> = Vec::new();
    let want_folders = kind != "dash-db" && tags.is_empty() && dashboard_uids.is_empty();
    if want_folders && in_folders("") {
        for f in &folders {
            if f.title.to_lowercase().contains(&text) {
                hits.push((true, f.title.to_lowercase(), folder_hit(f)));
            }
        }
    }
    if kind != "dash-folder" {
        for d in content::dashboards(&state).await? {
            let wanted = d.title.to_lowercase().contains(&text)
                && in_folders(&d.folder_uid)
                && tags.iter().all(|t| d.tags.contains(t))
                && (dashboard_uids.is_empty() || dashboard_uids.contains(&d.uid));
            if wanted {
                hits.push((
                    false,
                    d.title.to_lowercase(),
                    dashboard_hit(&d, folder_title(&folders, &d.folder_uid)),
                ));
            }
        }
    }
    hits.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    Ok(Json(
        hits.into_iter()
            .map(|(_, _, hit)| hit)
            .skip((page - 1).saturating_mul(limit))
            .take(limit)
            .collect(),
    ))
}

fn folder_hit(f: &FolderEntry) -> Value {
    let slug = slugify(&f.title);
    json!({
        "id": f.id,
        "uid": f.uid,
        "orgId": 1,
        "title": f.title,
        "uri": format!("db/{slug}"),
        "url": f.url(),
        "slug": slug,
        "type": "dash-folder",
        "tags": [],
        "isStarred": false,
        "sortMeta": 0,
    })
}

fn dashboard_hit(d: &Entry, folder: Option<&FolderEntry>) -> Value {
    let slug = d.slug();
    let mut tags = d.tags.clone();
    tags.sort();
    let mut hit = json!({
        "id": d.id,
        "uid": d.uid,
        "orgId": 1,
        "title": d.title,
        "uri": format!("db/{slug}"),
        "url": d.url(),
        "slug": slug,
        "type": "dash-db",
        "tags": tags,
        "isStarred": false,
        "sortMeta": 0,
    });
    // Grafana leaves the folder fields out for the General folder.
    if let (Some(f), Some(map)) = (folder, hit.as_object_mut()) {
        map.insert("folderId".into(), f.id.into());
        map.insert("folderUid".into(), f.uid.clone().into());
        map.insert("folderTitle".into(), f.title.clone().into());
        map.insert("folderUrl".into(), f.url().into());
    }
    hit
}

/// `GET /api/dashboards/uid/<uid>`: the dashboard's JSON as stored (with
/// its `id`, `uid` and `version` set, as Grafana does) and its meta.
pub(super) async fn get_dashboard(
    State(state): State<AppState>,
    user: Option<Extension<CurrentUser>>,
    Path(uid): Path<String>,
) -> Result<Json<Value>, ApiError> {
    // The anonymous viewer only looks: nothing may be changed.
    let editor = user.is_some_and(|Extension(u)| !u.is_anonymous);
    let entry = content::dashboard(&state, &uid).await?.ok_or(NOT_FOUND)?;
    let folders = content::folders(&state).await?;
    let folder = folder_title(&folders, &entry.folder_uid);
    let mut dashboard = (*entry.json).clone();
    if let Some(map) = dashboard.as_object_mut() {
        map.insert("id".into(), entry.id.into());
        map.insert("uid".into(), entry.uid.clone().into());
        map.insert("version".into(), entry.version.into());
    }
    let provisioned = entry.provisioned.as_ref();
    let can_save = editor && provisioned.is_none_or(|p| p.allow_ui_updates);
    let meta = json!({
        "type": "db",
        "canSave": can_save,
        "canEdit": editor,
        "canAdmin": editor,
        "canStar": false,
        "canDelete": editor && provisioned.is_none(),
        "slug": entry.slug(),
        "url": entry.url(),
        "expires": "0001-01-01T00:00:00Z",
        "created": timestamp(entry.created),
        "updated": timestamp(entry.updated),
        "updatedBy": "admin",
        "createdBy": "admin",
        "version": entry.version,
        "hasAcl": false,
        "isFolder": false,
        "folderId": folder.map_or(0, |f| f.id),
        "folderUid": folder.map_or(String::new(), |f| f.uid.clone()),
        "folderTitle": folder.map_or("General".to_owned(), |f| f.title.clone()),
        "folderUrl": folder.map_or(String::new(), FolderEntry::url),
        "provisioned": provisioned.is_some(),
        "provisionedExternalId": provisioned.map_or(String::new(), |p| p.external_id.clone()),
    });
    Ok(Json(json!({ "dashboard": dashboard, "meta": meta })))
}

/// `DELETE /api/dashboards/uid/<uid>`: only dashboards saved through the
/// API; a provisioned one is owned by its file.
pub(super) async fn delete_dashboard(
    State(state): State<AppState>,
    Path(uid): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let entry = content::dashboard(&state, &uid).await?.ok_or(NOT_FOUND)?;
    if entry.provisioned.is_some() {
        return Err(ApiError::BadRequest(
            "provisioned dashboard cannot be deleted".to_owned(),
        ));
    }
    let key = uid.clone();
    if !state.store.call(move |c| delete_saved(c, &key)).await? {
        return Err(NOT_FOUND);
    }
    Ok(Json(json!({
        "title": entry.title,
        "message": format!("Dashboard {} deleted", entry.title),
        "id": entry.id,
        "uid": uid,
    })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SaveRequest {
    #[serde(default)]
    dashboard: Value,
    #[serde(default)]
    folder_uid: Option<String>,
    #[serde(default)]
    folder_id: Option<i64>,
    #[serde(default)]
    overwrite: bool,
    #[serde(default)]
    #[allow(dead_code)] // Grafana keeps it in the version history; vigil keeps no history.
    message: Option<String>,
}

fn now_ms() -> i64 {
    crate::provisioning::millis(SystemTime::now())
}

/// A fresh uid for a new dashboard: 14 hex digits, unique in this process
/// and (by the clock) across runs.
fn new_uid(title: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = Sha256::new();
    hasher.update(now_ms().to_le_bytes());
    hasher.update(COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    hasher.update(std::process::id().to_le_bytes());
    hasher.update(title.as_bytes());
    hasher.finalize()[..7]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn bad(message: &str) -> ApiError {
    ApiError::BadRequest(message.to_owned())
}

const VERSION_MISMATCH: ApiError = ApiError::PreconditionFailed {
    message: "The dashboard has been changed by someone else",
    status: "version-mismatch",
};

/// `POST /api/dashboards/db`: creates or updates a dashboard, with
/// Grafana's checks (title, uid, folder, version, name in folder,
/// provisioned dashboards only when their provider allows UI updates).
pub(super) async fn save_dashboard(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let request: SaveRequest =
        serde_json::from_slice(&body).map_err(|_| bad("bad request data"))?;
    let Value::Object(mut dashboard) = request.dashboard else {
        return Err(bad("Dashboard is required"));
    };
    let title = dashboard
        .get("title")
        .and_then(Value::as_str)
        .map(str::trim)
        .unwrap_or_default()
        .to_owned();
    if title.is_empty() {
        return Err(bad("Dashboard title cannot be empty"));
    }
    let mut uid = dashboard
        .get("uid")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    if uid.is_empty() {
        // An id without a uid names an existing dashboard (Grafana's old
        // way); an unknown one is not found rather than created.
        if let Some(id) = dashboard
            .get("id")
            .and_then(Value::as_i64)
            .filter(|id| *id != 0)
        {
            uid = state
                .ids
                .uid(IdKind::Dashboard, id)
                .filter(|u| !u.starts_with("folder/"))
                .ok_or(NOT_FOUND)?;
        }
    } else if let Some(problem) = uid_problem(&uid) {
        return Err(bad(problem));
    }
    let folders = content::folders(&state).await?;
    let folder_uid = match (request.folder_uid, request.folder_id) {
        (Some(uid), _) if !uid.is_empty() => uid,
        (_, Some(id)) if id != 0 => state
            .ids
            .uid(IdKind::Dashboard, id)
            .and_then(|u| u.strip_prefix("folder/").map(str::to_owned))
            .ok_or_else(|| bad("Folder not found"))?,
        _ => String::new(),
    };
    if !folder_uid.is_empty() && folder_title(&folders, &folder_uid).is_none() {
        return Err(bad("Folder not found"));
    }
    let all = content::dashboards(&state).await?;
    let current = all.iter().find(|d| !uid.is_empty() && d.uid == uid);
    if let Some(current) = current {
        if current
            .provisioned
            .as_ref()
            .is_some_and(|p| !p.allow_ui_updates)
        {
            return Err(bad("Cannot save provisioned dashboard"));
        }
        let asked = dashboard
            .get("version")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        if asked != current.version && !request.overwrite {
            return Err(VERSION_MISMATCH);
        }
    }
    if uid.is_empty() {
        uid = new_uid(&title);
    }
    let same_name = all.iter().any(|d| {
        d.uid != uid && d.folder_uid == folder_uid && d.title.eq_ignore_ascii_case(&title)
    });
    if same_name && !request.overwrite {
        return Err(ApiError::PreconditionFailed {
            message: "A dashboard with the same name in the folder already exists",
            status: "name-exists",
        });
    }
    let id = state.ids.id(IdKind::Dashboard, &uid);
    let version = current.map_or(1, |c| c.version + 1);
    let now = now_ms();
    dashboard.insert("uid".into(), uid.clone().into());
    dashboard.insert("version".into(), version.into());
    dashboard.insert("id".into(), id.into());
    dashboard.insert("title".into(), title.clone().into());
    let saved = SavedDashboard {
        uid: uid.clone(),
        title: title.clone(),
        folder_uid: folder_uid.clone(),
        version,
        json: Value::Object(dashboard),
        created: current.map_or(now, |c| c.created),
        updated: now,
    };
    // The version is checked again where it is written: two saves racing
    // from the same version must not both succeed.
    let expected = current
        .filter(|c| c.provisioned.is_none())
        .map(|c| c.version);
    let overwrite = request.overwrite;
    let written = state
        .store
        .call(move |c| {
            let existing = get_saved(c, &saved.uid)?.map(|d| d.version);
            if !overwrite && existing.is_some() && existing != expected {
                return Ok(false);
            }
            put_dashboard(c, &saved)?;
            Ok(true)
        })
        .await?;
    if !written {
        return Err(VERSION_MISMATCH);
    }
    let slug = slugify(&title);
    Ok(Json(json!({
        "id": id,
        "uid": uid,
        "url": format!("/d/{uid}/{slug}"),
        "status": "success",
        "version": version,
        "slug": slug,
        "folderUid": folder_uid,
    })))
}

/// `GET /api/dashboards/tags`: every tag with the number of dashboards
/// carrying it.
pub(super) async fn tags(State(state): State<AppState>) -> Result<Json<Vec<Value>>, ApiError> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for d in content::dashboards(&state).await? {
        for tag in d.tags {
            *counts.entry(tag).or_default() += 1;
        }
    }
    Ok(Json(
        counts
            .into_iter()
            .map(|(term, count)| json!({ "term": term, "count": count }))
            .collect(),
    ))
}

/// `GET /api/folders`: `[{"id","uid","title"}]` by title.
pub(super) async fn folders(State(state): State<AppState>) -> Result<Json<Vec<Value>>, ApiError> {
    let mut folders = content::folders(&state).await?;
    folders.sort_by_key(|f| f.title.to_lowercase());
    Ok(Json(
        folders
            .iter()
            .map(|f| json!({ "id": f.id, "uid": f.uid, "title": f.title }))
            .collect(),
    ))
}

#[derive(Deserialize)]
struct NewFolder {
    #[serde(default)]
    uid: String,
    #[serde(default)]
    title: String,
}

/// `POST /api/folders` `{"uid"?, "title"}`: creates a folder (at the top:
/// vigil has no nested folders) and answers it as `GET` would.
pub(super) async fn create_folder(
    State(state): State<AppState>,
    user: Option<Extension<CurrentUser>>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let request: NewFolder = serde_json::from_slice(&body).map_err(|_| bad("bad request data"))?;
    let title = request.title.trim().to_owned();
    if title.is_empty() {
        return Err(bad("folder title cannot be empty"));
    }
    let uid = if request.uid.is_empty() {
        new_uid(&title)
    } else {
        request.uid
    };
    if let Some(problem) = uid_problem(&uid) {
        return Err(bad(problem));
    }
    let folders = content::folders(&state).await?;
    if folders.iter().any(|f| f.uid == uid) {
        return Err(ApiError::Conflict(
            "a folder with the same uid already exists",
        ));
    }
    let dashboards = content::dashboards(&state).await?;
    if folders.iter().any(|f| f.title.eq_ignore_ascii_case(&title))
        || dashboards
            .iter()
            .any(|d| d.folder_uid.is_empty() && d.title.eq_ignore_ascii_case(&title))
    {
        return Err(ApiError::Conflict(
            "a folder or dashboard in the general folder with the same name already exists",
        ));
    }
    let now = now_ms();
    let saved = SavedFolder {
        uid: uid.clone(),
        title,
        created: now,
        updated: now,
    };
    state.store.call(move |c| insert_folder(c, &saved)).await?;
    folder(State(state), user, Path(uid)).await
}

/// `GET /api/folders/<uid>`.
pub(super) async fn folder(
    State(state): State<AppState>,
    user: Option<Extension<CurrentUser>>,
    Path(uid): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let editor = user.is_some_and(|Extension(u)| !u.is_anonymous);
    let folders = content::folders(&state).await?;
    let f = folder_title(&folders, &uid).ok_or(ApiError::NotFound("Folder not found"))?;
    Ok(Json(json!({
        "id": f.id,
        "uid": f.uid,
        "orgId": 1,
        "title": f.title,
        "url": f.url(),
        "hasAcl": false,
        "canSave": editor,
        "canEdit": editor,
        "canAdmin": editor,
        "canDelete": false,
        "createdBy": "admin",
        "created": timestamp(f.created),
        "updatedBy": "admin",
        "updated": timestamp(f.updated),
        "version": 1,
    })))
}
