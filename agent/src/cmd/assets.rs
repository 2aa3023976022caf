//! `dwell-agent completions SHELL`, and the hidden `generate-assets --out DIR`
//! that `scripts/package` runs: man pages and completions from the real command
//! line (through `dwell_clidoc`), and the systemd user unit the package ships in
//! `/usr/lib/systemd/user/`, written by the same code as `dwell-agent install`'s.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Command;
use dwell_clidoc::{CompletionsArgs, GenerateAssetsArgs};

use crate::cmd::install::{packaged_unit_text, UNIT_NAME};

/// Prints the completion script for the shell asked for; `command` is the
/// command line `crate::cli` defines (passed down: the commands never import
/// `cli`).
pub fn completions(command: Command, args: &CompletionsArgs) -> Result<()> {
    dwell_clidoc::completions_to_stdout(command, args.shell)
        .context("cannot print the completion script")
}

/// Writes the man pages and completions into `--out`, and the packaged unit
/// into `--out/systemd/`; lists what it wrote.
pub fn generate(command: Command, args: &GenerateAssetsArgs) -> Result<()> {
    for path in write(command, &args.out, &args.date)? {
        println!("{}", path.display());
    }
    Ok(())
}

/// `dwell-agent(1)`'s sections beyond the options.
const EXAMPLES: dwell_clidoc::Section<'static> = dwell_clidoc::Section {
    title: "Examples",
    paragraphs: &[
        "dwell-agent setup\tChoose your limits and work hours, opt in, and start dwell at log-in.",
        "dwell-agent status\tWhat is counted today against your limits, and whether the agent runs.",
        "dwell-agent pause 1h\tRecord nothing for an hour (dwell-agent resume ends it sooner).",
        "dwell-agent forget --site facebook.com\tDelete what was recorded for one site.",
        "dwell-agent browser install\tLet the browser extension tell dwell which site a tab shows.",
        "dwell-agent disable --erase\tStop recording and delete everything dwell kept.",
    ],
};

const SEE_ALSO: dwell_clidoc::Section<'static> = dwell_clidoc::Section {
    title: "See also",
    paragraphs: &["dwell-report(1), dwell-native-host(1), systemctl(1)"],
};

fn write(command: Command, out: &std::path::Path, date: &str) -> Result<Vec<PathBuf>> {
    let sections = [
        dwell_clidoc::FILES,
        EXAMPLES,
        dwell_clidoc::PRIVACY,
        SEE_ALSO,
    ];
    let mut written = dwell_clidoc::write_assets(command, out, date, &sections)?;
    let dir = out.join("systemd");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let unit = dir.join(UNIT_NAME);
    std::fs::write(&unit, packaged_unit_text())
        .with_context(|| format!("cannot write {}", unit.display()))?;
    written.push(unit);
    Ok(written)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::cli::Cli;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    /// Every visible subcommand, nested ones too, gets a page named like git's;
    /// completions come for bash, zsh and fish; the hidden subcommand is in neither.
    #[test]
    fn every_subcommand_gets_a_man_page_and_completions() {
        let dir = tempfile::tempdir().unwrap();
        let written = write(Cli::command(), dir.path(), "2026-12-01").unwrap();
        let expected = dwell_clidoc::page_names(&Cli::command());
        assert!(expected.contains(&"dwell-agent-status.1".to_owned()));
        assert!(expected.contains(&"dwell-agent-config-check.1".to_owned()));
        for page in &expected {
            let text = std::fs::read_to_string(dir.path().join("man").join(page)).unwrap();
            assert!(text.starts_with(".ie") || text.contains(".TH"), "{page}");
        }
        let pages = std::fs::read_dir(dir.path().join("man")).unwrap().count();
        assert_eq!(pages, expected.len(), "only the expected pages");
        for file in [
            "completions/bash/dwell-agent",
            "completions/zsh/_dwell-agent",
            "completions/fish/dwell-agent.fish",
        ] {
            let text = std::fs::read_to_string(dir.path().join(file)).unwrap();
            assert!(
                text.contains("status") && text.contains("gnome-extension"),
                "{file}"
            );
            assert!(!text.contains("generate-assets"), "{file}");
        }
        let unit = std::fs::read_to_string(dir.path().join("systemd").join(UNIT_NAME)).unwrap();
        assert!(
            unit.contains("\nExecStart=/usr/bin/dwell-agent run\n"),
            "{unit}"
        );
        assert!(written.iter().all(|p| p.exists()));
    }

    /// What bash offers for `line` (the words typed so far, the last one
    /// being completed) with `dwell-agent completions bash` loaded.
    fn bash_offers(line: &[&str]) -> Vec<String> {
        let mut script = Vec::new();
        dwell_clidoc::print_completions(Cli::command(), dwell_clidoc::Shell::Bash, &mut script);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dwell-agent.bash");
        std::fs::write(&path, &script).unwrap();
        let words: Vec<String> = line.iter().map(|w| format!("'{w}'")).collect();
        let n = line.len();
        let driver = format!(
            "source '{}'\nCOMP_WORDS=({})\nCOMP_CWORD={}\n_dwell__agent '{}' '{}' '{}'\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
            path.display(),
            words.join(" "),
            n - 1,
            line[0],
            line[n - 1],
            line[n - 2],
        );
        let out = std::process::Command::new("bash")
            .args(["--norc", "-c", &driver])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// Issue 19's contract, on the real command line: past the first word
    /// of the hyphenated name, a subcommand's subcommands, its flags and a
    /// flag's values.
    #[test]
    fn bash_completes_the_real_subcommands_and_their_flags() {
        let offered = bash_offers(&["dwell-agent", "browser", ""]);
        assert!(
            offered.contains(&"install".to_owned()) && offered.contains(&"uninstall".to_owned()),
            "{offered:?}"
        );
        assert_eq!(
            bash_offers(&["dwell-agent", "browser", "install", "--b"]),
            ["--browser"]
        );
        let offered = bash_offers(&["dwell-agent", "browser", "install", "--browser", ""]);
        assert!(
            offered.contains(&"firefox".to_owned()) && offered.contains(&"all".to_owned()),
            "{offered:?}"
        );
        assert_eq!(bash_offers(&["dwell-agent", "uninstall", "--a"]), ["--all"]);
        assert_eq!(bash_offers(&["dwell-agent", "done"]), ["done-for-today"]);
    }

    /// `man dwell-agent` ends with FILES (config, data, unit, host
    /// manifests), EXAMPLES, PRIVACY and SEE ALSO.
    #[test]
    fn the_man_page_has_files_examples_privacy_and_see_also() {
        let dir = tempfile::tempdir().unwrap();
        write(Cli::command(), dir.path(), "2026-12-01").unwrap();
        let roff = std::fs::read_to_string(dir.path().join("man/dwell-agent.1")).unwrap();
        let page = roff.replace("\\-", "-");
        let sections: Vec<&str> = page
            .lines()
            .filter_map(|l| l.strip_prefix(".SH "))
            .map(|t| t.trim_matches('"'))
            .collect();
        let at = |title: &str| sections.iter().position(|s| *s == title);
        let order: Vec<Option<usize>> = ["FILES", "EXAMPLES", "PRIVACY", "SEE ALSO"]
            .into_iter()
            .map(at)
            .collect();
        assert!(
            order.iter().all(Option::is_some) && order.windows(2).all(|w| w[0] < w[1]),
            "{sections:?}"
        );
        for file in [
            "dwell/config.toml",
            "dwell/dwell.db",
            "systemd/user/dwell-agent.service",
            "autostart/dwell-agent.desktop",
            "NativeMessagingHosts/org.dwell.agent.json",
            ".mozilla/native-messaging-hosts",
            "dwell-focus@dwell",
        ] {
            assert!(page.contains(file), "FILES does not name {file}:\n{page}");
        }
    }

    #[test]
    fn completions_for_every_shell_without_panicking() {
        for shell in [
            dwell_clidoc::Shell::Bash,
            dwell_clidoc::Shell::Zsh,
            dwell_clidoc::Shell::Fish,
            dwell_clidoc::Shell::Elvish,
            dwell_clidoc::Shell::PowerShell,
        ] {
            let mut out = Vec::new();
            dwell_clidoc::print_completions(Cli::command(), shell, &mut out);
            let text = String::from_utf8(out).unwrap();
            assert!(text.contains("pause"), "{shell}");
        }
    }
}
