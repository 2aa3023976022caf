//! The small tables: settings and consent (`meta`), reminders and what became
//! of them, weekly notes; and the integrity check.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};

use super::{from_ms, ms, Store, StoreError, DATABASE_ID_KEY, DATABASE_NOTE_KEY};
use crate::model::ReminderRecord;

impl Store {
    /// The database's identity ([`DATABASE_ID_KEY`]); `None` in a database no
    /// dwell of schema 3 or later has opened for writing.
    pub fn database_id(&self) -> Result<Option<String>, StoreError> {
        self.meta_get(DATABASE_ID_KEY)
    }

    /// What happened to a damaged database this one replaced, in one line
    /// naming where the damaged file went; `None` when nothing happened.
    pub fn database_note(&self) -> Result<Option<String>, StoreError> {
        self.meta_get(DATABASE_NOTE_KEY)
    }

    pub fn meta_get(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(self.s())
    }

    pub fn meta_set(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.writable()?;
        self.conn
            .execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [key, value],
            )
            .map(|_| ())
            .map_err(self.s())
    }

    pub fn meta_delete(&self, key: &str) -> Result<(), StoreError> {
        self.writable()?;
        self.conn
            .execute("DELETE FROM meta WHERE key = ?1", [key])
            .map(|_| ())
            .map_err(self.s())
    }

    /// When the employee opted in, if they have (and not withdrawn since).
    pub fn consent(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(self
            .meta_get("consent_at")?
            .and_then(|v| DateTime::parse_from_rfc3339(&v).ok())
            .map(|d| d.with_timezone(&Utc)))
    }

    pub fn set_consent(&self, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.meta_set("consent_at", &at.to_rfc3339())
    }

    pub fn clear_consent(&self) -> Result<(), StoreError> {
        self.meta_delete("consent_at")
    }

    /// Records a reminder (replacing the one of the same kind due at the same
    /// instant: the same reminder, held and then shown, say).
    pub fn put_reminder(&mut self, r: &ReminderRecord) -> Result<(), StoreError> {
        self.writable()?;
        self.conn
            .execute(
                "INSERT OR REPLACE INTO reminders (at, kind, outcome, left_social, message)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![ms(r.at), r.kind, r.outcome, r.left_social, r.message],
            )
            .map(|_| ())
            .map_err(self.s())
    }

    /// Changes the outcome of the reminder of `kind` due at `at`; false when
    /// there is none.
    pub fn set_reminder_outcome(
        &mut self,
        at: DateTime<Utc>,
        kind: &str,
        outcome: &str,
    ) -> Result<bool, StoreError> {
        self.writable()?;
        self.conn
            .execute(
                "UPDATE reminders SET outcome = ?3 WHERE at = ?1 AND kind = ?2",
                params![ms(at), kind, outcome],
            )
            .map(|n| n > 0)
            .map_err(self.s())
    }

    /// Records whether the employee left social sites within 2 minutes of
    /// the reminder of `kind` due at `at`.
    pub fn set_reminder_left(
        &mut self,
        at: DateTime<Utc>,
        kind: &str,
        left: bool,
    ) -> Result<bool, StoreError> {
        self.writable()?;
        self.conn
            .execute(
                "UPDATE reminders SET left_social = ?3 WHERE at = ?1 AND kind = ?2",
                params![ms(at), kind, left],
            )
            .map(|n| n > 0)
            .map_err(self.s())
    }

    /// Reminders due in `[from, to)`, in order.
    pub fn reminders(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<ReminderRecord>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT at, kind, outcome, left_social, message FROM reminders
                 WHERE at >= ?1 AND at < ?2 ORDER BY at",
            )
            .map_err(self.s())?;
        let rows = stmt
            .query_map(params![ms(from), ms(to)], |r| {
                Ok(ReminderRecord {
                    at: from_ms(r.get(0)?),
                    kind: r.get(1)?,
                    outcome: r.get(2)?,
                    left_social: r.get(3)?,
                    message: r.get(4)?,
                })
            })
            .map_err(self.s())?;
        rows.collect::<Result<Vec<_>, _>>().map_err(self.s())
    }

    /// Stores (or replaces) the reflection note of an ISO week (`2026-W48`).
    pub fn put_note(
        &mut self,
        week: &str,
        text: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.writable()?;
        self.conn
            .execute(
                "INSERT OR REPLACE INTO notes (week, text, written) VALUES (?1, ?2, ?3)",
                params![week, text, ms(at)],
            )
            .map(|_| ())
            .map_err(self.s())
    }

    /// The reflection note of an ISO week, if one was written.
    pub fn note(&self, week: &str) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row("SELECT text FROM notes WHERE week = ?1", [week], |r| {
                r.get(0)
            })
            .optional()
            .map_err(self.s())
    }

    /// `PRAGMA integrity_check`: `Ok(())` when the answer is "ok" (slow on a
    /// big file; [`Store::health_check`] is the quick one).
    pub fn integrity_check(&self) -> Result<Result<(), String>, StoreError> {
        let answer: String = self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .map_err(self.s())?;
        Ok(if answer == "ok" { Ok(()) } else { Err(answer) })
    }
}
