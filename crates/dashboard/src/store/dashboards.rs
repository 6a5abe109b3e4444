//! Dashboards and folders saved through the API (`POST /api/dashboards/db`):
//! rows of the `dashboard` and `folder` tables. Provisioned dashboards stay
//! in their files; one saved over a provisioned one (its provider allowing
//! UI updates) is a row with the same uid.
//!
//! These run inside [`Store::call`](super::Store::call), on the blocking
//! thread that holds the connection.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::StoreError;

/// A dashboard saved through the API.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedDashboard {
    /// Its uid (the primary key).
    pub uid: String,
    /// `title` of the JSON.
    pub title: String,
    /// "" for the General folder.
    pub folder_uid: String,
    /// 1 when first saved, one more on each save.
    pub version: i64,
    /// The dashboard JSON as saved (with its `uid` and `version` set).
    pub json: serde_json::Value,
    /// ms since the epoch.
    pub created: i64,
    /// ms since the epoch.
    pub updated: i64,
}

/// A folder created through the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedFolder {
    /// Its uid (the primary key).
    pub uid: String,
    /// Its title.
    pub title: String,
    /// ms since the epoch.
    pub created: i64,
    /// ms since the epoch.
    pub updated: i64,
}

fn dashboard(row: &Row<'_>) -> rusqlite::Result<SavedDashboard> {
    let text: String = row.get(4)?;
    let json = serde_json::from_str(&text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(4, rusqlite::types::Type::Text, Box::new(e))
    })?;
    Ok(SavedDashboard {
        uid: row.get(0)?,
        title: row.get(1)?,
        folder_uid: row.get(2)?,
        version: row.get(3)?,
        json,
        created: row.get(5)?,
        updated: row.get(6)?,
    })
}

const DASHBOARD_COLUMNS: &str = "uid, title, folder_uid, version, json, created, updated";

/// The saved dashboard `uid`.
pub fn get_dashboard(conn: &Connection, uid: &str) -> Result<Option<SavedDashboard>, StoreError> {
    Ok(conn
        .query_row(
            &format!("SELECT {DASHBOARD_COLUMNS} FROM dashboard WHERE uid = ?1"),
            [uid],
            dashboard,
        )
        .optional()?)
}

/// Every saved dashboard, by title.
pub fn list_dashboards(conn: &Connection) -> Result<Vec<SavedDashboard>, StoreError> {
    let mut statement = conn.prepare_cached(&format!(
        "SELECT {DASHBOARD_COLUMNS} FROM dashboard ORDER BY title COLLATE NOCASE"
    ))?;
    let rows = statement.query_map([], dashboard)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Inserts or replaces the saved dashboard `d.uid`.
pub fn put_dashboard(conn: &Connection, d: &SavedDashboard) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO dashboard (uid, title, folder_uid, version, json, created, updated)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT(uid) DO UPDATE SET title = ?2, folder_uid = ?3, version = ?4,
             json = ?5, updated = ?7",
        params![
            d.uid,
            d.title,
            d.folder_uid,
            d.version,
            d.json.to_string(),
            d.created,
            d.updated
        ],
    )?;
    Ok(())
}

/// Deletes the saved dashboard `uid`; whether there was one.
pub fn delete_dashboard(conn: &Connection, uid: &str) -> Result<bool, StoreError> {
    Ok(conn.execute("DELETE FROM dashboard WHERE uid = ?1", [uid])? > 0)
}

/// Every folder created through the API, by title.
pub fn list_folders(conn: &Connection) -> Result<Vec<SavedFolder>, StoreError> {
    let mut statement = conn.prepare_cached(
        "SELECT uid, title, created, updated FROM folder ORDER BY title COLLATE NOCASE",
    )?;
    let rows = statement.query_map([], |row| {
        Ok(SavedFolder {
            uid: row.get(0)?,
            title: row.get(1)?,
            created: row.get(2)?,
            updated: row.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Creates the folder `f` (its uid must be new).
pub fn insert_folder(conn: &Connection, f: &SavedFolder) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO folder (uid, title, created, updated) VALUES (?1, ?2, ?3, ?4)",
        params![f.uid, f.title, f.created, f.updated],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[tokio::test]
    async fn a_saved_dashboard_is_read_back_updated_and_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut d = SavedDashboard {
            uid: "u1".into(),
            title: "One".into(),
            folder_uid: String::new(),
            version: 1,
            json: serde_json::json!({"title": "One", "uid": "u1"}),
            created: 10,
            updated: 10,
        };
        let saved = d.clone();
        store.call(move |c| put_dashboard(c, &saved)).await.unwrap();
        d.version = 2;
        d.updated = 20;
        d.created = 99; // Not changed by an update.
        let saved = d.clone();
        store.call(move |c| put_dashboard(c, &saved)).await.unwrap();
        let got = store
            .call(|c| get_dashboard(c, "u1"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!((got.version, got.created, got.updated), (2, 10, 20));
        assert_eq!(store.call(|c| list_dashboards(c)).await.unwrap().len(), 1);
        assert!(store.call(|c| delete_dashboard(c, "u1")).await.unwrap());
        assert!(
            store
                .call(|c| get_dashboard(c, "u1"))
                .await
                .unwrap()
                .is_none()
        );
    }
}
