//! GNOME Shell: focus comes from dwell's small Shell extension (installed with
//! `dwell-agent gnome-extension install`, see [`crate::cmd::gnome_extension`]) through
//! the agent's bus door ([`super::bus`]); this module checks that the extension
//! is there and runs the idle source, `org.gnome.Mutter.IdleMonitor`.
//!
//! Idle: one idle watch at [`super::PUSH_AFTER`] (it fires each time input has
//! stopped that long) and, while idle, a user-active watch (it fires once, at the
//! next input). Both belong to the bus thread's one long-lived connection and
//! vanish with it; they are armed again when GNOME Shell comes back.

use std::collections::HashMap;

use zbus::Connection;

pub use super::{ExtensionReport, ExtensionState};
use super::{PushedIdle, PUSH_AFTER};

/// GNOME Shell's name on the session bus.
pub const SHELL: &str = "org.gnome.Shell";
/// The extension's UUID.
pub const EXTENSION_UUID: &str = "dwell-focus@dwell";

/// Mutter's idle monitor's name on the session bus (owned by the shell's
/// process, registered a little after `org.gnome.Shell`).
pub const MUTTER: &str = "org.gnome.Mutter.IdleMonitor";
/// The shell's extensions interface (its `ExtensionStateChanged` signal).
pub const EXTENSIONS_IFACE: &str = "org.gnome.Shell.Extensions";
/// The match rule for `ExtensionStateChanged`.
pub const EXTENSION_RULE: &str =
    "type='signal',sender='org.gnome.Shell',interface='org.gnome.Shell.Extensions',member='ExtensionStateChanged'";
const CORE: &str = "/org/gnome/Mutter/IdleMonitor/Core";
/// Mutter's idle monitor interface (its `WatchFired` signal).
pub const IDLE_IFACE: &str = "org.gnome.Mutter.IdleMonitor";
/// The match rule for `WatchFired`.
pub const WATCH_RULE: &str =
    "type='signal',sender='org.gnome.Mutter.IdleMonitor',interface='org.gnome.Mutter.IdleMonitor',member='WatchFired'";

/// Mutter's watches on our connection.
#[derive(Debug, Default)]
pub struct Watches {
    idle: Option<u32>,
    active: Option<u32>,
}

impl Watches {
    /// Reads the current idle time and arms the watches.
    pub async fn arm(&mut self, conn: &Connection, idle: &PushedIdle) -> zbus::Result<()> {
        *self = Watches::default();
        let ms: u64 = conn
            .call_method(Some(MUTTER), CORE, Some(IDLE_IFACE), "GetIdletime", &())
            .await?
            .body()
            .deserialize()?;
        let id: u32 = conn
            .call_method(
                Some(MUTTER),
                CORE,
                Some(IDLE_IFACE),
                "AddIdleWatch",
                &(PUSH_AFTER.as_millis() as u64,),
            )
            .await?
            .body()
            .deserialize()?;
        self.idle = Some(id);
        let now = tokio::time::Instant::now();
        let idle_for = std::time::Duration::from_millis(ms);
        idle.connected();
        if idle_for >= PUSH_AFTER {
            idle.idled_at(now - (idle_for - PUSH_AFTER));
            self.watch_active(conn).await?;
        } else {
            idle.resumed_at(now.checked_sub(idle_for).unwrap_or(now));
        }
        tracing::info!("idle time from Mutter's idle monitor");
        Ok(())
    }

    async fn watch_active(&mut self, conn: &Connection) -> zbus::Result<()> {
        let id: u32 = conn
            .call_method(
                Some(MUTTER),
                CORE,
                Some(IDLE_IFACE),
                "AddUserActiveWatch",
                &(),
            )
            .await?
            .body()
            .deserialize()?;
        self.active = Some(id);
        Ok(())
    }

    /// A watch fired: updates `idle`; `true` when it was one of ours.
    pub async fn fired(&mut self, conn: &Connection, idle: &PushedIdle, id: u32) -> bool {
        if Some(id) == self.idle {
            idle.idled();
            // Fires once: wait for the next input.
            if let Err(e) = self.watch_active(conn).await {
                tracing::warn!(error = %e, "cannot arm Mutter's user-active watch");
            }
            true
        } else if Some(id) == self.active {
            self.active = None;
            idle.resumed();
            true
        } else {
            false
        }
    }
}

/// How the extension's state is read and told (the type is in `watch/mod.rs`).
impl ExtensionReport {
    /// The extension runs (it has just reported focus).
    pub fn active() -> Self {
        ExtensionReport {
            state: ExtensionState::Active,
            error: None,
        }
    }

    /// Reads an extension's info (`GetExtensionInfo`, `ExtensionStateChanged`;
    /// empty when the shell does not know the extension). `installed` says
    /// whether its files are on disk. The shell's states: 1 ACTIVE (ENABLED
    /// before 45), 2 INACTIVE, 3 ERROR, 4 OUT_OF_DATE, 5 DOWNLOADING,
    /// 6 INITIALIZED, 7 DEACTIVATING, 8 ACTIVATING, 99 UNINSTALLED.
    pub fn from_info(info: &HashMap<String, zbus::OwnedVariant>, installed: bool) -> Self {
        let state = info.get("state").and_then(|v| f64::try_from(v).ok());
        let error = info
            .get("error")
            .and_then(|v| String::try_from(v.clone()).ok())
            .map(|e| e.trim().to_owned())
            .filter(|e| !e.is_empty());
        let unknown = if installed {
            ExtensionState::NotLoaded
        } else {
            ExtensionState::Missing
        };
        let state = match state.map(|s| s as i64) {
            Some(1 | 8) => ExtensionState::Active,
            Some(2 | 6 | 7) => ExtensionState::Disabled,
            Some(3) => ExtensionState::Error,
            Some(4) => ExtensionState::OutOfDate,
            _ => unknown,
        };
        let error = match state {
            ExtensionState::Error => {
                Some(error.unwrap_or_else(|| "no reason given by the shell".to_owned()))
            }
            _ => None,
        };
        ExtensionReport { state, error }
    }

    /// `None` when focus is seen; otherwise what the employee should do, said
    /// once in the log and shown by `status`. `shell` is the running shell's
    /// version, when known.
    pub fn hint(&self, shell: Option<&str>) -> Option<String> {
        let shell = shell.map_or_else(|| "GNOME Shell".to_owned(), |v| format!("GNOME Shell {v}"));
        let again = "run `dwell-agent gnome-extension install` again, then log out and back in";
        Some(match self.state {
            ExtensionState::Active => return None,
            ExtensionState::Missing => missing_hint(),
            ExtensionState::NotLoaded => format!(
                "dwell's focus extension ({EXTENSION_UUID}) is installed but {shell} has not loaded it yet, so dwell cannot see which window has focus: log out and back in (on Wayland GNOME Shell reads new extensions only at log-in)"
            ),
            ExtensionState::Disabled => format!(
                "dwell's focus extension ({EXTENSION_UUID}) is switched off in {shell}, so dwell cannot see which window has focus: switch it on in the Extensions app, or run `dwell-agent gnome-extension install` again (it switches it on)"
            ),
            ExtensionState::OutOfDate => format!(
                "{shell} does not load dwell's focus extension ({EXTENSION_UUID}): the installed copy does not name this version of the shell, so dwell cannot see which window has focus; {again} (it adds this version)"
            ),
            ExtensionState::Error => format!(
                "{shell} could not run dwell's focus extension ({EXTENSION_UUID}): {}; {again}, and if it persists, report it with this message",
                self.error.as_deref().unwrap_or("no reason given")
            ),
        })
    }
}

/// Whether the extension's files are installed for this user or for everyone.
pub fn installed_on_disk() -> bool {
    let user = dwell_core::paths::default_data_dir()
        .and_then(|d| d.parent().map(std::path::PathBuf::from))
        .map(|d| d.join("gnome-shell/extensions").join(EXTENSION_UUID));
    let system = ["/usr/local/share", "/usr/share"].map(|d| {
        std::path::Path::new(d)
            .join("gnome-shell/extensions")
            .join(EXTENSION_UUID)
    });
    user.into_iter()
        .chain(system)
        .any(|d| d.join("metadata.json").exists())
}

/// What the running shell says of dwell's extension, and the shell's version.
pub async fn extension_report(conn: &Connection) -> (ExtensionReport, Option<String>) {
    let info = conn
        .call_method(
            Some(SHELL),
            "/org/gnome/Shell",
            Some(EXTENSIONS_IFACE),
            "GetExtensionInfo",
            &(EXTENSION_UUID,),
        )
        .await
        .ok()
        .and_then(|reply| {
            reply
                .body()
                .deserialize::<HashMap<String, zbus::OwnedVariant>>()
                .ok()
        })
        .unwrap_or_default();
    let version = conn
        .call_method(
            Some(SHELL),
            "/org/gnome/Shell",
            Some("org.freedesktop.DBus.Properties"),
            "Get",
            &("org.gnome.Shell", "ShellVersion"),
        )
        .await
        .ok()
        .and_then(|reply| reply.body().deserialize::<zbus::OwnedVariant>().ok())
        .and_then(|v| String::try_from(v).ok());
    (
        ExtensionReport::from_info(&info, installed_on_disk()),
        version,
    )
}

/// What to do when the extension is missing.
pub fn missing_hint() -> String {
    format!(
        "GNOME Shell does not run dwell's focus extension ({EXTENSION_UUID}), so dwell cannot see which window has focus: run `dwell-agent gnome-extension install`, then log out and back in (on Wayland GNOME Shell loads new extensions only at log-in)"
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use zbus::{OwnedVariant, Variant};

    fn info(state: Option<f64>, error: Option<&str>) -> HashMap<String, zbus::OwnedVariant> {
        let mut m = HashMap::new();
        if let Some(s) = state {
            m.insert(
                "state".to_owned(),
                OwnedVariant::try_from(Variant::F64(s)).unwrap(),
            );
        }
        if let Some(e) = error {
            m.insert(
                "error".to_owned(),
                OwnedVariant::try_from(Variant::from(e)).unwrap(),
            );
        }
        m
    }

    #[test]
    fn each_shell_state_says_what_to_do() {
        let cases = [
            (Some(1.0), None, true, ExtensionState::Active),
            (Some(8.0), None, true, ExtensionState::Active),
            (Some(2.0), None, true, ExtensionState::Disabled),
            (Some(6.0), None, true, ExtensionState::Disabled),
            (
                Some(3.0),
                Some("TypeError: x is undefined"),
                true,
                ExtensionState::Error,
            ),
            (Some(4.0), None, true, ExtensionState::OutOfDate),
            (None, None, true, ExtensionState::NotLoaded),
            (Some(99.0), None, true, ExtensionState::NotLoaded),
            (None, None, false, ExtensionState::Missing),
        ];
        for (state, error, installed, want) in cases {
            let r = ExtensionReport::from_info(&info(state, error), installed);
            assert_eq!(r.state, want, "{state:?}");
            match want {
                ExtensionState::Active => assert_eq!(r.hint(Some("50.5")), None),
                _ => {
                    let hint = r.hint(Some("50.5")).unwrap();
                    assert!(hint.contains(EXTENSION_UUID), "{hint}");
                }
            }
        }
        let err = ExtensionReport::from_info(&info(Some(3.0), Some("TypeError: x")), true);
        assert_eq!(err.error.as_deref(), Some("TypeError: x"));
        assert!(err.hint(None).unwrap().contains("TypeError: x"));
        let old = ExtensionReport::from_info(&info(Some(4.0), Some("ignored")), true);
        assert_eq!(old.error, None);
        assert!(old.hint(Some("51.0")).unwrap().contains("GNOME Shell 51.0"));
        assert!(ExtensionReport::from_info(&info(None, None), true)
            .hint(None)
            .unwrap()
            .contains("log out and back in"));
    }

    #[test]
    fn the_report_reads_as_the_status_contract_says() {
        let r = ExtensionReport {
            state: ExtensionState::OutOfDate,
            error: None,
        };
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"state":"out-of-date","error":null}"#
        );
        let all = [
            (ExtensionState::Active, "active"),
            (ExtensionState::Error, "error"),
            (ExtensionState::Disabled, "disabled"),
            (ExtensionState::NotLoaded, "not-loaded"),
            (ExtensionState::Missing, "missing"),
        ];
        for (state, name) in all {
            assert_eq!(serde_json::to_value(state).unwrap(), name);
        }
    }
}
