//! `dwell-agent run`: takes the data directory's lock, opens (checks, and if
//! need be salvages) the database, and runs the loop (`crate::run`) until
//! asked to stop (SIGTERM or SIGINT on Linux; on Windows `disable`, Ctrl-C,
//! Ctrl-Break or the end of the session: see [`crate::control`]); a database found damaged while running
//! is moved aside and the loop starts again on what could be read.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use chrono::Utc;
use dwell_core::paths::DB_FILE;
use dwell_core::store::{Cancel, StoreError};
use dwell_core::Store;

use super::{config_path, data_dir, load_config, refused, Global};
use crate::control::Listener;
use crate::lock::AgentLock;

pub fn run(cli: &Global) -> Result<()> {
    let dir = data_dir(cli)?;
    let mut config = load_config(cli)?;
    let db = dir.join(DB_FILE);
    match std::fs::symlink_metadata(&db) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(not_enabled(&dir)),
        Err(e) => return Err(StoreError::from_io(&db, e).into()),
    }
    // Another agent on the same data: refused (exit 2), so a service manager
    // does not keep restarting a second one.
    if AgentLock::is_held(&dir) {
        return Err(refused(format!(
            "another dwell-agent is already running on {} (stop it first, or use another --data-dir)",
            dir.display()
        )));
    }
    // The lock comes first: a damaged database is moved aside only while no
    // other agent can be writing to it.
    let lock = AgentLock::acquire(&dir).map_err(|e| unwritable(&dir, e))?;
    let live_path = config_path(cli);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    // A stop (SIGTERM, SIGINT; on Windows the control pipe, Ctrl-C) is
    // heard from here on, before any watcher thread (which may run a runtime
    // of its own) starts: none is ever missed. The database is opened
    // (checked, migrated, salvaged) on a thread of its own, so that a stop
    // ends that too.
    let mut stop = {
        let _in_runtime = runtime.enter();
        Listener::start(&dir)?
    };
    let upkeep_stop = crate::control::upkeep_stop(&dir);
    let mut recovered_at: Option<std::time::Instant> = None;
    loop {
        let Some(mut store) = open_unless_stopped(&runtime, &dir, &mut stop)? else {
            return Ok(());
        };
        // The daily check and retention run on the loop's thread: a signal
        // stops them inside their statement, through this token.
        store.stop_upkeep_on(upkeep_stop.clone());
        let result = runtime.block_on(crate::run::run(
            config.clone(),
            live_path.clone(),
            Some(lock.health_note()),
            store,
            stop.looks(),
            stop.stopped(),
        ));
        // Damage found while running (the daily check): the loop stopped
        // writing; move the file aside and go on with what can be read, once
        // an hour at most (more often, the disk itself is failing).
        match result {
            Err(e) if is_damaged(&e) && recovered_at.is_none_or(|t| t.elapsed() > HOUR) => {
                tracing::warn!("{e:#}: moving it aside");
                recovered_at = Some(std::time::Instant::now());
                // Start again with the config as the file says now (an edit
                // since the start must not revert), the previous if refused.
                config = crate::reload::for_restart(live_path.as_deref(), config);
            }
            other => return other,
        }
    }
}

/// How long a signalled start-up waits for the store to stop at a safe point
/// (it sees the stop token within milliseconds).
const STOP_WAIT: Duration = Duration::from_millis(800);

/// Opens the database ([`open_for_run`]) on a thread of its own; `None` when
/// a stop (SIGTERM, SIGINT…) came first: the checks, migrations or salvage under way
/// are stopped at their next safe point (a salvage never half-way through
/// putting the fresh file in place), and the agent ends.
fn open_unless_stopped(
    runtime: &tokio::runtime::Runtime,
    dir: &Path,
    stop: &mut Listener,
) -> Result<Option<Store>> {
    let cancel = Cancel::new();
    let (tx, mut rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("dwell-open".into())
        .spawn({
            let dir = dir.to_owned();
            let cancel = cancel.clone();
            move || {
                let _ = tx.send(open_for_run(&dir, &cancel));
            }
        })
        .context("cannot start the thread that opens the database")?;
    runtime.block_on(async {
        tokio::select! {
            opened = &mut rx => match opened {
                Ok(opened) => opened.map(Some),
                Err(_) => Err(anyhow::anyhow!("the thread that opens the database ended without a word")),
            },
            () = stop.stopped() => {
                cancel.cancel();
                tracing::info!("asked to stop while opening the database: stopping");
                if tokio::time::timeout(STOP_WAIT, rx).await.is_err() {
                    tracing::warn!("the database did not stop in time; ending all the same (SQLite keeps it whole)");
                }
                Ok(None)
            }
        }
    })
}

const HOUR: Duration = Duration::from_secs(3600);

fn not_enabled(dir: &Path) -> anyhow::Error {
    refused(format!(
        "not enabled: nothing is recorded until you opt in with `dwell-agent enable` (data dir {})",
        dir.display()
    ))
}

/// Opens the database for the run loop: checked first, and a damaged one
/// moved aside and rebuilt from what can be read ([`Store::open_checked`]),
/// which the log says in one line.
fn open_for_run(dir: &Path, cancel: &Cancel) -> Result<Store> {
    let (mut store, salvage) = Store::open_checked_with(dir, Utc::now(), cancel)?;
    if let Some(s) = salvage {
        if !s.consent {
            return Err(refused(format!(
                "{} was damaged and has been moved to {}; your consent could not be read from it, so nothing is recorded until you opt in again with `dwell-agent enable`",
                store.path().display(),
                s.moved_to.display()
            )));
        }
        tracing::warn!(detail = %s.detail, "{}", s.note);
    }
    if store.consent()?.is_none() {
        return Err(not_enabled(dir));
    }
    // The per-day rollups the report reads, kept in the local time zone;
    // without them the report counts from the spans (slower, same figures).
    if let Err(e) = store.keep_rollups(chrono::Local) {
        tracing::warn!(error = %e, "cannot keep the per-day totals; reports read the spans");
    }
    Ok(store)
}

/// Whether `e` says the database was found damaged.
fn is_damaged(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        matches!(
            cause.downcast_ref::<StoreError>(),
            Some(StoreError::Damaged { .. })
        )
    })
}

/// A failure to take the lock in `dir`, typed when the employee must act (a
/// read-only disk, a directory that is not theirs, a full disk).
fn unwritable(dir: &Path, e: anyhow::Error) -> anyhow::Error {
    let typed = e
        .chain()
        .find_map(|cause| cause.downcast_ref::<std::io::Error>())
        .and_then(std::io::Error::raw_os_error)
        .map(|code| StoreError::from_io(dir, std::io::Error::from_raw_os_error(code)))
        .filter(StoreError::is_permanent);
    match typed {
        Some(typed) => typed.into(),
        None => e,
    }
}
