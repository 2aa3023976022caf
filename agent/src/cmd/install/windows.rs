//! `dwell-agent install` / `uninstall` on Windows: start the agent at log-in
//! for this user, through the value `dwell` under
//! `HKCU\Software\Microsoft\Windows\CurrentVersion\Run` (no administrator
//! rights, nothing for other users). The value is the command line of
//! `dwell-agent-background.exe` next to this executable (the same `run`, built
//! for the `windows` subsystem, so no console window opens at log-in) with
//! `run` and the data directory and config file if they were given, as on
//! Linux; without that program beside it (a bare `cargo build` of this one),
//! this executable itself, and a console opens at log-in: said so.
//! `--method systemd` is refused (Linux's); `--no-start` writes the value and
//! starts nothing now.
//!
//! `install` also registers dwell's AppUserModelID ([`crate::notify::APP_ID`])
//! for this user, `HKCU\Software\Classes\AppUserModelId\<id>` with
//! `DisplayName` and, when `dwell.ico` is beside the program (the MSI, the
//! zip), `IconUri`: Windows then shows dwell's toasts under its own name and
//! icon, not PowerShell's. `uninstall --all` removes it with the rest of
//! what dwell set up; a plain `uninstall` only stops the start at log-in, so
//! the key the MSI wrote (and removes itself) stays while dwell is installed.

use std::ffi::OsStr;
use std::os::windows::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result};
use winreg::enums::HKEY_CURRENT_USER;
use winreg::RegKey;

use super::{consented, exec_line, InstallArgs, Method, UninstallArgs};
use crate::cmd::{data_dir, refused, Global};
use crate::lock::AgentLock;
use crate::notify::app_id_key;

/// The key Windows runs at each log-in of this user.
pub const RUN_KEY: &str = r"Software\Microsoft\Windows\CurrentVersion\Run";
/// dwell's value under it.
pub const RUN_VALUE: &str = "dwell";

/// The windowless program the Run value starts, beside `dwell-agent.exe`.
pub const BACKGROUND_EXE: &str = "dwell-agent-background.exe";

/// The name Windows shows on dwell's toasts.
pub const DISPLAY_NAME: &str = "dwell";
/// dwell's icon, beside the programs in the MSI and the zip.
pub const ICON: &str = "dwell.ico";

/// Registers dwell's AppUserModelID for this user: its name, and `icon` (or
/// none: Windows shows a default one).
pub fn register_app_id(icon: Option<&Path>) -> Result<()> {
    let path = app_id_key();
    let (key, _) = RegKey::predef(HKEY_CURRENT_USER)
        .create_subkey(&path)
        .with_context(|| format!(r"cannot open HKCU\{path}"))?;
    key.set_value("DisplayName", &DISPLAY_NAME)
        .with_context(|| format!(r"cannot write HKCU\{path}\DisplayName"))?;
    match icon {
        Some(icon) => key
            .set_value("IconUri", &icon.to_string_lossy().into_owned())
            .with_context(|| format!(r"cannot write HKCU\{path}\IconUri"))?,
        None => match key.delete_value("IconUri") {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(e).with_context(|| format!(r"cannot remove HKCU\{path}\IconUri"))
            }
            _ => {}
        },
    }
    Ok(())
}

/// Removes dwell's AppUserModelID registration; `false` when there was none.
pub fn unregister_app_id() -> Result<bool> {
    let path = app_id_key();
    match RegKey::predef(HKEY_CURRENT_USER).delete_subkey_all(&path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e).with_context(|| format!(r"cannot remove HKCU\{path}")),
    }
}

/// `CREATE_NO_WINDOW | DETACHED_PROCESS`: the agent started now has no
/// console of its own and outlives this command.
const DETACHED: u32 = 0x0800_0000 | 0x0000_0008;

/// One argument quoted for a Windows command line, as `CommandLineToArgvW`
/// reads it back: in double quotes when it holds a space, a tab or a quote
/// (or is empty), with backslashes doubled before a quote.
pub fn quote(arg: &str) -> String {
    if !arg.is_empty() && !arg.contains([' ', '\t', '"']) {
        return arg.to_owned();
    }
    let mut out = String::from("\"");
    let mut backslashes = 0;
    for c in arg.chars() {
        match c {
            '\\' => backslashes += 1,
            '"' => {
                out.extend(std::iter::repeat_n('\\', backslashes * 2 + 1));
                out.push('"');
                backslashes = 0;
                continue;
            }
            _ => {}
        }
        if c != '\\' {
            out.extend(std::iter::repeat_n('\\', backslashes));
            backslashes = 0;
            out.push(c);
        }
    }
    out.extend(std::iter::repeat_n('\\', backslashes * 2));
    out.push('"');
    out
}

/// The command line of the Run value for `exec`.
pub fn command_line(exec: &[String]) -> String {
    exec.iter().map(|a| quote(a)).collect::<Vec<_>>().join(" ")
}

/// The program to start at log-in for the agent at `exe`: the windowless
/// [`BACKGROUND_EXE`] beside it when it is there, else `exe` itself.
pub fn windowless(exe: &Path) -> Option<PathBuf> {
    let background = exe.with_file_name(BACKGROUND_EXE);
    background.is_file().then_some(background)
}

/// This user's Run key, opened to read and write.
fn run_key() -> Result<RegKey> {
    let (key, _) = RegKey::predef(HKEY_CURRENT_USER)
        .create_subkey(RUN_KEY)
        .with_context(|| format!(r"cannot open HKCU\{RUN_KEY}"))?;
    Ok(key)
}

/// The Run value's command line, if dwell has one.
pub fn run_value() -> Result<Option<String>> {
    match run_key()?.get_value::<String, _>(OsStr::new(RUN_VALUE)) {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!(r"cannot read HKCU\{RUN_KEY}\{RUN_VALUE}")),
    }
}

pub fn install(cli: &Global, args: &InstallArgs) -> Result<()> {
    if args.method == Method::Systemd {
        return Err(refused(
            "systemd is Linux's: on Windows dwell starts at log-in from this user's Run key (`dwell-agent install`)",
        ));
    }
    let mut exec = exec_line(cli)?;
    let icon = Path::new(&exec[0]).with_file_name(ICON);
    let background = windowless(Path::new(&exec[0]));
    if let Some(b) = &background {
        exec[0] = b.to_string_lossy().into_owned();
    }
    let line = command_line(&exec);
    run_key()?.set_value(RUN_VALUE, &line).with_context(|| {
        format!(r"cannot write HKCU\{RUN_KEY}\{RUN_VALUE}; nothing was installed")
    })?;
    println!(
        r"Wrote the value {RUN_VALUE} under HKCU\{RUN_KEY}: dwell starts at your next log-in."
    );
    // Only the name on its toasts: a failure leaves them under PowerShell's.
    match register_app_id(icon.is_file().then_some(icon.as_path())) {
        Ok(()) => println!(
            r"Registered dwell's name for its notifications under HKCU\{}.",
            app_id_key()
        ),
        Err(e) => println!("(Notifications will show under PowerShell's name: {e:#}.)"),
    }
    if background.is_none() {
        println!(
            "({BACKGROUND_EXE} is not beside dwell-agent.exe: a console window will open for the agent at log-in, and closing it stops the agent. The MSI and the zip ship both.)"
        );
    }
    let dir = data_dir(cli)?;
    if AgentLock::is_held(&dir) {
        println!("(An agent is already running now.)");
    } else if args.no_start {
        println!("Start it now with `dwell-agent run`, or log out and in again.");
    } else if consented(&dir) {
        Command::new(&exec[0])
            .args(&exec[1..])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .creation_flags(DETACHED)
            .spawn()
            .context("cannot start the agent now (it starts at your next log-in)")?;
        println!("dwell is running now.");
    } else {
        println!("Nothing is recorded until you opt in with `dwell-agent setup`.");
    }
    Ok(())
}

pub fn uninstall(_cli: &Global, args: &UninstallArgs) -> Result<()> {
    let key = run_key()?;
    match key.delete_value(RUN_VALUE) {
        Ok(()) => println!(
            r"Removed the value {RUN_VALUE} under HKCU\{RUN_KEY}: dwell no longer starts at log-in (a running agent stops with `dwell-agent disable` or at log-out)."
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            println!("dwell was not set to start at log-in; nothing to remove.")
        }
        Err(e) => {
            return Err(e).with_context(|| format!(r"cannot remove HKCU\{RUN_KEY}\{RUN_VALUE}"))
        }
    }
    if args.all {
        if unregister_app_id()? {
            println!(
                r"Removed dwell's name for its notifications (HKCU\{}).",
                app_id_key()
            );
        }
        if crate::browser::remove_all_hosts()? == 0 {
            println!("No browser host registration to remove.");
        }
        println!(
            "Your recorded data and config stay (`dwell-agent disable --erase` deletes the data); dwell can be uninstalled now."
        );
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_quoted_as_windows_reads_them() {
        assert_eq!(
            quote(r"C:\dwell\dwell-agent.exe"),
            r"C:\dwell\dwell-agent.exe"
        );
        assert_eq!(
            quote(r"C:\Program Files\dwell\dwell-agent.exe"),
            r#""C:\Program Files\dwell\dwell-agent.exe""#
        );
        assert_eq!(quote(""), r#""""#);
        assert_eq!(quote(r#"say "hi""#), r#""say \"hi\"""#);
        assert_eq!(quote(r"C:\my data\"), r#""C:\my data\\""#);
        assert_eq!(quote(r#"a\"b c"#), r#""a\\\"b c""#);
        assert_eq!(
            command_line(&["C:\\a b\\x.exe".into(), "run".into()]),
            r#""C:\a b\x.exe" run"#
        );
    }

    /// The Run value starts the windowless program when it is beside the
    /// agent, the agent itself when not.
    #[test]
    fn the_windowless_program_beside_the_agent_is_chosen() {
        let dir = tempfile::tempdir().unwrap();
        let agent = dir.path().join("dwell-agent.exe");
        std::fs::write(&agent, b"").unwrap();
        assert_eq!(windowless(&agent), None);
        std::fs::write(dir.path().join(BACKGROUND_EXE), b"").unwrap();
        assert_eq!(windowless(&agent), Some(dir.path().join(BACKGROUND_EXE)));
    }

    /// A value of dwell's AppUserModelID registration, if there.
    fn app_id_value(name: &str) -> Option<String> {
        RegKey::predef(HKEY_CURRENT_USER)
            .open_subkey(app_id_key())
            .ok()?
            .get_value::<String, _>(name)
            .ok()
    }

    /// The Run value is written with this executable, `run` and the data
    /// directory given, read back as written, and removed by `uninstall`
    /// (in the test's own Wine prefix, or this user's registry).
    #[test]
    fn install_writes_the_run_value_and_uninstall_removes_it() {
        let home = tempfile::tempdir().unwrap();
        let data = home.path().join("my data");
        let g = Global {
            data_dir: Some(data.clone()),
            config: None,
        };
        let args = InstallArgs {
            method: Method::Auto,
            no_start: true,
        };
        install(&g, &args).unwrap();
        assert_eq!(app_id_value("DisplayName").as_deref(), Some("dwell"));
        let value = run_value().unwrap().unwrap();
        let exe = std::env::current_exe().unwrap();
        assert!(value.starts_with(&quote(&exe.to_string_lossy())), "{value}");
        assert!(
            value.ends_with(&format!(
                " run --data-dir {}",
                quote(&data.to_string_lossy())
            )),
            "{value}"
        );
        uninstall(&g, &UninstallArgs { all: false }).unwrap();
        assert_eq!(run_value().unwrap(), None);
        assert_eq!(
            app_id_value("DisplayName").as_deref(),
            Some("dwell"),
            "a plain uninstall leaves the name (the MSI's, while installed)"
        );
        uninstall(&g, &UninstallArgs { all: true }).unwrap();
        assert_eq!(app_id_value("DisplayName"), None, "registration removed");
        // Twice: nothing to remove, no error.
        uninstall(&g, &UninstallArgs { all: true }).unwrap();
        let systemd = InstallArgs {
            method: Method::Systemd,
            no_start: true,
        };
        assert!(install(&g, &systemd).is_err());
        assert_eq!(run_value().unwrap(), None);
        // (One test with the above: both write the same key.) The icon is
        // given when there is one, dropped when not; the key goes whole.
        register_app_id(Some(Path::new(r"C:\dwell\dwell.ico"))).unwrap();
        assert_eq!(
            app_id_value("IconUri").as_deref(),
            Some(r"C:\dwell\dwell.ico")
        );
        register_app_id(None).unwrap();
        assert_eq!(app_id_value("IconUri"), None);
        assert_eq!(app_id_value("DisplayName").as_deref(), Some(DISPLAY_NAME));
        assert!(unregister_app_id().unwrap());
        assert!(!unregister_app_id().unwrap());
    }
}
