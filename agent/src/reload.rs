//! Live configuration: watches the config file with inotify (event-driven, no
//! polling) and tells the run loop when it may have changed. The run loop then
//! looks at it with [`Live::look`]; an invalid file is refused and the
//! previous config stays in force. The file is read once per look, and a file
//! found empty where the config in force was not (an in-place save caught
//! between truncate and write) is taken only if it is still empty
//! [`EMPTY_SETTLES`] later.
//!
//! [`spawn_zone_watcher`] watches `/etc/localtime` the same way, so that a
//! change of the system's time zone moves the recording hours at once.
//!
//! The file's *directory* is watched, because editors usually save by writing
//! a new file and renaming it over the old one. When the directory does not
//! exist yet (no config file: built-in defaults), nothing is watched; a
//! `SIGUSR1` (sent by `dwell-agent setup`, `pause` and `resume`) reloads too.
//!
//! On Windows the directory is watched with `ReadDirectoryChangesW`
//! (`reload/windows.rs`, the same `spawn_file_watcher`); there is no
//! `/etc/localtime` to watch.

#[cfg(target_os = "linux")]
use std::ffi::OsString;
use std::path::{Path, PathBuf};
#[cfg(target_os = "linux")]
use std::thread;
use std::time::Duration;

use dwell_core::config::ConfigError;
use dwell_core::Config;
#[cfg(target_os = "linux")]
use inotify::{Inotify, WatchMask};
use tokio::sync::mpsc;

#[cfg(windows)]
mod windows;
#[cfg(windows)]
use windows::spawn_file_watcher;

/// Editors fire several events per save; one reload after they settle is enough.
const SETTLE: Duration = Duration::from_millis(150);

/// The file naming the system's time zone, which `chrono::Local` reads.
pub const LOCALTIME: &str = "/etc/localtime";

/// Starts a thread that sends `()` each time the config file may have changed.
/// Returns `false` (and starts nothing) when the directory cannot be watched.
pub fn spawn_watcher(path: &Path, tx: mpsc::Sender<()>) -> bool {
    if !path.parent().is_some_and(Path::is_dir) {
        tracing::info!(
            "the config directory does not exist; live reload is off until a restart or SIGUSR1"
        );
        return false;
    }
    spawn_file_watcher(path, SETTLE, tx)
}

/// Starts a thread that sends `()` each time the system's time zone
/// ([`LOCALTIME`], usually a symbolic link replaced by `timedatectl`) may
/// have changed, at once: the run loop then looks at the recording hours
/// again. Returns `false` when `/etc` cannot be watched.
pub fn spawn_zone_watcher(tx: mpsc::Sender<()>) -> bool {
    spawn_file_watcher(Path::new(LOCALTIME), Duration::ZERO, tx)
}

/// Watches `path`'s directory for `path` being written, replaced or removed;
/// sends `()` `settle` after each batch of such events.
#[cfg(target_os = "linux")]
fn spawn_file_watcher(path: &Path, settle: Duration, tx: mpsc::Sender<()>) -> bool {
    let Some(dir) = path.parent().filter(|d| d.is_dir()) else {
        return false;
    };
    let Some(name) = path.file_name().map(|n| n.to_os_string()) else {
        return false;
    };
    let inotify = match Inotify::init() {
        Ok(i) => i,
        Err(e) => {
            tracing::warn!(error = %e, file = %path.display(), "cannot use inotify; changes to this file are seen only on SIGUSR1 or a restart");
            return false;
        }
    };
    let mask = WatchMask::CLOSE_WRITE
        | WatchMask::MOVED_TO
        | WatchMask::CREATE
        | WatchMask::DELETE
        | WatchMask::MOVED_FROM;
    if let Err(e) = inotify.watches().add(dir, mask) {
        tracing::warn!(error = %e, dir = %dir.display(), "cannot watch this directory; changes are seen only on SIGUSR1 or a restart");
        return false;
    }
    let dir: PathBuf = dir.to_owned();
    let spawned = thread::Builder::new()
        .name("dwell-file-watch".into())
        .spawn(move || watch(inotify, &name, settle, &tx, &dir));
    spawned.is_ok()
}

#[cfg(target_os = "linux")]
fn watch(
    mut inotify: Inotify,
    name: &OsString,
    settle: Duration,
    tx: &mpsc::Sender<()>,
    dir: &Path,
) {
    let mut buffer = [0u8; 4096];
    loop {
        let mut events = match inotify.read_events_blocking(&mut buffer) {
            Ok(events) => events,
            Err(e) => {
                tracing::warn!(error = %e, dir = %dir.display(), "file watch stopped");
                return;
            }
        };
        let ours = events.any(|e| e.name.is_some_and(|n| n == name.as_os_str()));
        if ours {
            thread::sleep(settle);
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

/// How long a config file found empty (or gone) where the one in force was
/// not must stay so before it is taken: an in-place save (truncate, then
/// write) empties the file for a moment, and an empty file is a valid config
/// (the built-in defaults).
pub const EMPTY_SETTLES: Duration = Duration::from_millis(300);

/// The config file as last taken in: its path and the fingerprint of the
/// very text the config in force was parsed from.
#[derive(Debug)]
pub struct Live {
    path: PathBuf,
    print: String,
}

/// What a look at the config file found.
#[derive(Debug)]
pub enum Look {
    /// The same text as the config in force.
    Unchanged,
    /// A new, valid config.
    Take(Box<Config>),
    /// An invalid (or unreadable) file: the config in force stays.
    Refused(ConfigError),
    /// Empty (or gone) where the config in force was not: look again after
    /// [`EMPTY_SETTLES`], and take it then if it still is.
    Settle,
}

impl Live {
    /// `config` is in force, read from `path`.
    pub fn new(path: PathBuf, config: &Config) -> Live {
        let print = fingerprint(&path, config.reminders.messages_file.as_deref());
        Live { path, print }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the file once and decides from that one text: the config taken
    /// and the fingerprint kept always match (reading the file a second time
    /// for the fingerprint could see another moment of a burst of saves).
    /// `settled`: an empty file is taken without waiting any more.
    pub fn look(&mut self, settled: bool) -> Look {
        let text = match dwell_core::config::read_text_file(&self.path) {
            Ok(text) => Some(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => {
                return Look::Refused(ConfigError::Read {
                    path: self.path.clone(),
                    source,
                })
            }
        };
        let blank = |t: &str| t.split('\0').next().unwrap_or("").trim().is_empty();
        if !settled && text.as_deref().is_none_or(blank) && !blank(&self.print) {
            return Look::Settle;
        }
        match self.parse(text) {
            Ok((_, print)) if print == self.print => Look::Unchanged,
            Ok((config, print)) => {
                self.print = print;
                Look::Take(Box::new(config))
            }
            Err(e) => Look::Refused(e),
        }
    }

    /// The config in `text` (`None`: no file, the built-in defaults) with the
    /// messages file it names, and their fingerprint.
    fn parse(&self, text: Option<String>) -> Result<(Config, String), ConfigError> {
        let Some(mut print) = text else {
            return Ok((Config::default(), String::new()));
        };
        let mut config = Config::parse(&print, &self.path)?;
        if let Some(file) = config.reminders.messages_file.take() {
            let file = match self.path.parent() {
                Some(dir) if file.is_relative() => dir.join(file),
                _ => file,
            };
            let text =
                dwell_core::config::read_text_file(&file).map_err(|source| ConfigError::Read {
                    path: file.clone(),
                    source,
                })?;
            let more = dwell_core::config::parse_messages_file(&text, &file)?;
            config.reminders.messages.extend(more);
            config.reminders.messages_file = Some(file);
            print.push('\0');
            print.push_str(&text);
        }
        Ok((config, print))
    }
}

/// Reads the config at `path` again (a missing file means the built-in
/// defaults). The error names the file, line and key (see [`log_refused`]).
pub fn reload(path: &Path) -> Result<Config, ConfigError> {
    Config::load_or_default(path)
}

/// The config for a restart of the loop (after a damaged database was set
/// aside): the file as it is now, or `previous` when it is refused (logged as
/// on a reload) or there is no file to read (`path` is `None`).
pub fn for_restart(path: Option<&Path>, previous: Config) -> Config {
    let Some(path) = path else {
        return previous;
    };
    match reload(path) {
        Ok(config) => config,
        Err(e) => {
            log_refused(&e);
            previous
        }
    }
}

/// Logs a refused config: its file, line and key at warn; the message and
/// the source line, which may quote a site, only at debug. (`status` shows
/// the whole message: it is the employee's own terminal, not a log.)
pub fn log_refused(e: &ConfigError) {
    match e {
        ConfigError::Invalid {
            path, line, column, ..
        } => {
            let key = dwell_core::config::read_text_file(path)
                .ok()
                .and_then(|text| key_at(&text, *line));
            tracing::warn!(
                file = %path.display(),
                line,
                column,
                key = key.as_deref().unwrap_or("?"),
                "the changed config is refused; the previous one stays in force (`dwell-agent status` shows why)"
            );
        }
        ConfigError::Read { path, source } => tracing::warn!(
            file = %path.display(),
            error = %source,
            "the changed config cannot be read; the previous one stays in force"
        ),
    }
    tracing::debug!(error = %e, "the refused config");
}

/// The dotted key set on line `line` (1-based) of TOML `text`, e.g.
/// `limits.daily`: the table header above it and the bare key before `=`.
/// `None` when the line sets no bare key (the key may then be a site).
fn key_at(text: &str, line: usize) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let bare = |k: &str| {
        !k.is_empty()
            && k.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    };
    let own = lines.get(line.checked_sub(1)?)?;
    let key = own
        .split_once('=')
        .map(|(k, _)| k.trim())
        .filter(|k| bare(k));
    let table = lines[..line]
        .iter()
        .rev()
        .map(|l| l.trim())
        .find(|l| l.starts_with('['))
        .map(|l| l.trim_matches(|c| c == '[' || c == ']').trim())
        .filter(|t| bare(t));
    match (table, key) {
        (Some(t), Some(k)) => Some(format!("{t}.{k}")),
        (None, Some(k)) => Some(k.to_owned()),
        (Some(t), None) => Some(t.to_owned()),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::thread;

    #[test]
    fn reload_refuses_a_broken_file_and_accepts_a_fixed_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        assert!(reload(&path).is_ok(), "a missing file means defaults");
        std::fs::write(&path, "[limits]\ndaily = \"soon\"\n").unwrap();
        let err = reload(&path).unwrap_err().to_string();
        assert!(err.contains("config.toml:2"), "{err}");
        std::fs::write(&path, "[limits]\ndaily = \"20m\"\n").unwrap();
        let config = reload(&path).unwrap();
        assert_eq!(config.limits.daily, Duration::from_secs(20 * 60));
    }

    #[test]
    fn the_key_of_a_refused_line_is_its_table_and_bare_key() {
        let text = "[limits]\ndaily = \"x\"\n[[rules]]\nsite = \"a.example\"\n\"b.example\" = 1\n";
        assert_eq!(key_at(text, 2).as_deref(), Some("limits.daily"));
        assert_eq!(key_at(text, 4).as_deref(), Some("rules.site"));
        // A quoted key may be a site: only its table is named.
        assert_eq!(key_at(text, 5).as_deref(), Some("rules"));
        assert_eq!(key_at(text, 9), None);
    }

    /// A writer saves in place (truncate, then write) in a burst while the
    /// loop looks: an empty moment is never taken, and what is taken is
    /// always one whole save with its own fingerprint.
    #[test]
    fn a_burst_of_in_place_saves_never_puts_the_defaults_in_force() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let saves = ["[limits]\ndaily = \"20m\"\n", "[limits]\ndaily = \"25m\"\n"];
        std::fs::write(&path, saves[0]).unwrap();
        let mut live = Live::new(path.clone(), &reload(&path).unwrap());
        let writer = {
            let path = path.clone();
            thread::spawn(move || {
                use std::io::Write;
                for i in 0..300 {
                    let mut file = std::fs::File::create(&path).unwrap();
                    thread::sleep(Duration::from_micros(200));
                    file.write_all(saves[i % 2].as_bytes()).unwrap();
                }
            })
        };
        let mut settles = 0;
        while !writer.is_finished() {
            match live.look(false) {
                Look::Take(config) => assert!(
                    [20, 25].contains(&(config.limits.daily.as_secs() / 60)),
                    "{:?}",
                    config.limits
                ),
                Look::Settle => settles += 1,
                Look::Unchanged | Look::Refused(_) => {}
            }
        }
        writer.join().unwrap();
        // The last save is what is in force once the watcher's last event comes.
        let last = match live.look(false) {
            Look::Take(config) => config.limits.daily,
            Look::Unchanged => reload(&path).unwrap().limits.daily,
            other => panic!("{other:?}"),
        };
        assert_eq!(last, Duration::from_secs(25 * 60), "{settles} settles");
        assert!(matches!(live.look(false), Look::Unchanged));
    }

    /// After a damaged database is set aside the loop starts again: with the
    /// config as the file says now, or the one in force when it is refused.
    #[test]
    fn a_restart_takes_the_edited_config_and_keeps_the_previous_on_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "[limits]\ndaily = \"20m\"\n").unwrap();
        let first = reload(&path).unwrap();
        std::fs::write(&path, "[limits]\ndaily = \"25m\"\n").unwrap();
        let edited = for_restart(Some(&path), first);
        assert_eq!(edited.limits.daily, Duration::from_secs(25 * 60));
        std::fs::write(&path, "[limits]\ndaily = \"soon\"\n").unwrap();
        let kept = for_restart(Some(&path), edited);
        assert_eq!(kept.limits.daily, Duration::from_secs(25 * 60));
        let none = for_restart(None, kept);
        assert_eq!(none.limits.daily, Duration::from_secs(25 * 60));
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

    /// `timedatectl set-timezone` replaces the `/etc/localtime` symbolic link
    /// by renaming a new one over it; `ln -sf` removes and creates it.
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn a_replaced_zone_link_wakes_the_watcher() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("localtime");
        std::os::unix::fs::symlink("/usr/share/zoneinfo/Asia/Tokyo", &link).unwrap();
        let (tx, mut rx) = mpsc::channel(4);
        assert!(spawn_file_watcher(&link, Duration::ZERO, tx));
        let tmp = dir.path().join(".localtime.new");
        std::os::unix::fs::symlink("/usr/share/zoneinfo/UTC", &tmp).unwrap();
        std::fs::rename(&tmp, &link).unwrap();
        let woke = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await;
        assert_eq!(woke.ok().flatten(), Some(()));
        std::fs::remove_file(&link).unwrap();
        std::os::unix::fs::symlink("/usr/share/zoneinfo/Europe/Paris", &link).unwrap();
        let woke = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await;
        assert_eq!(woke.ok().flatten(), Some(()));
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
