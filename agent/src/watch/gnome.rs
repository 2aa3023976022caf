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

/// `None` when dwell's extension is enabled in the running shell; otherwise
/// what the employee should do, said once in the log and shown by `status`.
pub async fn extension_hint(conn: &Connection) -> Option<String> {
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
        });
    match info {
        Some(info) if is_enabled(&info) => None,
        _ => Some(missing_hint()),
    }
}

/// Whether an extension's info (`GetExtensionInfo`, `ExtensionStateChanged`)
/// says it is enabled: `state` 1 is ENABLED (ACTIVE from Shell 45 on).
pub fn is_enabled(info: &HashMap<String, zbus::OwnedVariant>) -> bool {
    info.get("state").and_then(|v| f64::try_from(v).ok()) == Some(1.0)
}

/// What to do when the extension is missing.
pub fn missing_hint() -> String {
    format!(
        "GNOME Shell does not run dwell's focus extension ({EXTENSION_UUID}), so dwell cannot see which window has focus: run `dwell-agent gnome-extension install`, then log out and back in (on Wayland GNOME Shell loads new extensions only at log-in)"
    )
}
