//! `dwell-agent gnome-extension install|uninstall`: the small GNOME Shell
//! extension `dwell-focus@dwell` that tells the agent which app and window title
//! has focus (GNOME offers Wayland clients no way to see that themselves).
//!
//! Two variants are built in: `legacy` (Shell 40–44, `imports.gi`) and `esm`
//! (Shell 45 and later, ES modules); `install` picks one from
//! `gnome-shell --version`, writes it to
//! `$XDG_DATA_HOME/gnome-shell/extensions/dwell-focus@dwell/` and adds the UUID
//! to `org.gnome.shell enabled-extensions` with `gsettings`, keeping the others.
//! `uninstall` undoes both. The GVariant string-list parser and printer are pure.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{anyhow, Context, Result};
use dwell_core::paths;

use super::{refused, Global};
use crate::cmd::write_atomic;

/// The extension's UUID, also the name of its directory.
pub const UUID: &str = "dwell-focus@dwell";
const SCHEMA: &str = "org.gnome.shell";
const ENABLED_KEY: &str = "enabled-extensions";
const DISABLED_KEY: &str = "disabled-extensions";
const DISABLE_USER_KEY: &str = "disable-user-extensions";

const LEGACY_METADATA: &str = include_str!("../../data/gnome-extension/legacy/metadata.json");
const ESM_METADATA: &str = include_str!("../../data/gnome-extension/esm/metadata.json");
const ESM_EXTENSION: &str = include_str!("../../data/gnome-extension/esm/extension.js");

#[derive(clap::Subcommand, Debug)]
pub enum GnomeExtensionAction {
    /// Install the extension for this GNOME Shell and enable it (takes effect at next login).
    Install,
    /// Disable and remove the extension.
    Uninstall,
}

/// Which build of the extension a shell can load.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// Shell 40–44: `imports.gi`, `init()` returning an object with enable/disable.
    Legacy,
    /// Shell 45 and later: ES modules.
    Esm,
}

impl Variant {
    /// The variant for a shell's major version; an unknown version gets the
    /// current API.
    pub fn for_major(major: Option<u32>) -> Variant {
        match major {
            Some(m) if m < 45 => Variant::Legacy,
            _ => Variant::Esm,
        }
    }

    /// `(metadata.json, the ES-module extension.js)`; the legacy build's
    /// `extension.js` is made from the latter by [`Variant::extension_js`].
    fn files(self) -> (&'static str, &'static str) {
        match self {
            Variant::Legacy => (LEGACY_METADATA, ESM_EXTENSION),
            Variant::Esm => (ESM_METADATA, ESM_EXTENSION),
        }
    }

    /// The `extension.js` this shell loads: the ES-module build, or the legacy
    /// build made from it ([`legacy_from_esm`]).
    pub fn extension_js(self) -> String {
        match self {
            Variant::Esm => ESM_EXTENSION.to_owned(),
            // The built-in file converts (tested): an error here cannot happen.
            Variant::Legacy => legacy_from_esm(ESM_EXTENSION).unwrap_or_default(),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Variant::Legacy => "the build for GNOME Shell 40 to 44",
            Variant::Esm => "the build for GNOME Shell 45 and later",
        }
    }
}

/// The build for GNOME Shell 40 to 44 (`imports.gi`, `init()` returning the
/// extension) made from the ES-module build, so that the two never drift:
/// the same body, with the module lines, the class line and the logging
/// call of the older API. `Err` names the piece of the ES-module file that
/// was not found as expected.
pub fn legacy_from_esm(esm: &str) -> Result<String, &'static str> {
    let swaps: [(&str, &str, &'static str); 3] = [
        (
            "import Gio from 'gi://Gio';\nimport GLib from 'gi://GLib';\n\nimport {Extension} from 'resource:///org/gnome/shell/extensions/extension.js';\n",
            "'use strict';\n\nconst { Gio, GLib } = imports.gi;\n",
            "the import lines",
        ),
        (
            "export default class DwellFocusExtension extends Extension {\n    constructor(metadata) {\n        super(metadata);\n",
            "class Extension {\n    constructor() {\n",
            "the class line and its constructor",
        ),
        (
            "for GNOME Shell 45 and later (ES modules).",
            "for GNOME Shell 40 to 44 (the legacy imports.gi API).",
            "the first line",
        ),
    ];
    let mut out = esm.to_owned();
    for (from, to, what) in swaps {
        if out.matches(from).count() != 1 {
            return Err(what);
        }
        out = out.replacen(from, to, 1);
    }
    // Shell 40-44 has no `console`; `log` writes to the journal the same way.
    out = out.replace("console.warn(", "log(");
    out.push_str("\nfunction init() {\n    return new Extension();\n}\n");
    Ok(out)
}

/// The `metadata.json` to install for a shell of `major`: the built-in one, or,
/// when the shell is newer than every version it names, the same with the
/// running major added (returned too, to say so). A newer shell checks only
/// that its major is listed, and without it loads nothing and says nothing.
pub fn metadata_for(variant: Variant, major: Option<u32>) -> (String, Option<u32>) {
    let (metadata, _) = variant.files();
    let newest = listed_majors(metadata).into_iter().max();
    let (Some(major), Some(newest)) = (major, newest) else {
        return (metadata.to_owned(), None);
    };
    if major <= newest {
        return (metadata.to_owned(), None);
    }
    let Ok(mut value) = serde_json::from_str::<serde_json::Value>(metadata) else {
        return (metadata.to_owned(), None);
    };
    match value
        .get_mut("shell-version")
        .and_then(serde_json::Value::as_array_mut)
    {
        Some(list) => list.push(serde_json::Value::String(major.to_string())),
        None => return (metadata.to_owned(), None),
    }
    match serde_json::to_string_pretty(&value) {
        Ok(text) => (text + "\n", Some(major)),
        Err(_) => (metadata.to_owned(), None),
    }
}

/// The shell majors a `metadata.json` names.
fn listed_majors(metadata: &str) -> Vec<u32> {
    serde_json::from_str::<serde_json::Value>(metadata)
        .ok()
        .and_then(|v| v.get("shell-version").cloned())
        .and_then(|v| serde_json::from_value::<Vec<String>>(v).ok())
        .unwrap_or_default()
        .iter()
        .filter_map(|v| v.split('.').next()?.parse().ok())
        .collect()
}

/// The major version in `gnome-shell --version` output (`GNOME Shell 43.9` → 43,
/// `GNOME Shell 46.rc` → 46).
pub fn shell_major(version_output: &str) -> Option<u32> {
    let rest = version_output.trim().strip_prefix("GNOME Shell")?;
    let token = rest.split_whitespace().next()?;
    let digits: &str = &token[..token
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(token.len())];
    digits.parse().ok()
}

/// Why a GVariant string list could not be read.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{what} at character {at}")]
pub struct ListError {
    pub what: &'static str,
    pub at: usize,
}

/// Parses the GVariant text form of a string array, as `gsettings get` prints
/// it: `['a@b', "c'd"]`, `[]` or `@as []`, with GVariant's string escapes.
pub fn parse_string_list(text: &str) -> Result<Vec<String>, ListError> {
    let chars: Vec<char> = text.chars().collect();
    let mut p = Parser {
        chars: &chars,
        i: 0,
    };
    p.skip_ws();
    if p.eat_word("@as") {
        p.skip_ws();
    }
    p.expect('[', "expected '['")?;
    let mut items = Vec::new();
    p.skip_ws();
    if !p.eat(']') {
        loop {
            p.skip_ws();
            items.push(p.string()?);
            p.skip_ws();
            if p.eat(']') {
                break;
            }
            p.expect(',', "expected ',' or ']'")?;
        }
    }
    p.skip_ws();
    if p.i != chars.len() {
        return Err(p.err("unexpected text after ']'"));
    }
    Ok(items)
}

struct Parser<'a> {
    chars: &'a [char],
    i: usize,
}

impl Parser<'_> {
    fn err(&self, what: &'static str) -> ListError {
        ListError { what, at: self.i }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.i).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn eat_word(&mut self, word: &str) -> bool {
        let n = word.chars().count();
        let matches = self
            .chars
            .get(self.i..self.i + n)
            .is_some_and(|s| s.iter().copied().eq(word.chars()));
        if matches {
            self.i += n;
        }
        matches
    }

    fn expect(&mut self, c: char, what: &'static str) -> Result<(), ListError> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(self.err(what))
        }
    }

    fn hex(&mut self, digits: usize) -> Result<char, ListError> {
        let mut v: u32 = 0;
        for _ in 0..digits {
            let d = self
                .peek()
                .and_then(|c| c.to_digit(16))
                .ok_or_else(|| self.err("expected a hex digit"))?;
            v = v * 16 + d;
            self.i += 1;
        }
        char::from_u32(v).ok_or_else(|| self.err("not a Unicode character"))
    }

    fn string(&mut self) -> Result<String, ListError> {
        let quote = match self.peek() {
            Some(q @ ('\'' | '"')) => q,
            _ => return Err(self.err("expected a quoted string")),
        };
        self.i += 1;
        let mut s = String::new();
        loop {
            let c = self.peek().ok_or_else(|| self.err("unterminated string"))?;
            self.i += 1;
            if c == quote {
                return Ok(s);
            }
            if c != '\\' {
                s.push(c);
                continue;
            }
            let e = self.peek().ok_or_else(|| self.err("unterminated string"))?;
            self.i += 1;
            match e {
                'a' => s.push('\u{7}'),
                'b' => s.push('\u{8}'),
                'f' => s.push('\u{c}'),
                'n' => s.push('\n'),
                'r' => s.push('\r'),
                't' => s.push('\t'),
                'v' => s.push('\u{b}'),
                'u' => s.push(self.hex(4)?),
                'U' => s.push(self.hex(8)?),
                // GVariant keeps any other escaped character as it is.
                other => s.push(other),
            }
        }
    }
}

/// Prints a string list in the GVariant text form `gsettings set` takes.
pub fn format_string_list(items: &[String]) -> String {
    let mut out = String::from("[");
    for (n, item) in items.iter().enumerate() {
        if n > 0 {
            out.push_str(", ");
        }
        out.push('\'');
        for c in item.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\'' => out.push_str("\\'"),
                c if c.is_control() => {
                    let v = u32::from(c);
                    if v <= 0xffff {
                        out.push_str(&format!("\\u{v:04x}"));
                    } else {
                        out.push_str(&format!("\\U{v:08x}"));
                    }
                }
                c => out.push(c),
            }
        }
        out.push('\'');
    }
    out.push(']');
    out
}

/// `list` with `uuid` appended, or `None` when it is there already.
pub fn with_uuid(list: &[String], uuid: &str) -> Option<Vec<String>> {
    if list.iter().any(|u| u == uuid) {
        return None;
    }
    let mut out = list.to_vec();
    out.push(uuid.to_owned());
    Some(out)
}

/// `list` without `uuid`, or `None` when it was not there.
pub fn without_uuid(list: &[String], uuid: &str) -> Option<Vec<String>> {
    if !list.iter().any(|u| u == uuid) {
        return None;
    }
    Some(list.iter().filter(|u| *u != uuid).cloned().collect())
}

/// `$XDG_DATA_HOME/gnome-shell/extensions/dwell-focus@dwell`.
fn extension_dir() -> Result<PathBuf> {
    // dwell's default data directory is `$XDG_DATA_HOME/dwell`.
    let data_home = paths::default_data_dir()
        .and_then(|d| d.parent().map(PathBuf::from))
        .ok_or_else(|| {
            refused("cannot tell where your extensions live: set HOME or XDG_DATA_HOME")
        })?;
    Ok(data_home.join("gnome-shell").join("extensions").join(UUID))
}

/// The `gsettings` command, checked to have the `org.gnome.shell` schema.
struct Gsettings {
    keys: Vec<String>,
}

impl Gsettings {
    /// Why it cannot be used, when the command or the schema is missing.
    fn open() -> Result<Gsettings, GsettingsMissing> {
        let out = match Command::new("gsettings")
            .args(["list-keys", SCHEMA])
            .output()
        {
            Ok(out) => out,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(GsettingsMissing::Command)
            }
            Err(e) => return Err(GsettingsMissing::Other(e.to_string())),
        };
        if !out.status.success() {
            return Err(GsettingsMissing::Schema(
                String::from_utf8_lossy(&out.stderr).trim().to_owned(),
            ));
        }
        let keys = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| l.trim().to_owned())
            .collect::<Vec<_>>();
        if !keys.iter().any(|k| k == ENABLED_KEY) {
            return Err(GsettingsMissing::Schema(format!(
                "the schema has no key {ENABLED_KEY}"
            )));
        }
        Ok(Gsettings { keys })
    }

    fn has(&self, key: &str) -> bool {
        self.keys.iter().any(|k| k == key)
    }

    fn get(&self, key: &str) -> Result<String> {
        let out = Command::new("gsettings")
            .args(["get", SCHEMA, key])
            .output()
            .context("cannot run gsettings")?;
        if !out.status.success() {
            return Err(anyhow!(
                "`gsettings get {SCHEMA} {key}` failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }

    /// Sets `key` and reads it back: `gsettings` exits 0 even when dconf could
    /// not store the change (no session bus), with only a warning.
    fn set<T: PartialEq>(
        &self,
        key: &str,
        value: &str,
        want: &T,
        read: impl Fn(&Self, &str) -> Result<T>,
    ) -> Result<()> {
        let out = Command::new("gsettings")
            .args(["set", SCHEMA, key, value])
            .output()
            .context("cannot run gsettings")?;
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_owned();
        if !out.status.success() {
            return Err(anyhow!(
                "`gsettings set {SCHEMA} {key} {value}` failed: {stderr}"
            ));
        }
        if read(self, key)? != *want {
            return Err(anyhow!(
                "`gsettings set {SCHEMA} {key} {value}` did not take{}: run this dwell-agent command again in a terminal of your GNOME session",
                if stderr.is_empty() {
                    String::new()
                } else {
                    format!(" ({stderr})")
                }
            ));
        }
        Ok(())
    }

    fn set_list(&self, key: &str, list: &[String]) -> Result<()> {
        self.set(
            key,
            &format_string_list(list),
            &list.to_vec(),
            Gsettings::get_list,
        )
    }

    fn get_list(&self, key: &str) -> Result<Vec<String>> {
        let text = self.get(key)?;
        parse_string_list(&text).map_err(|e| {
            anyhow!(
                "cannot read {SCHEMA} {key} ({text:?}: {e}); left it as it is: enable the extension with `gnome-extensions enable {UUID}` instead"
            )
        })
    }
}

enum GsettingsMissing {
    Command,
    Schema(String),
    Other(String),
}

impl GsettingsMissing {
    fn explain(&self) -> String {
        match self {
            GsettingsMissing::Command => "the `gsettings` command is not installed (it comes with GLib: package libglib2.0-bin on Debian and Ubuntu, glib2 on Fedora)".to_owned(),
            GsettingsMissing::Schema(detail) => format!(
                "GNOME Shell's settings (schema {SCHEMA}) are not installed here ({detail}): the extension is for GNOME Shell only"
            ),
            GsettingsMissing::Other(e) => format!("cannot run gsettings: {e}"),
        }
    }
}

pub fn gnome_extension(_cli: &Global, action: &GnomeExtensionAction) -> Result<()> {
    match action {
        GnomeExtensionAction::Install => install(),
        GnomeExtensionAction::Uninstall => uninstall(),
    }
}

fn install() -> Result<()> {
    let dir = extension_dir()?;
    let gs = Gsettings::open().map_err(|m| {
        let todo = match m {
            GsettingsMissing::Command => "install it and run this again",
            GsettingsMissing::Schema(_) => {
                "run this on a computer with GNOME Shell (other desktops need no extension)"
            }
            GsettingsMissing::Other(_) => "run this again in a terminal of your GNOME session",
        };
        refused(format!("{}. Nothing was installed: {todo}", m.explain()))
    })?;

    let version = Command::new("gnome-shell").arg("--version").output();
    let (major, seen) = match &version {
        Ok(out) if out.status.success() => {
            let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
            (shell_major(&text), text)
        }
        Ok(out) => (
            None,
            format!("`gnome-shell --version` failed ({})", out.status),
        ),
        Err(e) => (None, format!("cannot run gnome-shell: {e}")),
    };
    let variant = Variant::for_major(major);
    match major {
        Some(m) if m < 40 => println!(
            "{seen}: GNOME Shell older than 40 cannot load this extension; installing {} anyway.",
            variant.describe()
        ),
        Some(_) => println!("{seen}: installing {}.", variant.describe()),
        None => println!(
            "Could not tell GNOME Shell's version ({seen}): installing {}.",
            variant.describe()
        ),
    }

    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create {}; nothing was installed", dir.display()))?;
    let extension = variant.extension_js();
    let (metadata, added) = metadata_for(variant, major);
    if let Some(major) = added {
        println!(
            "GNOME Shell {major} is newer than the versions this dwell was tested with: the installed copy names {major} too, so the shell loads it (it uses only long-stable shell calls). If the shell cannot run it, `dwell-agent status` says so with the shell's error."
        );
    }
    write_atomic(&dir.join("metadata.json"), &metadata, 0o644)?;
    write_atomic(&dir.join("extension.js"), &extension, 0o644)?;
    println!("Wrote {}/ (metadata.json, extension.js).", dir.display());

    let enabled = gs.get_list(ENABLED_KEY)?;
    match with_uuid(&enabled, UUID) {
        Some(list) => {
            gs.set_list(ENABLED_KEY, &list)?;
            println!("Added {UUID} to {SCHEMA} {ENABLED_KEY}.");
        }
        None => println!("{UUID} was already in {SCHEMA} {ENABLED_KEY}."),
    }
    if gs.has(DISABLED_KEY) {
        let disabled = gs.get_list(DISABLED_KEY)?;
        if let Some(list) = without_uuid(&disabled, UUID) {
            gs.set_list(DISABLED_KEY, &list)?;
            println!("Removed {UUID} from {SCHEMA} {DISABLED_KEY}.");
        }
    }
    if gs.has(DISABLE_USER_KEY) && gs.get(DISABLE_USER_KEY)? == "true" {
        gs.set(
            DISABLE_USER_KEY,
            "false",
            &"false".to_owned(),
            Gsettings::get,
        )?;
        println!(
            "User extensions were switched off ({SCHEMA} {DISABLE_USER_KEY} was true): switched them on."
        );
    }
    println!(
        "GNOME Shell loads a new extension only when it starts: on Wayland, log out and in again; on X11, press Alt+F2, type r and Enter."
    );
    println!("If it is not enabled after that, run `gnome-extensions enable {UUID}`.");
    Ok(())
}

/// `uninstall --all`: the extension, only where it is installed; whether it was.
pub fn uninstall_if_installed() -> Result<bool> {
    if !extension_dir()?.exists() {
        return Ok(false);
    }
    uninstall()?;
    Ok(true)
}

fn uninstall() -> Result<()> {
    let dir = extension_dir()?;
    // The setting first: a running shell disables the extension as soon as it
    // leaves the list.
    match Gsettings::open() {
        Ok(gs) => {
            let enabled = gs.get_list(ENABLED_KEY)?;
            match without_uuid(&enabled, UUID) {
                Some(list) => {
                    gs.set_list(ENABLED_KEY, &list)?;
                    println!("Removed {UUID} from {SCHEMA} {ENABLED_KEY}.");
                }
                None => println!("{UUID} was not in {SCHEMA} {ENABLED_KEY}."),
            }
        }
        // Without the schema there is no list to clean; without the command
        // a stale entry is harmless (the shell skips a missing extension).
        Err(m) => println!("{}: {SCHEMA} {ENABLED_KEY} left as it is.", m.explain()),
    }
    if dir.exists() {
        std::fs::remove_dir_all(&dir)
            .with_context(|| format!("cannot remove {}", dir.display()))?;
        println!("Removed {}/.", dir.display());
    } else {
        println!("{} was not there; nothing to remove.", dir.display());
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn parses_what_gsettings_prints() {
        assert_eq!(parse_string_list("@as []").unwrap(), strings(&[]));
        assert_eq!(parse_string_list("[]\n").unwrap(), strings(&[]));
        assert_eq!(
            parse_string_list("['a@b', 'c@d']").unwrap(),
            strings(&["a@b", "c@d"])
        );
        assert_eq!(
            parse_string_list(" [ 'a@b' ,\"it's\" ] ").unwrap(),
            strings(&["a@b", "it's"])
        );
        assert_eq!(
            parse_string_list(r"['a\'b', 'c\\d', 'e\u00e9\n', 'f\U0001f600', '\q']").unwrap(),
            strings(&["a'b", "c\\d", "e\u{e9}\n", "f\u{1f600}", "q"])
        );
    }

    #[test]
    fn refuses_what_is_not_a_string_list() {
        for bad in [
            "",
            "@as",
            "[",
            "['a'",
            "['a' 'b']",
            "['a',]",
            "[1]",
            "['a'] x",
            r"['\u12']",
            r"['\ud800']",
            "['unterminated]",
            "@a []",
        ] {
            assert!(parse_string_list(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn prints_what_gsettings_reads() {
        assert_eq!(format_string_list(&[]), "[]");
        assert_eq!(
            format_string_list(&strings(&["a@b", "it's", "c\\d", "e\n"])),
            r"['a@b', 'it\'s', 'c\\d', 'e\u000a']"
        );
    }

    #[test]
    fn adds_and_removes_only_ours() {
        let list = strings(&["a@b", "c@d"]);
        assert_eq!(
            with_uuid(&list, UUID).unwrap(),
            strings(&["a@b", "c@d", UUID])
        );
        assert_eq!(with_uuid(&strings(&["a@b", UUID]), UUID), None);
        assert_eq!(
            without_uuid(&strings(&[UUID, "a@b", UUID, "c@d"]), UUID).unwrap(),
            list
        );
        assert_eq!(without_uuid(&list, UUID), None);
    }

    #[test]
    fn picks_the_variant_from_the_version() {
        assert_eq!(shell_major("GNOME Shell 43.9\n"), Some(43));
        assert_eq!(shell_major("GNOME Shell 46.rc"), Some(46));
        assert_eq!(shell_major("GNOME Shell 3.38.4"), Some(3));
        assert_eq!(shell_major("gnome-shell: not found"), None);
        assert_eq!(shell_major("GNOME Shell"), None);
        assert_eq!(Variant::for_major(Some(43)), Variant::Legacy);
        assert_eq!(Variant::for_major(Some(44)), Variant::Legacy);
        assert_eq!(Variant::for_major(Some(45)), Variant::Esm);
        assert_eq!(Variant::for_major(None), Variant::Esm);
    }

    #[test]
    fn embedded_variants_match_their_shells() {
        for (variant, versions, needle) in [
            (Variant::Legacy, ["40", "44"], "function init()"),
            (Variant::Esm, ["45", "51"], "export default class"),
        ] {
            let (metadata, _) = variant.files();
            let extension = variant.extension_js();
            let m: serde_json::Value = serde_json::from_str(metadata).unwrap();
            assert_eq!(m["uuid"], UUID);
            let shells = m["shell-version"].as_array().unwrap();
            for v in versions {
                assert!(shells.iter().any(|s| s == v), "{variant:?} lacks {v}");
            }
            assert!(extension.contains(needle), "{variant:?}");
            assert!(extension.contains("Gio.DBusCallFlags.NO_AUTO_START"));
        }
    }

    #[test]
    fn the_legacy_build_is_the_es_module_build_in_the_older_api() {
        let legacy = legacy_from_esm(ESM_EXTENSION).unwrap();
        for gone in ["import ", "export ", "console.", "super(", "extends"] {
            assert!(!legacy.contains(gone), "{gone} in:\n{legacy}");
        }
        for kept in [
            "'use strict';",
            "const { Gio, GLib } = imports.gi;",
            "class Extension {",
            "function init() {\n    return new Extension();\n}",
            "for GNOME Shell 40 to 44",
        ] {
            assert!(legacy.contains(kept), "{kept} not in:\n{legacy}");
        }
        // Apart from those lines, the same body: every method of one is in the other.
        let body = |js: &str| -> Vec<String> {
            js.lines()
                .skip_while(|l| !l.contains("enable() {"))
                .take_while(|l| !l.starts_with("function init"))
                .map(|l| l.replace("console.warn(", "log("))
                .collect()
        };
        assert_eq!(
            body(&legacy),
            body(ESM_EXTENSION)
                .into_iter()
                .chain(["".to_owned()])
                .collect::<Vec<_>>()
        );
        assert_eq!(
            legacy_from_esm("not the extension"),
            Err("the import lines")
        );
    }

    #[test]
    fn a_newer_shell_is_named_in_the_installed_metadata() {
        // Every released major loads the built-in file as it is.
        for major in [45, 46, 47, 48, 49, 50, 51] {
            let (text, added) = metadata_for(Variant::Esm, Some(major));
            assert_eq!(added, None, "{major}");
            assert_eq!(text, ESM_METADATA);
        }
        assert_eq!(metadata_for(Variant::Legacy, Some(43)).1, None);
        assert_eq!(metadata_for(Variant::Esm, None).1, None);
        // A shell released after this dwell: named, and nothing else changes.
        let (text, added) = metadata_for(Variant::Esm, Some(52));
        assert_eq!(added, Some(52));
        let m: serde_json::Value = serde_json::from_str(&text).unwrap();
        let built_in: serde_json::Value = serde_json::from_str(ESM_METADATA).unwrap();
        assert_eq!(m["uuid"], built_in["uuid"]);
        assert_eq!(m["version"], built_in["version"]);
        let shells = m["shell-version"].as_array().unwrap();
        assert_eq!(shells.last().unwrap(), "52");
        assert_eq!(
            shells.len(),
            built_in["shell-version"].as_array().unwrap().len() + 1
        );
    }

    proptest! {
        #[test]
        fn parser_never_panics(s in "\\PC*") {
            let _ = parse_string_list(&s);
        }

        #[test]
        fn parser_never_panics_on_near_lists(s in r#"(@as )?\[( ?('([^'\\]|\\.)*'|"[^"]*"|\\u[0-9a-fA-F]{0,5}|,) ?)*\]?"#) {
            let _ = parse_string_list(&s);
        }

        #[test]
        fn printed_lists_read_back(items in proptest::collection::vec(any::<String>(), 0..6)) {
            prop_assert_eq!(parse_string_list(&format_string_list(&items)).unwrap(), items);
        }
    }
}
