//! Login sessions in the state database: only a hash of each session
//! token is stored, so a copy of the database logs nobody in.

use rusqlite::{OptionalExtension, params};

use super::users::User;
use super::{Store, StoreError};

/// How long sessions live (Grafana's `login_maximum_lifetime_duration`
/// and `login_maximum_inactive_lifetime_duration`), in seconds.
#[derive(Debug, Clone, Copy)]
pub struct SessionLimits {
    pub max_lifetime: i64,
    pub max_inactive: i64,
}

/// A live session and its user.
#[derive(Debug, Clone)]
pub struct SessionUser {
    pub user: User,
    /// When the session was last used (unix seconds).
    pub seen: i64,
}

impl Store {
    /// Records a new session for `user_id`.
    pub async fn create_session(
        &self,
        token_hash: String,
        user_id: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        self.call(move |conn| {
            conn.execute(
                "INSERT INTO session (token_hash, user_id, created, seen) VALUES (?1, ?2, ?3, ?3)",
                params![token_hash, user_id, now],
            )?;
            Ok(())
        })
        .await
    }

    /// The user of a session that has not expired at `now`; an expired
    /// session is deleted on the way.
    pub async fn session_user(
        &self,
        token_hash: String,
        now: i64,
        limits: SessionLimits,
    ) -> Result<Option<SessionUser>, StoreError> {
        self.call(move |conn| {
            let found = conn
                .query_row(
                    "SELECT s.created, s.seen, u.id, u.login, u.email, u.name, u.is_admin, u.password_hash
                     FROM session s JOIN user u ON u.id = s.user_id WHERE s.token_hash = ?1",
                    [&token_hash],
                    |r| {
                        Ok((
                            r.get::<_, i64>(0)?,
                            r.get::<_, i64>(1)?,
                            User {
                                id: r.get(2)?,
                                login: r.get(3)?,
                                email: r.get(4)?,
                                name: r.get(5)?,
                                is_admin: r.get(6)?,
                                password_hash: r.get(7)?,
                            },
                        ))
                    },
                )
                .optional()?;
            let Some((created, seen, user)) = found else {
                return Ok(None);
            };
            if now - created > limits.max_lifetime || now - seen > limits.max_inactive {
                conn.execute("DELETE FROM session WHERE token_hash = ?1", [&token_hash])?;
                return Ok(None);
            }
            Ok(Some(SessionUser { user, seen }))
        })
        .await
    }

    /// Marks a session as used at `now` (its inactivity clock restarts).
    pub async fn touch_session(&self, token_hash: String, now: i64) -> Result<(), StoreError> {
        self.call(move |conn| {
            conn.execute(
                "UPDATE session SET seen = ?2 WHERE token_hash = ?1",
                params![token_hash, now],
            )?;
            Ok(())
        })
        .await
    }

    /// Ends one session.
    pub async fn delete_session(&self, token_hash: String) -> Result<(), StoreError> {
        self.call(move |conn| {
            conn.execute("DELETE FROM session WHERE token_hash = ?1", [token_hash])?;
            Ok(())
        })
        .await
    }

    /// Ends every session of a user except `keep` (the one changing the
    /// password stays logged in).
    pub async fn delete_other_sessions(
        &self,
        user_id: i64,
        keep: Option<String>,
    ) -> Result<usize, StoreError> {
        self.call(move |conn| {
            let keep = keep.unwrap_or_default();
            Ok(conn.execute(
                "DELETE FROM session WHERE user_id = ?1 AND token_hash <> ?2",
                params![user_id, keep],
            )?)
        })
        .await
    }

    /// Deletes every session expired at `now`; how many.
    pub async fn prune_sessions(
        &self,
        now: i64,
        limits: SessionLimits,
    ) -> Result<usize, StoreError> {
        self.call(move |conn| {
            Ok(conn.execute(
                "DELETE FROM session WHERE ?1 - created > ?2 OR ?1 - seen > ?3",
                params![now, limits.max_lifetime, limits.max_inactive],
            )?)
        })
        .await
    }
}
