//! KDE Plasma's KWin: no protocol lets another program see focus, so at start
//! the agent loads a small KWin script (`agent/data/kwin/dwell-focus.js`,
//! embedded) through `org.kde.kwin.Scripting` and runs it; the script reports
//! activations and caption changes to the agent's bus door ([`super::bus`]).
//! The agent unloads it on exit. Idle comes from the Wayland idle protocols
//! ([`super::wayland`]).
//!
//! The script's file lives until the script has reported or is unloaded
//! ([`ScriptFile`]): KWin reads a loaded script's file later, on a worker
//! thread, and silently drops a script whose file is gone by then.
//!
//! The script reports to the unique bus name of the agent that loaded it
//! (`:1.N`, [`script_for`]), not to the well-known `org.dwell.Agent`: an agent
//! killed with `kill -9` cannot unload its script, which KWin keeps running,
//! and a program that took the well-known name then would receive every
//! window title. A unique name is never given again on the same bus, so such
//! a script reaches no one; the next agent unloads it before loading its own.

use std::path::{Path, PathBuf};

use zbus::Connection;

/// KWin's name on the session bus.
pub const BUS_NAME: &str = "org.kde.KWin";
/// The name the script is loaded under.
pub const SCRIPT_NAME: &str = "dwell-focus";
const SCRIPT: &str = include_str!("../../data/kwin/dwell-focus.js");
const SCRIPTING: &str = "org.kde.kwin.Scripting";
/// The line of [`SCRIPT`] naming where it reports.
const SERVICE_LINE: &str = "var DWELL_SERVICE = \"org.dwell.Agent\";";

/// The script, reporting to `unique` (the agent connection's unique name).
fn script_for(unique: &str) -> String {
    SCRIPT.replacen(
        SERVICE_LINE,
        &format!("var DWELL_SERVICE = \"{unique}\";"),
        1,
    )
}

/// Where the script is written for KWin to read: the runtime dir (private to
/// the user), else the temp dir.
fn script_dir() -> PathBuf {
    std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|d| d.is_absolute())
        .unwrap_or_else(std::env::temp_dir)
}

fn script_name(pid: u32) -> String {
    format!("dwell-{pid}-{SCRIPT_NAME}.js")
}

/// The pid in a script file's name, if it is one of ours.
fn script_pid(name: &str) -> Option<u32> {
    name.strip_prefix("dwell-")?
        .strip_suffix(&format!("-{SCRIPT_NAME}.js"))?
        .parse()
        .ok()
}

/// Removes the script files that agents which are gone left behind (killed
/// before the script reported).
fn sweep_stale(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(script_pid) else {
            continue;
        };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// The script's file, kept for KWin to read, removed when dropped (once the
/// script has reported, or when it is unloaded).
#[derive(Debug)]
pub struct ScriptFile(PathBuf);

impl Drop for ScriptFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

async fn call<B>(
    conn: &Connection,
    path: &str,
    iface: &str,
    method: &str,
    body: &B,
) -> zbus::Result<zbus::Message>
where
    B: serde::Serialize + zbus::zvariant::DynamicType,
{
    conn.call_method(Some(BUS_NAME), path, Some(iface), method, body)
        .await
}

/// Loads and runs the script (unloading a stale one left by an agent that
/// died). Its file must be kept until the script has reported.
pub async fn load(conn: &Connection) -> Result<ScriptFile, String> {
    let loaded: bool = call(
        conn,
        "/Scripting",
        SCRIPTING,
        "isScriptLoaded",
        &(SCRIPT_NAME,),
    )
    .await
    .and_then(|r| r.body().deserialize())
    .unwrap_or(false);
    if loaded {
        let _ = call(
            conn,
            "/Scripting",
            SCRIPTING,
            "unloadScript",
            &(SCRIPT_NAME,),
        )
        .await;
    }
    let unique = conn
        .unique_name()
        .ok_or("the session bus gave the agent no unique name")?
        .to_string();
    let dir = script_dir();
    sweep_stale(&dir);
    let path = dir.join(script_name(std::process::id()));
    crate::files::write_private(&path, script_for(&unique))
        .map_err(|e| format!("cannot write the KWin script to {}: {e:#}", path.display()))?;
    let file = ScriptFile(path.clone());
    let path_str = path.to_string_lossy().into_owned();
    let id: i32 = call(
        conn,
        "/Scripting",
        SCRIPTING,
        "loadScript",
        &(path_str.as_str(), SCRIPT_NAME),
    )
    .await
    .and_then(|r| r.body().deserialize())
    .map_err(|e| format!("loadScript: {e}"))?;
    if id < 0 {
        return Err("KWin refused the script (loadScript returned -1)".into());
    }
    // `start` runs every loaded script not yet running. (Running `/N` by the
    // id would be fragile: KWin 5 reuses ids after unloads, and KWin 6 names
    // the object /Scripting/ScriptN.)
    call(conn, "/Scripting", SCRIPTING, "start", &())
        .await
        .map_err(|e| format!("cannot start the loaded KWin script: {e}"))?;
    Ok(file)
}

/// Unloads the script.
pub async fn unload(conn: &Connection) {
    if let Err(e) = call(
        conn,
        "/Scripting",
        SCRIPTING,
        "unloadScript",
        &(SCRIPT_NAME,),
    )
    .await
    {
        tracing::warn!(error = %e, "cannot unload the KWin script");
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_script_reports_to_the_agents_unique_name_only() {
        assert_eq!(SCRIPT.matches(SERVICE_LINE).count(), 1);
        let script = script_for(":1.42");
        assert!(script.contains("var DWELL_SERVICE = \":1.42\";"));
        assert!(!script.contains("\"org.dwell.Agent\""), "{script}");
        assert_eq!(script.matches("callDBus(").count(), 1, "{script}");
        assert!(script.contains("callDBus(DWELL_SERVICE,"), "{script}");
    }

    #[test]
    fn script_files_are_named_by_pid_and_swept_only_when_their_agent_is_gone() {
        assert_eq!(script_pid(&script_name(42)), Some(42));
        assert_eq!(script_pid("dwell-x-dwell-focus.js"), None);
        assert_eq!(script_pid("other.js"), None);
        let dir = tempfile::tempdir().unwrap();
        // Pids above the kernel's limit are never alive.
        let gone = dir.path().join(script_name(4_999_999));
        let mine = dir.path().join(script_name(std::process::id()));
        let other = dir.path().join("notes.js");
        for f in [&gone, &mine, &other] {
            std::fs::write(f, "x").unwrap();
        }
        sweep_stale(dir.path());
        assert!(!gone.exists());
        assert!(mine.exists() && other.exists());
        let file = ScriptFile(mine.clone());
        drop(file);
        assert!(!mine.exists());
    }
}
