//! Who may speak to the agent, and to whom dwell's programs speak: the pure
//! rules behind the door ([`super::bus`]) and the native host, fed facts the
//! bus gives (a message's sender, a name's owner, a connection's process).
//!
//! - `Focus` only from the current owner of `org.kde.KWin` (KWin backend) or
//!   `org.gnome.Shell` (GNOME backend): the KWin script and the GNOME
//!   extension run inside those processes' connections.
//! - `Tab`, `PauseResult` and `PauseResultFor` ([`host_only`]) only from a
//!   connection whose process is `dwell-native-host` (or `dwell-agent`,
//!   which can act as the host).
//! - Signals only from the owner of the name that defines them: logind's from
//!   `org.freedesktop.login1`, a screen saver's from that screen saver's name,
//!   Mutter's idle watches and the shell's extension state from the shell's
//!   names, `NameOwnerChanged`, `NameAcquired` and `NameLost` from the bus
//!   itself. Match rules name the sender too, but unicast signals bypass match
//!   rules: the sender is always checked here.
//! - The other way, the GNOME extension and the native host send only to an
//!   owner of `org.dwell.Agent` whose process is `dwell-agent`.

use std::collections::HashMap;
use std::path::Path;

use zbus::Connection;

/// The bus daemon's own name: the sender of `NameOwnerChanged` and friends.
pub const BUS: &str = "org.freedesktop.DBus";
/// logind's name on the system bus.
pub const LOGIN1: &str = "org.freedesktop.login1";

/// The program names of dwell's native-messaging host: the small host
/// program, and the agent, which acts as the host when a browser starts it.
/// `comm` keeps 15 bytes: `dwell-native-ho` is how the host's looks.
const HOST_PROGRAMS: [&str; 3] = ["dwell-native-host", "dwell-native-ho", "dwell-agent"];

/// Who owns the names the agent listens to, as last told by the bus
/// (`GetNameOwner`, then `NameOwnerChanged`).
#[derive(Debug, Default, Clone)]
pub struct Owners(HashMap<String, String>);

impl Owners {
    /// Notes that `name` is now owned by `owner` (empty: by no one).
    pub fn set(&mut self, name: &str, owner: &str) {
        if owner.is_empty() {
            self.0.remove(name);
        } else {
            self.0.insert(name.to_owned(), owner.to_owned());
        }
    }

    /// The unique name owning `name`, if any.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// Whether `sender` owns `name` now.
    pub fn owns(&self, sender: Option<&str>, name: &str) -> bool {
        matches!((sender, self.get(name)), (Some(s), Some(o)) if s == o)
    }
}

/// The well-known name whose owner alone may send the signal `iface.member`
/// (`None`: a signal the agent does not take from anyone).
pub fn signal_owner(iface: &str, member: &str) -> Option<&'static str> {
    match (iface, member) {
        (BUS, "NameOwnerChanged" | "NameAcquired" | "NameLost") => Some(BUS),
        ("org.freedesktop.ScreenSaver", "ActiveChanged") => Some("org.freedesktop.ScreenSaver"),
        ("org.gnome.ScreenSaver", "ActiveChanged") => Some("org.gnome.ScreenSaver"),
        ("org.gnome.Mutter.IdleMonitor", "WatchFired") => Some("org.gnome.Mutter.IdleMonitor"),
        ("org.gnome.Shell.Extensions", "ExtensionStateChanged") => Some("org.gnome.Shell"),
        ("org.freedesktop.login1.Manager", "PrepareForSleep")
        | ("org.freedesktop.login1.Session", "Lock" | "Unlock")
        | ("org.freedesktop.DBus.Properties", "PropertiesChanged") => Some(LOGIN1),
        _ => None,
    }
}

/// Whether a signal `iface.member` from `sender` is taken: only from the
/// current owner of the name that defines it ([`signal_owner`]); the bus's
/// own signals only from the bus.
pub fn signal_allowed(iface: &str, member: &str, sender: Option<&str>, owners: &Owners) -> bool {
    match signal_owner(iface, member) {
        Some(BUS) => sender == Some(BUS),
        Some(name) => owners.owns(sender, name),
        None => false,
    }
}

/// Whether a `Focus` call from `sender` is taken: only from the owner of the
/// compositor's name (`compositor`: `org.kde.KWin` or `org.gnome.Shell`, `None`
/// for backends that do not take focus reports).
pub fn focus_allowed(sender: Option<&str>, compositor: Option<&str>, owners: &Owners) -> bool {
    compositor.is_some_and(|name| owners.owns(sender, name))
}

/// The door's methods that only dwell's native host may call: the tab
/// reports and the pause page's choice, with or without its page.
const HOST_METHODS: [&str; 3] = ["Tab", "PauseResult", "PauseResultFor"];

/// Whether the door's method `member` is taken only from dwell's native host
/// (a caller whose process [`is_native_host`]).
pub fn host_only(member: &str) -> bool {
    HOST_METHODS.contains(&member)
}

/// Whether a process named `program` may report tabs and pause page choices
/// (the [`host_only`] methods).
pub fn is_native_host(program: Option<&str>) -> bool {
    program.is_some_and(|p| HOST_PROGRAMS.contains(&p))
}

/// Whether a process named `program` is the agent.
pub fn is_agent(program: Option<&str>) -> bool {
    program == Some("dwell-agent")
}

/// A process's program name: the file name of its `/proc/PID/exe` link
/// (without the ` (deleted)` the kernel adds when the file was replaced), else
/// its `comm` (when the link cannot be read, as for another user's process).
pub fn program_name(exe: Option<&Path>, comm: Option<&str>) -> Option<String> {
    let from_exe = exe
        .and_then(Path::file_name)
        .and_then(|n| n.to_str())
        .map(|n| n.trim_end_matches(" (deleted)").to_owned());
    from_exe
        .or_else(|| comm.map(|c| c.trim_end_matches('\n').to_owned()))
        .filter(|n| !n.is_empty())
}

/// The program name of process `pid`, read from `/proc`.
pub fn program_of(pid: u32) -> Option<String> {
    let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok();
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok();
    program_name(exe.as_deref(), comm.as_deref())
}

/// The process behind a bus connection (`GetConnectionUnixProcessID`), by
/// unique or well-known name.
pub async fn pid_of(conn: &Connection, name: &str) -> zbus::Result<u32> {
    conn.call_method(
        Some(BUS),
        "/org/freedesktop/DBus",
        Some(BUS),
        "GetConnectionUnixProcessID",
        &(name,),
    )
    .await?
    .body()
    .deserialize::<u32>()
}

/// The program behind a bus connection, if the bus and `/proc` say.
pub async fn program_behind(conn: &Connection, name: &str) -> Option<String> {
    pid_of(conn, name).await.ok().and_then(program_of)
}

/// The unique name owning `name`, if any.
pub async fn owner_of(conn: &Connection, name: &str) -> Option<String> {
    conn.call_method(
        Some(BUS),
        "/org/freedesktop/DBus",
        Some(BUS),
        "GetNameOwner",
        &(name,),
    )
    .await
    .ok()?
    .body()
    .deserialize::<String>()
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owners(pairs: &[(&str, &str)]) -> Owners {
        let mut o = Owners::default();
        for (name, owner) in pairs {
            o.set(name, owner);
        }
        o
    }

    #[test]
    fn logind_signals_only_from_logind() {
        let o = owners(&[(LOGIN1, ":1.5")]);
        for (iface, member) in [
            ("org.freedesktop.login1.Manager", "PrepareForSleep"),
            ("org.freedesktop.login1.Session", "Lock"),
            ("org.freedesktop.login1.Session", "Unlock"),
            ("org.freedesktop.DBus.Properties", "PropertiesChanged"),
        ] {
            assert!(signal_allowed(iface, member, Some(":1.5"), &o), "{member}");
            assert!(!signal_allowed(iface, member, Some(":1.6"), &o), "{member}");
            assert!(!signal_allowed(iface, member, None, &o), "{member}");
            // No logind: no one speaks for it.
            assert!(!signal_allowed(
                iface,
                member,
                Some(":1.5"),
                &Owners::default()
            ));
        }
    }

    #[test]
    fn screen_saver_signals_only_from_that_screen_saver() {
        let o = owners(&[("org.freedesktop.ScreenSaver", ":1.9")]);
        let fdo = "org.freedesktop.ScreenSaver";
        assert!(signal_allowed(fdo, "ActiveChanged", Some(":1.9"), &o));
        assert!(!signal_allowed(fdo, "ActiveChanged", Some(":1.10"), &o));
        // The GNOME screen saver's signal needs the GNOME name's owner.
        let gnome = "org.gnome.ScreenSaver";
        assert!(!signal_allowed(gnome, "ActiveChanged", Some(":1.9"), &o));
        let mut o = o;
        o.set(gnome, ":1.9");
        assert!(signal_allowed(gnome, "ActiveChanged", Some(":1.9"), &o));
        // The owner left.
        o.set(fdo, "");
        assert!(!signal_allowed(fdo, "ActiveChanged", Some(":1.9"), &o));
    }

    #[test]
    fn bus_signals_only_from_the_bus() {
        let o = owners(&[(BUS, ":1.1")]);
        for member in ["NameOwnerChanged", "NameAcquired", "NameLost"] {
            assert!(signal_allowed(BUS, member, Some(BUS), &o));
            assert!(!signal_allowed(BUS, member, Some(":1.1"), &o));
            assert!(!signal_allowed(BUS, member, None, &o));
        }
        assert!(!signal_allowed("org.example", "Anything", Some(BUS), &o));
    }

    #[test]
    fn shell_signals_only_from_the_shell() {
        let o = owners(&[
            ("org.gnome.Shell", ":1.2"),
            ("org.gnome.Mutter.IdleMonitor", ":1.2"),
        ]);
        assert!(signal_allowed(
            "org.gnome.Shell.Extensions",
            "ExtensionStateChanged",
            Some(":1.2"),
            &o
        ));
        assert!(!signal_allowed(
            "org.gnome.Mutter.IdleMonitor",
            "WatchFired",
            Some(":1.3"),
            &o
        ));
    }

    #[test]
    fn focus_only_from_the_compositor() {
        let o = owners(&[("org.kde.KWin", ":1.4"), ("org.gnome.Shell", ":1.7")]);
        assert!(focus_allowed(Some(":1.4"), Some("org.kde.KWin"), &o));
        assert!(!focus_allowed(Some(":1.7"), Some("org.kde.KWin"), &o));
        assert!(!focus_allowed(Some(":1.8"), Some("org.gnome.Shell"), &o));
        assert!(focus_allowed(Some(":1.7"), Some("org.gnome.Shell"), &o));
        assert!(!focus_allowed(Some(":1.4"), None, &o));
        assert!(!focus_allowed(None, Some("org.kde.KWin"), &o));
    }

    #[test]
    fn tabs_and_pause_choices_only_from_dwells_host() {
        for m in ["Tab", "PauseResult", "PauseResultFor"] {
            assert!(host_only(m), "{m}");
        }
        for m in ["Focus", "pauseresultfor", "PauseResultFo", "", "Tabs"] {
            assert!(!host_only(m), "{m}");
        }
    }

    #[test]
    fn tabs_only_from_dwells_host() {
        assert!(is_native_host(Some("dwell-native-host")));
        assert!(is_native_host(Some("dwell-native-ho")));
        assert!(is_native_host(Some("dwell-agent")));
        for other in ["python3", "dwell-native-hostile", "", "dwell"] {
            assert!(!is_native_host(Some(other)), "{other}");
        }
        assert!(!is_native_host(None));
        assert!(is_agent(Some("dwell-agent")));
        assert!(!is_agent(Some("dwell-native-host")));
        assert!(!is_agent(Some("python3")));
    }

    #[test]
    fn program_names_come_from_exe_then_comm() {
        let exe = Path::new("/usr/bin/dwell-agent");
        assert_eq!(
            program_name(Some(exe), Some("x\n")).as_deref(),
            Some("dwell-agent")
        );
        let replaced = Path::new("/t/debug/dwell-native-host (deleted)");
        assert_eq!(
            program_name(Some(replaced), None).as_deref(),
            Some("dwell-native-host")
        );
        assert_eq!(
            program_name(None, Some("dwell-native-ho\n")).as_deref(),
            Some("dwell-native-ho")
        );
        assert_eq!(program_name(None, Some("\n")), None);
        assert_eq!(program_name(None, None), None);
        // This test's own process is not the agent.
        assert!(!is_agent(program_of(std::process::id()).as_deref()));
    }
}
