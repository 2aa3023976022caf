//! Where dwell keeps things by default: `$XDG_CONFIG_HOME/dwell/config.toml` and
//! `$XDG_DATA_HOME/dwell/` on Unix, `%APPDATA%\dwell\config.toml` and
//! `%LOCALAPPDATA%\dwell\` on Windows (the user's profile: private to them,
//! see `files/windows.rs`). Both binaries let `--config`/`DWELL_CONFIG` and
//! `--data-dir`/`DWELL_DATA_DIR` override these.

use std::path::{Path, PathBuf};

use crate::exit::Refused;

#[cfg(unix)]
pub use crate::files::no_follow;
pub use crate::files::{explain_link, not_own, not_own_file};
/// Name of the database file inside the data directory.
pub use crate::store::DB_FILE;
/// Name of the single-instance lock file inside the data directory.
pub const LOCK_FILE: &str = "agent.lock";

#[cfg(unix)]
fn xdg(var: &str, fallback: &str) -> Option<PathBuf> {
    match std::env::var_os(var) {
        Some(v) if !v.is_empty() && PathBuf::from(&v).is_absolute() => Some(PathBuf::from(v)),
        _ => std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(|h| PathBuf::from(h).join(fallback)),
    }
}

/// A Windows known folder from its environment variable (`%APPDATA%`,
/// `%LOCALAPPDATA%`), when set to an absolute path.
#[cfg(windows)]
fn known_folder(var: &str) -> Option<PathBuf> {
    std::env::var_os(var)
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
}

/// `$XDG_CONFIG_HOME/dwell/config.toml` (or `~/.config/dwell/config.toml`);
/// `%APPDATA%\dwell\config.toml` on Windows.
pub fn default_config_file() -> Option<PathBuf> {
    config_home().map(|d| d.join("dwell").join("config.toml"))
}

/// `$XDG_DATA_HOME/dwell` (or `~/.local/share/dwell`); `%LOCALAPPDATA%\dwell`
/// on Windows.
pub fn default_data_dir() -> Option<PathBuf> {
    #[cfg(unix)]
    let home = xdg("XDG_DATA_HOME", ".local/share");
    #[cfg(windows)]
    let home = known_folder("LOCALAPPDATA");
    home.map(|d| d.join("dwell"))
}

/// What to set when there is no default data directory.
#[cfg(unix)]
const SET_DATA_HOME: &str = "set HOME, XDG_DATA_HOME or --data-dir";
#[cfg(windows)]
const SET_DATA_HOME: &str = "set LOCALAPPDATA or --data-dir";

/// The data directory: the one given (`--data-dir`, `DWELL_DATA_DIR`), else
/// the default; refused when there is neither.
pub fn data_dir(given: Option<&Path>) -> Result<PathBuf, Refused> {
    given
        .map(Path::to_path_buf)
        .or_else(default_data_dir)
        .ok_or_else(|| {
            Refused(format!(
                "cannot tell where dwell keeps data: {SET_DATA_HOME}"
            ))
        })
}

/// The config file: the one given (`--config`, `DWELL_CONFIG`), else the
/// default; `None` when there is no home to find it in.
pub fn config_file(given: Option<&Path>) -> Option<PathBuf> {
    given.map(Path::to_path_buf).or_else(default_config_file)
}

/// The config in force: the file ([`config_file`]) when it exists, else the
/// built-in defaults (`setup` or an editor may create it later; a running
/// agent then picks it up). A file that does not check is refused.
pub fn load_config(given: Option<&Path>) -> Result<crate::Config, Refused> {
    match config_file(given) {
        Some(p) => crate::Config::load_or_default(&p).map_err(|e| Refused(e.to_string())),
        None => Ok(crate::Config::default()),
    }
}

/// `$XDG_CONFIG_HOME` (or `~/.config`): where the systemd user unit and the XDG
/// autostart entry go; `%APPDATA%` (the roaming profile) on Windows.
pub fn config_home() -> Option<PathBuf> {
    #[cfg(unix)]
    return xdg("XDG_CONFIG_HOME", ".config");
    #[cfg(windows)]
    return known_folder("APPDATA");
}
