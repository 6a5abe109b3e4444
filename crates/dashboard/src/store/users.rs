//! Users and their preferences in the state database.

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError};

/// One user row (the password only as its argon2 PHC string).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub login: String,
    pub email: String,
    pub name: String,
    pub is_admin: bool,
    /// `$argon2id$v=19$...`.
    pub password_hash: String,
}

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub login: String,
    pub email: String,
    pub name: String,
    pub is_admin: bool,
    pub password_hash: String,
}

const COLUMNS: &str = "id, login, email, name, is_admin, password_hash";

fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: row.get(0)?,
        login: row.get(1)?,
        email: row.get(2)?,
        name: row.get(3)?,
        is_admin: row.get(4)?,
        password_hash: row.get(5)?,
    })
}

impl Store {
    /// How many users exist (none before the first start).
    pub async fn user_count(&self) -> Result<i64, StoreError> {
        self.call(|conn| Ok(conn.query_row("SELECT count(*) FROM user", [], |r| r.get(0))?))
            .await
    }

    /// Creates a user; its id.
    pub async fn create_user(&self, user: NewUser, now: i64) -> Result<i64, StoreError> {
        self.call(move |conn| {
            conn.execute(
                "INSERT INTO user (login, email, name, password_hash, is_admin, created, updated)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
                params![
                    user.login,
                    user.email,
                    user.name,
                    user.password_hash,
                    user.is_admin,
                    now
                ],
            )?;
            Ok(conn.last_insert_rowid())
        })
        .await
    }

    /// The user whose login or email is `login` (case-insensitive, as
    /// Grafana's login form accepts either).
    pub async fn user_by_login(&self, login: &str) -> Result<Option<User>, StoreError> {
        let login = login.to_owned();
        self.call(move |conn| {
            let sql = format!(
                "SELECT {COLUMNS} FROM user WHERE lower(login) = lower(?1)
                 OR (email <> '' AND lower(email) = lower(?1)) ORDER BY lower(login) = lower(?1) DESC LIMIT 1"
            );
            Ok(conn.query_row(&sql, [login], from_row).optional()?)
        })
        .await
    }

    /// The user with this id.
    pub async fn user_by_id(&self, id: i64) -> Result<Option<User>, StoreError> {
        self.call(move |conn| {
            let sql = format!("SELECT {COLUMNS} FROM user WHERE id = ?1");
            Ok(conn.query_row(&sql, [id], from_row).optional()?)
        })
        .await
    }

    /// Replaces a user's password hash.
    pub async fn set_password_hash(
        &self,
        id: i64,
        password_hash: String,
        now: i64,
    ) -> Result<(), StoreError> {
        self.call(move |conn| {
            conn.execute(
                "UPDATE user SET password_hash = ?2, updated = ?3 WHERE id = ?1",
                params![id, password_hash, now],
            )?;
            Ok(())
        })
        .await
    }

    /// A user's saved preferences (Grafana's `theme`, `timezone`,
    /// `homeDashboardUID`, ...), `None` when never saved.
    pub async fn preferences(&self, user_id: i64) -> Result<Option<serde_json::Value>, StoreError> {
        let text: Option<String> = self
            .call(move |conn| {
                Ok(conn
                    .query_row(
                        "SELECT json FROM preferences WHERE user_id = ?1",
                        [user_id],
                        |r| r.get(0),
                    )
                    .optional()?)
            })
            .await?;
        // A row this code wrote is always valid JSON; anything else reads
        // as "no preferences" rather than failing every page load.
        Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
    }

    /// Saves a user's preferences, replacing the previous ones.
    pub async fn set_preferences(
        &self,
        user_id: i64,
        preferences: &serde_json::Value,
    ) -> Result<(), StoreError> {
        let text = preferences.to_string();
        self.call(move |conn| {
            conn.execute(
                "INSERT INTO preferences (user_id, json) VALUES (?1, ?2)
                 ON CONFLICT(user_id) DO UPDATE SET json = excluded.json",
                params![user_id, text],
            )?;
            Ok(())
        })
        .await
    }
}
