//! The GNOME Shell test helper extension (`tests/data/gnome-shell/`): one source, an
//! ES module as GNOME Shell 45 and later load it; the legacy build GNOME Shell 43–44 load
//! is made from it when a test installs it ([`legacy_build`]), the way dwell's own
//! extension's legacy build is made (`legacy_from_esm` in
//! `agent/src/cmd/gnome_extension.rs`), so the two builds cannot drift apart.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{WaylandSession, GNOME_HELPER_UUID};
use crate::{write_file, Session};

/// The helper's source directory: `extension.js` (ES module) and `metadata.json`.
fn helper_source() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data/gnome-shell")
        .join(GNOME_HELPER_UUID)
}

/// The legacy (`imports.*`) build of the helper's ES-module `extension.js`: the imports
/// become `imports.gi` and `imports.ui`, the exported class a plain one that `init()`
/// returns, and `console.log` (which GNOME Shell 43 lacks) `log`. Each swapped piece
/// must stand exactly once in the source: otherwise `Err` names the piece.
pub fn legacy_build(esm: &str) -> Result<String, &'static str> {
    let swaps: [(&str, &str, &'static str); 3] = [
        (
            concat!(
                "import Clutter from 'gi://Clutter';\n",
                "import Gio from 'gi://Gio';\n",
                "import GLib from 'gi://GLib';\n",
                "import Meta from 'gi://Meta';\n",
                "\n",
                "import * as Main from 'resource:///org/gnome/shell/ui/main.js';\n",
                "import {Extension} from 'resource:///org/gnome/shell/extensions/extension.js';\n",
            ),
            "const { Clutter, Gio, GLib, Meta } = imports.gi;\nconst Main = imports.ui.main;\n",
            "the import lines",
        ),
        (
            concat!(
                "export default class DwellTestHelper extends Extension {\n",
                "    constructor(metadata) {\n",
                "        super(metadata);\n",
            ),
            "class Helper {\n    constructor() {\n",
            "the class line and its constructor",
        ),
        (
            "console.log('dwell-test-helper: ready');",
            "log('dwell-test-helper: ready');",
            "the ready line",
        ),
    ];
    let mut out = esm.to_owned();
    for (from, to, what) in swaps {
        if out.matches(from).count() != 1 {
            return Err(what);
        }
        out = out.replacen(from, to, 1);
    }
    out.push_str("\nfunction init() {\n    return new Helper();\n}\n");
    Ok(out)
}

impl WaylandSession {
    /// Installs the test helper extension into `$XDG_DATA_HOME/gnome-shell/extensions/` and
    /// enables it next to whatever is enabled already (dwell's own extension). GNOME 45 and
    /// later load only ES-module extensions (the source), 43–44 only legacy ones
    /// ([`legacy_build`]); the installed `metadata.json` names the running major release,
    /// so the shell's version check (left on) accepts it.
    pub(super) fn install_gnome_helper(&self) {
        let version = self.version();
        let source = helper_source();
        let esm = fs::read_to_string(source.join("extension.js"))
            .unwrap_or_else(|e| panic!("cannot read the GNOME helper's extension.js: {e}"));
        let extension = if version.at_least(45, 0) {
            esm
        } else {
            legacy_build(&esm).unwrap_or_else(|what| {
                panic!("the GNOME helper's legacy build: {what} not found once in extension.js")
            })
        };
        let target = self
            .data_home()
            .join("gnome-shell/extensions")
            .join(GNOME_HELPER_UUID);
        crate::create_dir(&target);
        write_file(&target.join("extension.js"), &extension);
        let metadata = fs::read_to_string(source.join("metadata.json"))
            .unwrap_or_else(|e| panic!("cannot read the GNOME helper's metadata.json: {e}"));
        let mut metadata: Value = serde_json::from_str(&metadata)
            .unwrap_or_else(|e| panic!("the GNOME helper's metadata.json is not JSON: {e}"));
        metadata["shell-version"] = serde_json::json!([version.major.to_string()]);
        write_file(
            &target.join("metadata.json"),
            &serde_json::to_string_pretty(&metadata).expect("JSON"),
        );
        self.adopt_tree(&self.home());
        self.run_ok(
            "gsettings",
            ["set", "org.gnome.shell", "disable-user-extensions", "false"],
        );
        let enabled = self.run_ok(
            "gsettings",
            ["get", "org.gnome.shell", "enabled-extensions"],
        );
        let mut uuids: Vec<String> = enabled
            .trim()
            .trim_start_matches("@as")
            .trim()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .split(',')
            .map(|s| s.trim().trim_matches('\'').to_owned())
            .filter(|s| !s.is_empty())
            .collect();
        if !uuids.iter().any(|u| u == GNOME_HELPER_UUID) {
            uuids.push(GNOME_HELPER_UUID.to_owned());
        }
        let list = uuids
            .iter()
            .map(|u| format!("'{u}'"))
            .collect::<Vec<_>>()
            .join(", ");
        self.run_ok(
            "gsettings",
            [
                "set",
                "org.gnome.shell",
                "enabled-extensions",
                &format!("[{list}]"),
            ],
        );
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The legacy build is made from the source as it is: no ES-module syntax is left, and
    /// it has what GNOME Shell 43 calls.
    #[test]
    fn the_legacy_build_is_made_from_the_es_module_source() {
        let esm = fs::read_to_string(helper_source().join("extension.js")).unwrap();
        let legacy = legacy_build(&esm).unwrap();
        // GNOME Shell 43 has no `console`.
        for line in legacy.lines().filter(|l| !l.trim_start().starts_with("//")) {
            assert!(
                !line.starts_with("import ")
                    && !line.starts_with("export ")
                    && !line.contains("console."),
                "{line}"
            );
        }
        assert!(legacy.contains("const { Clutter, Gio, GLib, Meta } = imports.gi;\n"));
        assert!(legacy.ends_with("function init() {\n    return new Helper();\n}\n"));
        // Made once: nothing is left to swap.
        assert_eq!(legacy_build(&legacy), Err("the import lines"));
    }
}
