//! Man pages and shell completions of `dwell-agent` and `dwell-report`,
//! generated from each binary's real clap definition, so both do them one way.
//! (The options both binaries take, `--data-dir` and `--config`, are
//! `dwell_cli::Global`.)
//!
//! Each binary has a visible `completions SHELL` subcommand ([`CompletionsArgs`],
//! [`print_completions`]) and a hidden `generate-assets --out DIR`
//! ([`GenerateAssetsArgs`], [`write_assets`]) that `scripts/package` calls. Hidden
//! top-level subcommands are left out of both the pages and the completions
//! ([`public`]). Files land in `DIR/man/` (one page for the command and one for
//! every subcommand, named like git's: `dwell-agent-config-check.1`) and
//! `DIR/completions/{bash,zsh,fish}/`.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, Command};
pub use clap_complete::Shell;

/// A file that could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {}: {source}", path.display())]
pub struct Error {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// `completions SHELL`: print a completion script to standard output.
#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// `generate-assets --out DIR` (hidden): write man pages and completions.
#[derive(Args, Debug)]
pub struct GenerateAssetsArgs {
    /// The directory to write into (created when missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The date the pages carry, that of the release (scripts/package takes it
    /// from packaging/changelog).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: String,
}

/// The shells whose completion files a package ships, with each file's name.
pub const PACKAGED_SHELLS: [Shell; 3] = [Shell::Bash, Shell::Zsh, Shell::Fish];

/// `cmd` as its users see it: without its hidden subcommands (clap's
/// completion generators list hidden subcommands; the pages must not either).
pub fn public(cmd: Command) -> Command {
    if !cmd.get_subcommands().any(Command::is_hide_set) {
        return cmd;
    }
    let name = cmd.get_name().to_owned();
    let mut out = Command::new(name)
        .args(cmd.get_arguments().cloned())
        .subcommands(cmd.get_subcommands().filter(|s| !s.is_hide_set()).cloned())
        .subcommand_required(cmd.is_subcommand_required_set())
        .arg_required_else_help(cmd.is_arg_required_else_help_set());
    if let Some(v) = cmd.get_version() {
        out = out.version(v.to_owned());
    }
    if let Some(v) = cmd.get_long_version() {
        out = out.long_version(v.to_owned());
    }
    if let Some(a) = cmd.get_about() {
        out = out.about(a.clone());
    }
    if let Some(a) = cmd.get_long_about() {
        out = out.long_about(a.clone());
    }
    if let Some(a) = cmd.get_after_help() {
        out = out.after_help(a.clone());
    }
    if let Some(a) = cmd.get_after_long_help() {
        out = out.after_long_help(a.clone());
    }
    out
}

/// Writes the completion script of `cmd` for `shell` to `out`.
pub fn print_completions(cmd: Command, shell: Shell, out: &mut dyn Write) {
    let mut cmd = public(cmd);
    let name = cmd.get_name().to_owned();
    if shell != Shell::Bash {
        clap_complete::generate(shell, &mut cmd, name, out);
        return;
    }
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, name.clone(), &mut script);
    let script = String::from_utf8_lossy(&script);
    // clap_complete's bash script keeps its state as the binary's name with
    // `-` as `__` (`dwell__agent__subcmd__browser`), but labels the cases it
    // tests that state against with `-` as `__subcmd__`
    // (`dwell__subcmd__agent__subcmd__browser`): for a hyphenated binary no
    // subcommand case ever matches, and completion stops after the first word.
    let fixed = match name.contains('-') {
        true => script.replace(
            &format!("{}__subcmd__", name.replace('-', "__subcmd__")),
            &format!("{}__subcmd__", name.replace('-', "__")),
        ),
        false => script.into_owned(),
    };
    let _ = out.write_all(fixed.as_bytes());
}

/// Prints the completion script of `cmd` for `shell` to standard output; a
/// reader that stops early (`completions bash | head`) ends it quietly.
pub fn completions_to_stdout(cmd: Command, shell: Shell) -> std::io::Result<()> {
    let mut out = Vec::new();
    print_completions(cmd, shell, &mut out);
    dwell_core::files::to_stdout(out)
}

/// The man pages [`write_assets`] writes for `cmd`, sorted: the command's and
/// one per visible subcommand, nested ones too, named like git's.
pub fn page_names(cmd: &Command) -> Vec<String> {
    fn walk(prefix: &str, cmd: &Command, out: &mut Vec<String>) {
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            let name = format!("{prefix}-{}", sub.get_name());
            out.push(format!("{name}.1"));
            walk(&name, sub, out);
        }
    }
    let cmd = public(cmd.clone()).disable_help_subcommand(true);
    let mut out = vec![format!("{}.1", cmd.get_name())];
    walk(cmd.get_name(), &cmd, &mut out);
    out.sort();
    out
}

/// The completion file name Debian's directories expect for `bin` and `shell`.
pub fn completion_file(bin: &str, shell: Shell) -> String {
    match shell {
        Shell::Zsh => format!("_{bin}"),
        Shell::Fish => format!("{bin}.fish"),
        Shell::Elvish => format!("{bin}.elv"),
        Shell::PowerShell => format!("_{bin}.ps1"),
        _ => bin.to_owned(),
    }
}

/// A section of a command's own man page beyond what clap knows (FILES,
/// EXAMPLES, PRIVACY, SEE ALSO): its title and its text, in paragraphs; a
/// paragraph `term\tdescription` becomes a tagged paragraph (`.TP`).
#[derive(Debug, Clone, Copy)]
pub struct Section<'a> {
    pub title: &'a str,
    pub paragraphs: &'a [&'a str],
}

/// Where dwell keeps things: the FILES section of both commands' pages.
pub const FILES: Section<'static> = Section {
    title: "Files",
    paragraphs: &[
        "$XDG_CONFIG_HOME/dwell/config.toml\tYour settings (default ~/.config/dwell/config.toml): limits, work hours, reminders, sites. Check them with dwell-agent config check.",
        "$XDG_DATA_HOME/dwell/dwell.db\tWhat dwell recorded (default ~/.local/share/dwell/dwell.db, with its -wal and -shm files): your consent, the times spent per matched site label, reminders and your weekly notes. Never a window title or an address. Private to you (0600, in a 0700 directory); --data-dir or DWELL_DATA_DIR choose another place.",
        "$XDG_DATA_HOME/dwell/dwell.db.damaged-TIME\tA damaged database set aside, kept as it was; what could be read of it was copied into a fresh dwell.db.",
        "$XDG_DATA_HOME/dwell/agent.lock\tHeld by the running agent: one agent per data directory.",
        "~/.config/systemd/user/dwell-agent.service\tWritten by dwell-agent install where systemd runs your session (the package also ships /usr/lib/systemd/user/dwell-agent.service).",
        "~/.config/autostart/dwell-agent.desktop\tWritten by dwell-agent install --method autostart on desktops that read XDG autostart entries.",
        "~/.config/google-chrome/NativeMessagingHosts/org.dwell.agent.json\tWritten by dwell-agent browser install: the browser extension's host, one per browser (chromium, microsoft-edge, BraveSoftware/Brave-Browser, vivaldi under ~/.config, and ~/.mozilla/native-messaging-hosts for Firefox).",
        "~/.local/share/gnome-shell/extensions/dwell-focus@dwell/\tWritten by dwell-agent gnome-extension install: the small GNOME Shell extension that tells the agent which window has focus.",
    ],
};

/// What dwell keeps and shares: the PRIVACY section of both commands' pages.
pub const PRIVACY: Section<'static> = Section {
    title: "Privacy",
    paragraphs: &[
        "dwell is for you alone. Nothing leaves your computer: there is no network code and no listening socket. Nothing is recorded before you opt in (dwell-agent setup or enable). Window titles and web addresses are matched in memory and forgotten; only the matched site label and times are stored, in private files. Old data expires (data.keep in the config).",
        "You can pause (dwell-agent pause), look at everything kept (dwell-agent export), forget a site or a time range (dwell-agent forget) and erase it all (dwell-agent disable --erase) at any time.",
    ],
};

/// `text` as roff: backslashes and leading dots and quotes escaped.
fn roff_text(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    match escaped.starts_with(['.', '\'']) {
        true => format!("\\&{escaped}"),
        false => escaped,
    }
}

/// The roff of `sections`, to follow clap_mangen's page.
pub fn sections_roff(sections: &[Section<'_>]) -> String {
    let mut out = String::new();
    for section in sections {
        out.push_str(&format!(".SH \"{}\"\n", section.title.to_uppercase()));
        for p in section.paragraphs {
            match p.split_once('\t') {
                Some((term, text)) => {
                    out.push_str(&format!(
                        ".TP\n\\fB{}\\fR\n{}\n",
                        roff_text(term),
                        roff_text(text)
                    ));
                }
                None => out.push_str(&format!(".PP\n{}\n", roff_text(p))),
            }
        }
    }
    out
}

/// Writes the man pages of `cmd` and every visible subcommand into `dir/man/`,
/// and its bash, zsh and fish completions into `dir/completions/<shell>/`.
/// The pages carry `date` (`YYYY-MM-DD`); the command's own page ends with
/// `sections`. Returns the files written.
pub fn write_assets(
    cmd: Command,
    dir: &Path,
    date: &str,
    sections: &[Section<'_>],
) -> Result<Vec<PathBuf>, Error> {
    let mut written = Vec::new();
    let mut cmd = public(cmd).disable_help_subcommand(true);
    cmd.build();
    let man_dir = dir.join("man");
    create_dir(&man_dir)?;
    write_pages(&cmd, &man_dir, date, &mut written)?;
    if let Some(top) = written.first() {
        let mut page = std::fs::read(top).map_err(|source| Error {
            path: top.clone(),
            source,
        })?;
        page.extend_from_slice(sections_roff(sections).as_bytes());
        write(top, &page)?;
    }
    let name = cmd.get_name().to_owned();
    for shell in PACKAGED_SHELLS {
        let shell_dir = dir.join("completions").join(shell.to_string());
        create_dir(&shell_dir)?;
        let path = shell_dir.join(completion_file(&name, shell));
        let mut text = Vec::new();
        print_completions(cmd.clone(), shell, &mut text);
        write(&path, &text)?;
        written.push(path);
    }
    Ok(written)
}

/// One page for `cmd`, then one for each visible subcommand, recursively.
fn write_pages(
    cmd: &Command,
    dir: &Path,
    date: &str,
    written: &mut Vec<PathBuf>,
) -> Result<(), Error> {
    // Never an empty date: clap_mangen would write `.TH` with the fields shifted.
    let man = clap_mangen::Man::new(cmd.clone())
        .date(date)
        .manual("dwell");
    let path = dir.join(man.get_filename());
    let mut page = Vec::new();
    man.render(&mut page).map_err(|source| Error {
        path: path.clone(),
        source,
    })?;
    write(&path, &page)?;
    written.push(path);
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_pages(sub, dir, date, written)?;
    }
    Ok(())
}

fn create_dir(dir: &Path) -> Result<(), Error> {
    std::fs::create_dir_all(dir).map_err(|source| Error {
        path: dir.to_owned(),
        source,
    })
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    std::fs::write(path, bytes).map_err(|source| Error {
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use clap::Arg;

    fn sample() -> Command {
        Command::new("tool")
            .version("1.0")
            .about("A tool.")
            .arg(Arg::new("dir").long("dir").global(true))
            .subcommand(Command::new("status").about("Status."))
            .subcommand(
                Command::new("config")
                    .about("Config.")
                    .subcommand(Command::new("check").about("Check.")),
            )
            .subcommand(Command::new("secret").hide(true))
    }

    /// What bash offers for `line` (the words typed so far, the last one being
    /// completed) with the completion script of `cmd` loaded.
    fn bash_offers(cmd: Command, line: &[&str]) -> Vec<String> {
        let mut script = Vec::new();
        print_completions(cmd.clone(), Shell::Bash, &mut script);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("completion.bash");
        std::fs::write(&path, &script).unwrap();
        let words: Vec<String> = line.iter().map(|w| format!("'{w}'")).collect();
        let name = cmd.get_name().replace('-', "__");
        let driver = format!(
            "source '{}'\nCOMP_WORDS=({})\nCOMP_CWORD={}\n_{name} '{}' '{}' '{}'\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
            path.display(),
            words.join(" "),
            line.len() - 1,
            line[0],
            line[line.len() - 1],
            line[line.len() - 2],
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

    fn hyphenated() -> Command {
        Command::new("dwell-agent")
            .subcommand(
                Command::new("browser")
                    .subcommand(Command::new("install"))
                    .subcommand(Command::new("uninstall")),
            )
            .subcommand(Command::new("gnome-extension").subcommand(Command::new("install")))
            .subcommand(
                Command::new("week").arg(
                    Arg::new("format")
                        .long("format")
                        .value_parser(["table", "json", "csv"]),
                ),
            )
    }

    #[test]
    fn bash_completes_past_the_first_word_of_a_hyphenated_binary() {
        let offered = bash_offers(hyphenated(), &["dwell-agent", "browser", ""]);
        assert!(offered.contains(&"install".to_owned()), "{offered:?}");
        let offered = bash_offers(hyphenated(), &["dwell-agent", "gnome-extension", ""]);
        assert!(offered.contains(&"install".to_owned()), "{offered:?}");
        let offered = bash_offers(hyphenated(), &["dwell-agent", "week", "--format", ""]);
        assert_eq!(offered, ["table", "json", "csv"]);
        let offered = bash_offers(hyphenated(), &["dwell-agent", "w"]);
        assert_eq!(offered, ["week"]);
    }

    #[test]
    fn pages_for_every_visible_subcommand_named_like_git() {
        let dir = tempfile::tempdir().unwrap();
        let sections = [
            Section {
                title: "Files",
                paragraphs: &["~/.config/tool.toml\tThe settings.", ".dotted - text"],
            },
            Section {
                title: "See also",
                paragraphs: &["other(1)"],
            },
        ];
        let written = write_assets(sample(), dir.path(), "2026-12-01", &sections).unwrap();
        let names: Vec<String> = written
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        for page in [
            "tool.1",
            "tool-status.1",
            "tool-config.1",
            "tool-config-check.1",
        ] {
            assert!(names.contains(&page.to_owned()), "{page} in {names:?}");
        }
        assert!(!names
            .iter()
            .any(|n| n.contains("secret") || n.contains("help")));
        for (shell, file) in [("bash", "tool"), ("zsh", "_tool"), ("fish", "tool.fish")] {
            let p = dir.path().join("completions").join(shell).join(file);
            let text = std::fs::read_to_string(&p).unwrap();
            assert!(text.contains("status"), "{shell}");
            assert!(!text.contains("secret"), "{shell}: {text}");
        }
        let top = std::fs::read_to_string(dir.path().join("man/tool.1")).unwrap();
        assert!(top.contains("status") && !top.contains("secret"), "{top}");
        assert!(
            top.contains(".SH \"FILES\"\n.TP\n\\fB~/.config/tool.toml\\fR\nThe settings.\n.PP\n\\&.dotted \\- text\n.SH \"SEE ALSO\"\n"),
            "{top}"
        );
        let sub = std::fs::read_to_string(dir.path().join("man/tool-status.1")).unwrap();
        assert!(!sub.contains("FILES"), "{sub}");
        assert!(
            top.contains("\n.TH tool 1 2026-12-01 \"tool 1.0\" dwell\n"),
            "{top}"
        );
    }
}
