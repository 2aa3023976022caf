//! dwell's browser extension, seen from the agent:
//!
//! - **Which browser** ([`family`]): Chromium, Chrome, Brave, Edge, Vivaldi and Firefox
//!   windows by class or app id, and the browser that started the
//!   native-messaging host by its process name ([`host_browser`]).
//! - **What each connected extension said** ([`Browsers`]): the run loop keeps
//!   the last tab facts per browser while that browser's native-messaging host
//!   is on the bus, so a focused browser window counts by host name instead of
//!   by title. `status` shows the list ([`Browsers::status_json`]).
//! - **`dwell-agent browser install|uninstall`**: the native-messaging host
//!   manifests (`org.dwell.agent.json`) in each browser's per-user directory,
//!   or in `DIR/NativeMessagingHosts/` with `--profile-dir DIR`, and a copy of
//!   the extension in the data directory to load from. The manifests run
//!   `dwell-native-host`, the small host program installed next to
//!   `dwell-agent` ([`host_program`]); `dwell-agent` itself still serves as
//!   the host for manifests written before it existed.
//!
//! The extension's sources live in `extension/` and are embedded here; its
//! fixed public `key` makes its id [`EXTENSION_ID`] wherever it is loaded.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand, ValueEnum};
use dwell_core::WindowInfo;
use serde::{Deserialize, Serialize};

use crate::door::TabFacts;
use crate::files::write_private;
use dwell_cli::Global;

/// Windows: the manifests registered under `HKCU` instead of directories.
pub mod registry;

/// The native-messaging host's name (the manifest's file name without `.json`).
pub const HOST_NAME: &str = "org.dwell.agent";
/// The Chromium-family extension id, from the `key` in `extension/manifest.json`
/// (the first 32 hex digits of the key's SHA-256, `0-f` written `a-p`).
pub const EXTENSION_ID: &str = "mdbmdcjahoajldikneojnlbokdlmghlk";
/// The native-messaging host program (`agent/src/bin/dwell-native-host.rs`),
/// installed next to `dwell-agent`.
pub const HOST_PROGRAM: &str = "dwell-native-host";
/// The Firefox extension id (`browser_specific_settings.gecko.id`).
pub const GECKO_ID: &str = "dwell-site@dwell.invalid";

const MANIFEST: &str = include_str!("../../extension/manifest.json");
const FIREFOX_MANIFEST: &str = include_str!("../../extension/firefox/manifest.json");
const BACKGROUND: &str = include_str!("../../extension/background.js");
/// The pause page (`[reminders] pause_page`): an extension page, its script and
/// its style in files of their own (Manifest V3 allows no inline script).
const PAUSE_FILES: [(&str, &str); 3] = [
    ("pause.html", include_str!("../../extension/pause.html")),
    ("pause.js", include_str!("../../extension/pause.js")),
    ("pause.css", include_str!("../../extension/pause.css")),
];

/// The browsers dwell knows, by the name `status` and `--browser` use.
pub const BROWSERS: [&str; 6] = ["chromium", "chrome", "brave", "edge", "vivaldi", "firefox"];

/// The browser a window class, app id or process name belongs to.
pub fn family(name: &str) -> Option<&'static str> {
    let name = name.trim().to_ascii_lowercase();
    // `chromium (/tmp/profile)`: the instance of a Chromium with --user-data-dir.
    let first = name
        .split(|c: char| c.is_whitespace() || c == '(')
        .next()
        .unwrap_or("");
    // Flatpak-style app ids: `com.brave.Browser`, `org.mozilla.firefox`.
    let last = match first {
        "com.brave.browser" => "brave",
        "com.microsoft.edge" => "edge",
        _ => first.rsplit('.').next().unwrap_or(first),
    };
    Some(match last {
        "chromium" | "chromium-browser" => "chromium",
        "chrome"
        | "google-chrome"
        | "google-chrome-stable"
        | "google-chrome-beta"
        | "google-chrome-unstable" => "chrome",
        "brave" | "brave-browser" | "brave-browser-beta" | "brave-browser-nightly" => "brave",
        "edge"
        | "msedge"
        | "microsoft-edge"
        | "microsoft-edge-stable"
        | "microsoft-edge-beta"
        | "microsoft-edge-dev" => "edge",
        "vivaldi" | "vivaldi-stable" | "vivaldi-snapshot" | "vivaldi-bin" => "vivaldi",
        "firefox" | "firefox-esr" | "firefox-bin" | "firefox-beta" | "firefox-nightly" => "firefox",
        _ => return None,
    })
}

/// The browser a window belongs to, by class, then instance.
pub fn window_browser(window: &WindowInfo) -> Option<&'static str> {
    family(&window.class).or_else(|| family(&window.instance))
}

/// The browser that started the native-messaging host: by its parent's process
/// name, else by the arguments (a Chromium-family browser passes its caller's
/// `chrome-extension://` origin, Firefox a manifest path and an extension id).
pub fn host_browser(parent_comm: Option<&str>, args: &[String]) -> &'static str {
    if let Some(b) = parent_comm.and_then(family) {
        return b;
    }
    if args.iter().any(|a| a.starts_with("chrome-extension://")) {
        "chromium"
    } else {
        "firefox"
    }
}

/// Whether the command line is a browser starting the native-messaging host
/// directly (the manifest's `path` is this executable, with no subcommand):
/// `dwell-agent chrome-extension://ID/` or `dwell-agent /path/org.dwell.agent.json ID`.
pub fn started_by_browser(args: &[String]) -> bool {
    match args.get(1) {
        Some(a) if a.starts_with("chrome-extension://") => true,
        Some(a) => {
            a.starts_with('/') && a.ends_with(&format!("{HOST_NAME}.json")) && args.get(2).is_some()
        }
        None => false,
    }
}

/// What one browser's extension last said.
#[derive(Debug, Clone)]
struct Seen {
    facts: TabFacts,
    last_seen: DateTime<Utc>,
    /// The bus names of this browser's native-messaging hosts still running.
    hosts: BTreeSet<String>,
}

/// The extension's facts per browser, while its native-messaging host runs.
#[derive(Debug, Default, Clone)]
pub struct Browsers {
    seen: BTreeMap<&'static str, Seen>,
}

/// One line of `status --json` `browsers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrowserStatus {
    pub browser: String,
    pub connected: bool,
    /// RFC 3339, UTC.
    pub last_seen: String,
}

impl Browsers {
    /// A report from `browser` through the host on bus name `sender`; `true`
    /// when the browser was not connected before.
    pub fn tab(
        &mut self,
        browser: &str,
        sender: &str,
        facts: TabFacts,
        now: DateTime<Utc>,
    ) -> bool {
        let Some(browser) = family(browser) else {
            return false;
        };
        let seen = self.seen.entry(browser).or_insert_with(|| Seen {
            facts: TabFacts::default(),
            last_seen: now,
            hosts: BTreeSet::new(),
        });
        let was = !seen.hosts.is_empty();
        seen.facts = facts;
        seen.last_seen = now;
        seen.hosts.insert(sender.to_owned());
        !was
    }

    /// The host on bus name `sender` is gone; `true` when its browser is now
    /// disconnected.
    pub fn gone(&mut self, sender: &str) -> bool {
        let mut changed = false;
        for seen in self.seen.values_mut() {
            if seen.hosts.remove(sender) && seen.hosts.is_empty() {
                changed = true;
            }
        }
        changed
    }

    /// The facts for a focused window, when it belongs to a browser whose
    /// extension is connected.
    pub fn for_window(&self, window: &WindowInfo) -> Option<&TabFacts> {
        let seen = self.seen.get(window_browser(window)?)?;
        (!seen.hosts.is_empty()).then_some(&seen.facts)
    }

    /// The list `status --json` shows as `browsers`.
    pub fn status(&self) -> Vec<BrowserStatus> {
        self.seen
            .iter()
            .map(|(browser, seen)| BrowserStatus {
                browser: (*browser).to_owned(),
                connected: !seen.hosts.is_empty(),
                last_seen: seen.last_seen.to_rfc3339(),
            })
            .collect()
    }

    /// [`Browsers::status`] as JSON, for the store's `meta` table.
    pub fn status_json(&self) -> String {
        serde_json::to_string(&self.status()).unwrap_or_else(|_| "[]".into())
    }
}

/// `--browser`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Which {
    Chromium,
    Chrome,
    Brave,
    Edge,
    Vivaldi,
    Firefox,
    All,
}

impl Which {
    fn names(self) -> Vec<&'static str> {
        match self {
            Which::Chromium => vec!["chromium"],
            Which::Chrome => vec!["chrome"],
            Which::Brave => vec!["brave"],
            Which::Edge => vec!["edge"],
            Which::Vivaldi => vec!["vivaldi"],
            Which::Firefox => vec!["firefox"],
            Which::All => BROWSERS.to_vec(),
        }
    }
}

#[derive(Args, Debug)]
pub struct BrowserArgs {
    /// Which browser(s).
    #[arg(long, value_enum, default_value_t = Which::All)]
    pub browser: Which,
    /// A Chromium `--user-data-dir`: use `DIR/NativeMessagingHosts/` instead
    /// of the browser's per-user directory.
    #[arg(long, value_name = "DIR")]
    pub profile_dir: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum BrowserAction {
    /// Let dwell's browser extension reach the agent (writes the native-messaging host manifests).
    Install(BrowserArgs),
    /// Remove the native-messaging host manifests.
    Uninstall(BrowserArgs),
}

/// The per-user directory where `browser` looks for native-messaging hosts.
pub fn hosts_dir(browser: &str, home: &Path, config_home: &Path) -> Option<PathBuf> {
    let sub = match browser {
        "chromium" => "chromium",
        "chrome" => "google-chrome",
        "brave" => "BraveSoftware/Brave-Browser",
        "edge" => "microsoft-edge",
        "vivaldi" => "vivaldi",
        "firefox" => return Some(home.join(".mozilla").join("native-messaging-hosts")),
        _ => return None,
    };
    Some(config_home.join(sub).join("NativeMessagingHosts"))
}

/// The program the host manifests run, for the `dwell-agent` at `agent_exe`:
/// [`HOST_PROGRAM`] in the same directory, or, when that file is missing (a
/// build or an install without it), `agent_exe` itself, which also serves as
/// the host. The flag says whether it fell back.
pub fn host_program(agent_exe: &Path) -> (PathBuf, bool) {
    let host = agent_exe.with_file_name(format!("{HOST_PROGRAM}{}", std::env::consts::EXE_SUFFIX));
    if host.is_file() {
        (host, false)
    } else {
        (agent_exe.to_path_buf(), true)
    }
}

/// The host manifest for `browser`, running `exe`.
pub fn host_manifest(browser: &str, exe: &Path) -> String {
    let mut m = serde_json::json!({
        "name": HOST_NAME,
        "description": "dwell: the host name of the focused tab, for your own use",
        "path": exe,
        "type": "stdio",
    });
    if browser == "firefox" {
        m["allowed_extensions"] = serde_json::json!([GECKO_ID]);
    } else {
        m["allowed_origins"] = serde_json::json!([format!("chrome-extension://{EXTENSION_ID}/")]);
    }
    let mut text = serde_json::to_string_pretty(&m).unwrap_or_default();
    text.push('\n');
    text
}

/// Where the manifests go: `(browser, directory)`.
#[cfg(not(windows))]
fn targets(args: &BrowserArgs) -> Result<Vec<(&'static str, PathBuf)>> {
    let names = args.browser.names();
    if let Some(dir) = &args.profile_dir {
        let names: Vec<&str> = names.into_iter().filter(|b| *b != "firefox").collect();
        if names.is_empty() {
            return Err(crate::words::refused(
                "--profile-dir is a Chromium-family --user-data-dir; Firefox reads ~/.mozilla/native-messaging-hosts",
            ));
        }
        // One directory: one manifest, whichever Chromium-family browser uses it.
        return Ok(vec![(names[0], dir.join("NativeMessagingHosts"))]);
    }
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .ok_or_else(|| {
            crate::words::refused("HOME is not set: cannot tell where the browsers look")
        })?;
    let config_home = dwell_core::paths::config_home().ok_or_else(|| {
        crate::words::refused("cannot tell the config directory: set HOME or XDG_CONFIG_HOME")
    })?;
    Ok(names
        .into_iter()
        .filter_map(|b| hosts_dir(b, &home, &config_home).map(|d| (b, d)))
        .collect())
}

/// Writes the extension's files into `dir/chromium` and `dir/firefox`.
fn write_extension(dir: &Path) -> Result<()> {
    for (sub, manifest) in [("chromium", MANIFEST), ("firefox", FIREFOX_MANIFEST)] {
        let d = dir.join(sub);
        std::fs::create_dir_all(&d).with_context(|| format!("cannot create {}", d.display()))?;
        write_private(&d.join("manifest.json"), manifest)?;
        write_private(&d.join("background.js"), BACKGROUND)?;
        for (name, text) in PAUSE_FILES {
            write_private(&d.join(name), text)?;
        }
    }
    let xpi = dir.join(XPI_NAME);
    write_private(&xpi, firefox_xpi()?)?;
    Ok(())
}

/// The Firefox package `browser install` writes next to the unpacked copies.
pub const XPI_NAME: &str = "dwell-firefox.xpi";

/// `extension/firefox/` as a Firefox add-on package (a zip, see [`crate::xpi`]).
pub fn firefox_xpi() -> Result<Vec<u8>> {
    let mut files: Vec<(&str, &[u8])> = vec![
        ("manifest.json", FIREFOX_MANIFEST.as_bytes()),
        ("background.js", BACKGROUND.as_bytes()),
    ];
    for (name, text) in PAUSE_FILES {
        files.push((name, text.as_bytes()));
    }
    crate::xpi::stored_zip(&files).context("the extension's files do not fit in a zip")
}

/// `dwell-agent browser install|uninstall`.
pub fn browser(cli: &Global, action: &BrowserAction) -> Result<()> {
    match action {
        BrowserAction::Install(args) => install(cli, args),
        BrowserAction::Uninstall(args) => uninstall(args),
    }
}

fn install(cli: &Global, args: &BrowserArgs) -> Result<()> {
    let exe = std::env::current_exe().context("cannot tell where dwell-agent is")?;
    let exe = exe.canonicalize().unwrap_or(exe);
    let (exe, fell_back) = host_program(&exe);
    if fell_back {
        println!(
            "note: no {HOST_PROGRAM} next to dwell-agent; the browsers will start {} as the host (it uses more memory)",
            exe.display()
        );
    }
    #[cfg(windows)]
    registry::install(args, &exe)?;
    #[cfg(not(windows))]
    for (browser, dir) in targets(args)? {
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let path = dir.join(format!("{HOST_NAME}.json"));
        write_private(&path, host_manifest(browser, &exe))?;
        println!("{browser}: wrote {}", path.display());
    }
    let ext = cli.data_dir()?.join("extension");
    write_extension(&ext)?;
    println!(
        "\nNow load dwell's extension (it sends the agent only the host name of your focused tab):\n\
         - Chromium, Chrome, Brave, Edge, Vivaldi: open the extensions page (chrome://extensions),\n  \
         turn on developer mode, \"Load unpacked\" and pick {}\n\
         - Firefox ESR or Developer Edition, to keep it across restarts: in about:config set\n  \
         xpinstall.signatures.required to false, then open about:addons, the gear menu,\n  \
         \"Install Add-on From File…\" and pick {}\n\
         - release Firefox accepts only add-ons signed by Mozilla, which dwell cannot ship\n  \
         here: there, about:debugging#/runtime/this-firefox, \"Load Temporary Add-on…\" and\n  \
         pick {} (gone at the next Firefox restart; load it again then)\n\
         Private (incognito) windows are never counted.",
        ext.join("chromium").display(),
        ext.join(XPI_NAME).display(),
        ext.join("firefox").join("manifest.json").display()
    );
    Ok(())
}

fn uninstall(args: &BrowserArgs) -> Result<()> {
    remove_hosts(args)?;
    println!("The extension can be removed from the browser's extensions page.");
    Ok(())
}

/// Removes the host manifests of `args`, saying each; how many there were.
fn remove_hosts(args: &BrowserArgs) -> Result<usize> {
    #[cfg(windows)]
    return registry::remove(args);
    #[cfg(not(windows))]
    remove_manifests(args)
}

/// [`remove_hosts`] where browsers look in directories.
#[cfg(not(windows))]
fn remove_manifests(args: &BrowserArgs) -> Result<usize> {
    let mut removed = 0;
    for (browser, dir) in targets(args)? {
        let path = dir.join(format!("{HOST_NAME}.json"));
        match std::fs::remove_file(&path) {
            Ok(()) => {
                println!("{browser}: removed {}", path.display());
                removed += 1;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("cannot remove {}", path.display())),
        }
    }
    Ok(removed)
}

/// `uninstall --all`: every browser's host manifest in its per-user
/// directory; how many were removed.
pub fn remove_all_hosts() -> Result<usize> {
    remove_hosts(&BrowserArgs {
        browser: Which::All,
        profile_dir: None,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn win(class: &str, instance: &str) -> WindowInfo {
        WindowInfo {
            class: class.into(),
            instance: instance.into(),
            ..WindowInfo::default()
        }
    }

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + s, 0).unwrap()
    }

    #[test]
    fn the_firefox_package_holds_the_firefox_extension() {
        let xpi = firefox_xpi().unwrap();
        assert_eq!(&xpi[..4], b"PK\x03\x04");
        // manifest.json first, at the archive's root, as Firefox wants it.
        assert_eq!(&xpi[30..43], b"manifest.json");
        let body = &xpi[43..43 + FIREFOX_MANIFEST.len()];
        assert_eq!(body, FIREFOX_MANIFEST.as_bytes());
        let dir = tempfile::tempdir().unwrap();
        write_extension(dir.path()).unwrap();
        assert_eq!(std::fs::read(dir.path().join(XPI_NAME)).unwrap(), xpi);
    }

    #[test]
    fn browsers_by_class_app_id_or_process() {
        assert_eq!(
            window_browser(&win("Chromium", "chromium (/tmp/p)")),
            Some("chromium")
        );
        assert_eq!(
            window_browser(&win("Google-chrome", "google-chrome")),
            Some("chrome")
        );
        assert_eq!(window_browser(&win("com.brave.Browser", "")), Some("brave"));
        assert_eq!(
            window_browser(&win("Brave-browser", "brave-browser")),
            Some("brave")
        );
        assert_eq!(window_browser(&win("Microsoft-edge", "")), Some("edge"));
        assert_eq!(
            window_browser(&win("firefox-esr", "Navigator")),
            Some("firefox")
        );
        assert_eq!(
            window_browser(&win("org.mozilla.firefox", "")),
            Some("firefox")
        );
        assert_eq!(window_browser(&win("Emacs", "emacs")), None);
        assert_eq!(family("msedge"), Some("edge"));
    }

    #[test]
    fn the_host_knows_its_browser() {
        let chrome_args = ["chrome-extension://x/".to_string()];
        assert_eq!(host_browser(Some("brave\n"), &chrome_args), "brave");
        assert_eq!(host_browser(None, &chrome_args), "chromium");
        assert_eq!(
            host_browser(Some("sh"), &["/a.json".into(), GECKO_ID.into()]),
            "firefox"
        );
        let argv = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(started_by_browser(&argv(&[
            "dwell-agent",
            "chrome-extension://abc/"
        ])));
        assert!(started_by_browser(&argv(&[
            "dwell-agent",
            "/home/u/.mozilla/native-messaging-hosts/org.dwell.agent.json",
            GECKO_ID
        ])));
        assert!(!started_by_browser(&argv(&["dwell-agent", "status"])));
        assert!(!started_by_browser(&argv(&["dwell-agent"])));
    }

    #[test]
    fn facts_count_while_the_host_runs() {
        let mut b = Browsers::default();
        let facts = TabFacts {
            host: Some("old.reddit.com".into()),
            focused: true,
            ..TabFacts::default()
        };
        let w = win("Chromium", "chromium");
        assert!(b.for_window(&w).is_none());
        assert!(b.tab("chromium", ":1.5", facts.clone(), at(0)));
        assert!(!b.tab("chromium", ":1.5", facts.clone(), at(1)));
        assert_eq!(b.for_window(&w), Some(&facts));
        assert!(b.for_window(&win("firefox", "Navigator")).is_none());
        assert!(!b.gone(":1.9"));
        assert!(b.gone(":1.5"));
        assert!(b.for_window(&w).is_none());
        let st = b.status();
        assert_eq!(st.len(), 1);
        assert_eq!(
            (st[0].browser.as_str(), st[0].connected),
            ("chromium", false)
        );
        assert_eq!(st[0].last_seen, at(1).to_rfc3339());
        let back: Vec<BrowserStatus> = serde_json::from_str(&b.status_json()).unwrap();
        assert_eq!(back, st);
        assert!(!b.tab("netscape", ":1.6", facts, at(2)));
    }

    #[test]
    fn manifests_name_the_extension() {
        let exe = Path::new("/usr/bin/dwell-agent");
        let c: serde_json::Value = serde_json::from_str(&host_manifest("chromium", exe)).unwrap();
        assert_eq!(c["name"], HOST_NAME);
        assert_eq!(c["path"], "/usr/bin/dwell-agent");
        assert_eq!(c["type"], "stdio");
        assert_eq!(
            c["allowed_origins"],
            serde_json::json!([format!("chrome-extension://{EXTENSION_ID}/")])
        );
        let f: serde_json::Value = serde_json::from_str(&host_manifest("firefox", exe)).unwrap();
        assert_eq!(f["allowed_extensions"], serde_json::json!([GECKO_ID]));
        assert!(f.get("allowed_origins").is_none());
        let home = Path::new("/h");
        let cfg = Path::new("/h/.config");
        assert_eq!(
            hosts_dir("brave", home, cfg).unwrap(),
            Path::new("/h/.config/BraveSoftware/Brave-Browser/NativeMessagingHosts")
        );
        assert_eq!(
            hosts_dir("firefox", home, cfg).unwrap(),
            Path::new("/h/.mozilla/native-messaging-hosts")
        );
    }

    /// Vivaldi is a Chromium-family browser like the others: known by its
    /// windows and process, `--browser vivaldi`, part of `all`, its manifest
    /// in ~/.config/vivaldi/NativeMessagingHosts/, as dwell-agent(1) says.
    #[test]
    fn vivaldi_is_installed_like_the_other_chromium_browsers() {
        assert_eq!(
            window_browser(&win("Vivaldi-stable", "vivaldi-stable")),
            Some("vivaldi")
        );
        assert_eq!(
            window_browser(&win("com.vivaldi.Vivaldi", "")),
            Some("vivaldi")
        );
        assert_eq!(family("vivaldi-bin"), Some("vivaldi"));
        assert_eq!(
            Which::from_str("vivaldi", true).unwrap().names(),
            ["vivaldi"]
        );
        assert!(Which::All.names().contains(&"vivaldi"));
        let (home, cfg) = (Path::new("/h"), Path::new("/h/.config"));
        assert_eq!(
            hosts_dir("vivaldi", home, cfg).unwrap(),
            Path::new("/h/.config/vivaldi/NativeMessagingHosts")
        );
        let m: serde_json::Value =
            serde_json::from_str(&host_manifest("vivaldi", Path::new("/usr/bin/x"))).unwrap();
        assert!(m.get("allowed_origins").is_some());
        // FILES in dwell-agent(1) names every directory browser install writes.
        let files = dwell_clidoc::FILES.paragraphs.join("\n");
        for b in BROWSERS {
            let dir = hosts_dir(b, home, cfg).unwrap();
            let parent = dir.parent().unwrap();
            let named = parent
                .strip_prefix(cfg)
                .or_else(|_| parent.strip_prefix(home));
            let named = named.unwrap().to_string_lossy().into_owned();
            assert!(files.contains(&named), "{b}: {named} not in FILES");
        }
    }

    #[test]
    fn manifests_run_the_small_host_next_to_the_agent_or_else_the_agent() {
        let dir = tempfile::tempdir().unwrap();
        let agent = dir.path().join("dwell-agent");
        let host_file = format!("{HOST_PROGRAM}{}", std::env::consts::EXE_SUFFIX);
        std::fs::write(&agent, "").unwrap();
        // No dwell-native-host beside it: the agent itself, and a note.
        assert_eq!(host_program(&agent), (agent.clone(), true));
        // A directory of that name is no program.
        std::fs::create_dir(dir.path().join(&host_file)).unwrap();
        assert_eq!(host_program(&agent), (agent.clone(), true));
        std::fs::remove_dir(dir.path().join(&host_file)).unwrap();
        let host = dir.path().join(&host_file);
        std::fs::write(&host, "").unwrap();
        assert_eq!(host_program(&agent), (host.clone(), false));
        let m: serde_json::Value =
            serde_json::from_str(&host_manifest("chromium", &host_program(&agent).0)).unwrap();
        assert_eq!(m["path"], host.to_str().unwrap());
    }

    /// The extension manifests ask for no more than they need, and the id
    /// constant is the one the manifest's key gives.
    #[cfg(target_os = "linux")] // the id is checked with base64 and sha256sum
    #[test]
    fn extension_manifests() {
        let m: serde_json::Value = serde_json::from_str(MANIFEST).unwrap();
        let f: serde_json::Value = serde_json::from_str(FIREFOX_MANIFEST).unwrap();
        for m in [&m, &f] {
            assert_eq!(m["manifest_version"], 3);
            assert_eq!(
                m["permissions"],
                serde_json::json!(["tabs", "nativeMessaging", "idle"])
            );
            for absent in [
                "host_permissions",
                "content_scripts",
                "optional_permissions",
            ] {
                assert!(m.get(absent).is_none(), "{absent}");
            }
        }
        assert_eq!(m["background"]["service_worker"], "background.js");
        assert_eq!(
            f["background"]["scripts"],
            serde_json::json!(["background.js"])
        );
        assert_eq!(f["browser_specific_settings"]["gecko"]["id"], GECKO_ID);
        assert!(f.get("key").is_none());
        assert!(BACKGROUND.contains(&format!("\"{HOST_NAME}\"")));
        // The pause page: no inline script or style (Manifest V3's policy), no
        // page reachable by web sites.
        let html = PAUSE_FILES[0].1;
        assert!(html.contains(r#"<script src="pause.js" defer></script>"#));
        assert!(html.contains(r#"<link rel="stylesheet" href="pause.css">"#));
        assert_eq!(html.matches("<script").count(), 1, "{html}");
        for inline in ["<style", " style=", " onclick=", "javascript:"] {
            assert!(!html.contains(inline), "{inline}");
        }
        for m in [&m, &f] {
            assert!(m.get("web_accessible_resources").is_none());
        }
        assert!(BACKGROUND.contains("runtime.getURL(\"pause.html\")"));

        // The id: SHA-256 of the DER key (sha256sum from coreutils), a-p for 0-f.
        let key = m["key"].as_str().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let der = dir.path().join("key.b64");
        std::fs::write(&der, key).unwrap();
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("base64 -d < '{}' | sha256sum", der.display()))
            .output()
            .unwrap();
        let hex = String::from_utf8(out.stdout).unwrap();
        let id: String = hex
            .chars()
            .take(32)
            .map(|c| (b'a' + c.to_digit(16).unwrap() as u8) as char)
            .collect();
        assert_eq!(id, EXTENSION_ID);
    }
}
