//! Live configuration: watches the config file with inotify (event-driven, no
//! polling) and tells the run loop when it may have changed. The run loop then
//! reloads it with [`reload`]; an invalid file is refused and the previous
//! config stays in force.
//!
//! The file's *directory* is watched, because editors usually save by writing
//! a new file and renaming it over the old one. When the directory does not
//! exist yet (no config file: built-in defaults), nothing is watched; a
//! `SIGUSR1` (sent by `dwell-agent setup`, `pause` and `resume`) reloads too.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::Duration;

use dwell_core::Config;
use inotify::{Inotify, WatchMask};
use tokio::sync::mpsc;

/// Editors fire several events per save; one reload after they settle is enough.
const SETTLE: Duration = Duration::from_millis(150);

/// Starts a thread that sends `()` each time the config file may have changed.
/// Returns `false` (and starts nothing) when the directory cannot be watched.
pub fn spawn_watcher(path: &Path, tx: mpsc::Sender<()>) -> bool {
    let Some(dir) = path.parent().filter(|d| d.is_dir()) else {
        tracing::info!(
            "the config directory does not exist; live reload is off until a restart or SIGUSR1"
        );
        return false;
    };
    let Some(name) = path.file_name().map(|n| n.to_os_string()) else {
        return false;
    };
    let inotify = match Inotify::init() {
        Ok(i) => i,
        Err(e) => {
            tracing::warn!(error = %e, "cannot use inotify; the config is not reloaded live");
            return false;
        }
    };
    let mask = WatchMask::CLOSE_WRITE
        | WatchMask::MOVED_TO
        | WatchMask::CREATE
        | WatchMask::DELETE
        | WatchMask::MOVED_FROM;
    if let Err(e) = inotify.watches().add(dir, mask) {
        tracing::warn!(error = %e, dir = %dir.display(), "cannot watch the config directory");
        return false;
    }
    let dir: PathBuf = dir.to_owned();
    let spawned = thread::Builder::new()
        .name("dwell-config-watch".into())
        .spawn(move || watch(inotify, &name, &tx, &dir));
    spawned.is_ok()
}

fn watch(mut inotify: Inotify, name: &OsString, tx: &mpsc::Sender<()>, dir: &Path) {
    let mut buffer = [0u8; 4096];
    loop {
        let mut events = match inotify.read_events_blocking(&mut buffer) {
            Ok(events) => events,
            Err(e) => {
                tracing::warn!(error = %e, dir = %dir.display(), "config watch stopped");
                return;
            }
        };
        let ours = events.any(|e| e.name.is_some_and(|n| n == name.as_os_str()));
        if ours {
            thread::sleep(SETTLE);
            if tx.blocking_send(()).is_err() {
                return; // the run loop has ended
            }
        }
    }
}

/// What a reload depends on: the config file's text and, when the config
/// names one, the messages file's ("" for a file that cannot be read). When it
/// has not changed, a reload would change nothing.
pub fn fingerprint(path: &Path, messages_file: Option<&Path>) -> String {
    let read = |p: &Path| dwell_core::config::read_text_file(p).unwrap_or_default();
    let mut text = read(path);
    if let Some(file) = messages_file {
        text.push('\0');
        text.push_str(&read(file));
    }
    text
}

/// Reads the config at `path` again (a missing file means the built-in
/// defaults). `Err` holds a message naming the file, line and key.
pub fn reload(path: &Path) -> Result<Config, String> {
    Config::load_or_default(path).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reload_refuses_a_broken_file_and_accepts_a_fixed_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        assert!(reload(&path).is_ok(), "a missing file means defaults");
        std::fs::write(&path, "[limits]\ndaily = \"soon\"\n").unwrap();
        let err = reload(&path).unwrap_err();
        assert!(err.contains("config.toml:2"), "{err}");
        std::fs::write(&path, "[limits]\ndaily = \"20m\"\n").unwrap();
        let config = reload(&path).unwrap();
        assert_eq!(config.limits.daily, Duration::from_secs(20 * 60));
    }

    #[test]
    fn the_fingerprint_covers_the_messages_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let messages = dir.path().join("messages.toml");
        std::fs::write(&path, "[reminders]\nmessages_file = \"messages.toml\"\n").unwrap();
        std::fs::write(&messages, "a").unwrap();
        let before = fingerprint(&path, Some(&messages));
        assert_eq!(fingerprint(&path, Some(&messages)), before);
        std::fs::write(&messages, "b").unwrap();
        assert_ne!(fingerprint(&path, Some(&messages)), before);
        assert_ne!(fingerprint(&path, None), before);
    }

    #[tokio::test]
    async fn a_saved_file_wakes_the_watcher() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let (tx, mut rx) = mpsc::channel(4);
        assert!(spawn_watcher(&path, tx));
        // Save the way editors do: write elsewhere, rename over.
        let tmp = dir.path().join(".config.toml.swp");
        std::fs::write(&tmp, "[limits]\ndaily = \"20m\"\n").unwrap();
        std::fs::rename(&tmp, &path).unwrap();
        let woke = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await;
        assert_eq!(woke.ok().flatten(), Some(()));
        // Other files in the directory do not count.
        std::fs::write(dir.path().join("other.txt"), "x").unwrap();
        let woke = tokio::time::timeout(Duration::from_millis(500), rx.recv()).await;
        assert!(woke.is_err());
    }
}
