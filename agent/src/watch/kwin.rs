//! KDE Plasma's KWin: no protocol lets another program see focus, so at start
//! the agent loads a small KWin script (`agent/data/kwin/dwell-focus.js`,
//! embedded) through `org.kde.kwin.Scripting` and runs it; the script reports
//! activations and caption changes to the agent's bus door ([`super::bus`]).
//! The agent unloads it on exit. Idle comes from the Wayland idle protocols
//! ([`super::wayland`]).

use std::path::PathBuf;

use zbus::Connection;

/// KWin's name on the session bus.
pub const BUS_NAME: &str = "org.kde.KWin";
/// The name the script is loaded under.
pub const SCRIPT_NAME: &str = "dwell-focus";
const SCRIPT: &str = include_str!("../../data/kwin/dwell-focus.js");
const SCRIPTING: &str = "org.kde.kwin.Scripting";

/// Where the script is written for KWin to read: the runtime dir (private to
/// the user), else the temp dir.
fn script_path() -> PathBuf {
    let dir = std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|d| d.is_absolute())
        .unwrap_or_else(std::env::temp_dir);
    dir.join(format!("dwell-{}-{SCRIPT_NAME}.js", std::process::id()))
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

/// Loads and runs the script (unloading a stale one left by an agent that died).
pub async fn load(conn: &Connection) -> Result<(), String> {
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
    let path = script_path();
    crate::cmd::write_private(&path, SCRIPT)
        .map_err(|e| format!("cannot write the KWin script to {}: {e:#}", path.display()))?;
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
    let started = call(conn, "/Scripting", SCRIPTING, "start", &()).await;
    let _ = std::fs::remove_file(&path);
    started
        .map(|_| ())
        .map_err(|e| format!("cannot start the loaded KWin script: {e}"))
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
