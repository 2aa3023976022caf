//! One agent per data directory: an exclusive lock on `agent.lock`, held for the
//! life of the process and released by the OS even after `kill -9`.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use anyhow::{bail, Context, Result};
use dwell_core::paths::LOCK_FILE;

/// Holds the lock while alive.
#[derive(Debug)]
pub struct AgentLock {
    _file: File,
}

fn open(data_dir: &Path) -> Result<File> {
    let path = data_dir.join(LOCK_FILE);
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .mode(0o600)
        .custom_flags(dwell_core::paths::no_follow())
        .open(&path)
        .map_err(|e| dwell_core::paths::explain_link(&path, e))
        .with_context(|| format!("cannot open lock file {}", path.display()))
}

impl AgentLock {
    /// Takes the lock, or explains that another agent has it.
    pub fn acquire(data_dir: &Path) -> Result<AgentLock> {
        let file = open(data_dir)?;
        match file.try_lock() {
            Ok(()) => {
                // Leave our pid for `disable`, which stops a running agent.
                let mut f = &file;
                let _ = f.set_len(0);
                let _ = writeln!(f, "{}", std::process::id());
                Ok(AgentLock { _file: file })
            }
            Err(std::fs::TryLockError::WouldBlock) => bail!(
                "another dwell-agent is already running on {} (stop it first, or use another --data-dir)",
                data_dir.display()
            ),
            Err(std::fs::TryLockError::Error(e)) => Err(e)
                .with_context(|| format!("cannot lock {}", data_dir.join(LOCK_FILE).display())),
        }
    }

    /// Whether an agent currently holds the lock on `data_dir`.
    pub fn is_held(data_dir: &Path) -> bool {
        if !data_dir.join(LOCK_FILE).exists() {
            return false;
        }
        match open(data_dir) {
            Ok(f) => matches!(f.try_lock(), Err(std::fs::TryLockError::WouldBlock)),
            Err(_) => false,
        }
    }
}

/// The pid of the agent holding the lock on `data_dir`, if one is running.
pub fn holder_pid(data_dir: &Path) -> Option<u32> {
    if !AgentLock::is_held(data_dir) {
        return None;
    }
    let mut text = String::new();
    std::io::Read::read_to_string(&mut open(data_dir).ok()?, &mut text).ok()?;
    text.trim().parse().ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

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

    #[test]
    fn the_lock_is_exclusive() {
        let dir = tempfile::tempdir().unwrap();
        let lock = AgentLock::acquire(dir.path()).unwrap();
        assert!(AgentLock::is_held(dir.path()));
        assert_eq!(holder_pid(dir.path()), Some(std::process::id()));
        drop(lock);
        assert!(!AgentLock::is_held(dir.path()));
    }
}
