//! One agent per data directory: an exclusive lock on `agent.lock`, held for the
//! life of the process and released by the OS even after `kill -9`.
//!
//! The lock file also carries what `status` must learn even when the database
//! cannot be written: the agent's pid and, while writes fail, since when. That
//! record has a fixed length and is rewritten in place, so noting a full disk
//! needs no new disk space.
//!
//! The lock is std's `File::try_lock` on every platform (`flock` on Linux,
//! `LockFileEx` on Windows). Where the record lives and how it is rewritten
//! in place is the platform's (`lock/linux.rs`, `lock/windows.rs`): Windows
//! locks forbid other processes to read the locked file, so there the record
//! is a file of its own beside it.

use std::fs::{File, OpenOptions};
use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use chrono::{DateTime, Utc};
use dwell_core::exit::Refused;
use dwell_core::paths::LOCK_FILE;

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
use linux as os;
#[cfg(windows)]
mod windows;
#[cfg(windows)]
use windows as os;

pub use os::RECORD_FILE;

/// Length of the record in the lock file, in bytes (padded with spaces).
const RECORD_LEN: usize = 96;
/// The record's second line, while writes fail.
const FAILING: &str = "writes-failing-since ";

/// Holds the lock while alive.
#[derive(Debug)]
pub struct AgentLock {
    /// The locked file (on Linux also the record).
    _lock: Arc<File>,
    /// The record's file.
    record: Arc<File>,
}

/// The running agent's handle on its lock file's record, for the run loop.
#[derive(Debug, Clone)]
pub struct HealthNote {
    file: Arc<File>,
}

impl HealthNote {
    /// Records since when writes to the database fail (`None`: they work).
    pub fn writes_failing(&self, since: Option<DateTime<Utc>>) {
        if let Err(e) = write_record(&self.file, std::process::id(), since) {
            tracing::debug!(error = %e, "cannot note the write state in the lock file");
        }
    }
}

/// What the lock file says about the agent holding it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub pid: u32,
    pub writes_failing_since: Option<DateTime<Utc>>,
}

fn record(pid: u32, failing_since: Option<DateTime<Utc>>) -> Vec<u8> {
    let mut text = format!("{pid}\n");
    if let Some(t) = failing_since {
        text.push_str(FAILING);
        text.push_str(&t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        text.push('\n');
    }
    let mut bytes = text.into_bytes();
    bytes.resize(RECORD_LEN - 1, b' ');
    bytes.push(b'\n');
    bytes
}

fn write_record(
    file: &File,
    pid: u32,
    failing_since: Option<DateTime<Utc>>,
) -> std::io::Result<()> {
    os::write_at(file, &record(pid, failing_since), 0)
}

fn parse_record(text: &str) -> Option<Holder> {
    let mut lines = text.lines();
    let pid = lines.next()?.trim().parse().ok()?;
    let writes_failing_since = lines
        .filter_map(|l| l.trim().strip_prefix(FAILING))
        .find_map(|t| DateTime::parse_from_rfc3339(t.trim()).ok())
        .map(|t| t.with_timezone(&Utc));
    Some(Holder {
        pid,
        writes_failing_since,
    })
}

/// The lock file (or the record's, `name`), private, refused (exit 2) when it
/// is a link, a hard link (another name of another file, which the record
/// would overwrite) or a directory.
fn open(data_dir: &Path, name: &str) -> Result<File> {
    let path = data_dir.join(name);
    if let Some(why) = dwell_core::paths::not_own_file(&path) {
        return Err(Refused(why).into());
    }
    let mut options = OpenOptions::new();
    options.create(true).truncate(false).read(true).write(true);
    dwell_core::files::with_mode(&mut options, 0o600);
    dwell_core::files::refuse_links(&mut options);
    let file = options
        .open(&path)
        .map_err(|e| dwell_core::paths::explain_link(&path, e))
        .with_context(|| format!("cannot open lock file {}", path.display()))?;
    // Again on what was opened: a hard link made in between.
    let meta = file
        .metadata()
        .with_context(|| format!("cannot read lock file {}", path.display()))?;
    if let Some(why) = dwell_core::paths::not_own(&path, &meta) {
        return Err(Refused(why).into());
    }
    Ok(file)
}

impl AgentLock {
    /// Takes the lock, or explains that another agent has it.
    pub fn acquire(data_dir: &Path) -> Result<AgentLock> {
        let file = open(data_dir, LOCK_FILE)?;
        match file.try_lock() {
            Ok(()) => {
                let lock = Arc::new(file);
                let record = match RECORD_FILE {
                    LOCK_FILE => Arc::clone(&lock),
                    name => Arc::new(open(data_dir, name)?),
                };
                // Leave our pid for `disable`, which stops a running agent,
                // in a record of fixed length (see [`HealthNote`]).
                let _ = record.set_len(0);
                let _ = write_record(&record, std::process::id(), None);
                Ok(AgentLock {
                    _lock: lock,
                    record,
                })
            }
            Err(std::fs::TryLockError::WouldBlock) => bail!(
                "another dwell-agent is already running on {} (stop it first, or use another --data-dir)",
                data_dir.display()
            ),
            Err(std::fs::TryLockError::Error(e)) => Err(e)
                .with_context(|| format!("cannot lock {}", data_dir.join(LOCK_FILE).display())),
        }
    }

    /// The handle the run loop notes write failures with.
    pub fn health_note(&self) -> HealthNote {
        HealthNote {
            file: Arc::clone(&self.record),
        }
    }

    /// Whether an agent currently holds the lock on `data_dir`.
    pub fn is_held(data_dir: &Path) -> bool {
        if !data_dir.join(LOCK_FILE).exists() {
            return false;
        }
        match open(data_dir, LOCK_FILE) {
            Ok(f) => matches!(f.try_lock(), Err(std::fs::TryLockError::WouldBlock)),
            Err(_) => false,
        }
    }
}

/// The agent holding the lock on `data_dir`, if one is running.
pub fn holder(data_dir: &Path) -> Option<Holder> {
    if !AgentLock::is_held(data_dir) {
        return None;
    }
    let mut text = String::new();
    std::io::Read::read_to_string(&mut open(data_dir, RECORD_FILE).ok()?, &mut text).ok()?;
    parse_record(&text)
}

/// The pid of the agent holding the lock on `data_dir`, if one is running.
pub fn holder_pid(data_dir: &Path) -> Option<u32> {
    holder(data_dir).map(|h| h.pid)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn a_symlinked_lock_file_is_refused_and_its_target_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("precious.txt");
        std::fs::write(&target, "keep me\n").unwrap();
        std::os::unix::fs::symlink(&target, dir.path().join(LOCK_FILE)).unwrap();
        let e = format!("{:#}", AgentLock::acquire(dir.path()).unwrap_err());
        assert!(e.contains("symbolic link"), "{e}");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me\n");
        assert!(!AgentLock::is_held(dir.path()));
        assert_eq!(holder_pid(dir.path()), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_hard_linked_lock_file_is_refused_and_its_other_file_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let other = dir.path().join("precious.txt");
        std::fs::write(&other, "keep me\n").unwrap();
        std::fs::hard_link(&other, dir.path().join(LOCK_FILE)).unwrap();
        let e = AgentLock::acquire(dir.path()).unwrap_err();
        assert_eq!(dwell_core::exit::code(e.chain()), dwell_core::exit::REFUSED);
        assert!(format!("{e:#}").contains("hard link"), "{e:#}");
        assert_eq!(std::fs::read_to_string(&other).unwrap(), "keep me\n");
    }

    #[test]
    fn the_lock_is_exclusive() {
        let dir = tempfile::tempdir().unwrap();
        let lock = AgentLock::acquire(dir.path()).unwrap();
        assert!(AgentLock::is_held(dir.path()));
        assert_eq!(holder_pid(dir.path()), Some(std::process::id()));
        drop(lock);
        assert!(!AgentLock::is_held(dir.path()));
    }

    #[test]
    fn write_failures_are_noted_in_place_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let lock = AgentLock::acquire(dir.path()).unwrap();
        let path = dir.path().join(RECORD_FILE);
        let len = std::fs::metadata(&path).unwrap().len();
        assert_eq!(
            holder(dir.path()).unwrap().writes_failing_since,
            None,
            "a fresh agent has no failure"
        );
        let since = DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        lock.health_note().writes_failing(Some(since));
        // Same length: rewritten in place, no new disk space needed.
        assert_eq!(std::fs::metadata(&path).unwrap().len(), len);
        let h = holder(dir.path()).unwrap();
        assert_eq!(h.pid, std::process::id());
        assert_eq!(h.writes_failing_since, Some(since));
        lock.health_note().writes_failing(None);
        assert_eq!(holder(dir.path()).unwrap().writes_failing_since, None);
    }

    #[test]
    fn an_old_lock_file_with_only_a_pid_still_reads() {
        assert_eq!(
            parse_record("1234\n"),
            Some(Holder {
                pid: 1234,
                writes_failing_since: None
            })
        );
        assert_eq!(parse_record("garbage"), None);
    }
}
