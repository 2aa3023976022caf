//! The `dwell-agent` command line: parses it and calls the subcommand's module
//! in [`crate::cmd`].
//!
//! Exit codes: 0 done, 1 something failed (trying again may work), 2 refused
//! (not enabled, bad config, bad input) or a failure only the employee can fix
//! (a damaged database beyond salvage, a read-only disk, no permission, a full
//! disk): the message says what to do. The systemd unit does not restart on 2.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Result;
use clap::{CommandFactory, Parser, Subcommand};

use crate::cmd::{self, Global};

#[derive(Parser, Debug)]
#[command(
    name = "dwell-agent",
    version,
    about = "Counts your own time on social sites during work hours, privately, and reminds you gently.",
    long_about = None
)]
pub struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Opt in: explains what is recorded, asks, and records your consent.
    Enable {
        /// Do not ask (for scripts).
        #[arg(long)]
        yes: bool,
    },
    /// Opt out: stop recording (a running agent stops). Data is kept unless --erase.
    Disable {
        /// Also delete everything dwell recorded.
        #[arg(long)]
        erase: bool,
        /// Do not ask first (on a terminal, `--erase` says what it deletes and asks).
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// Run the agent in the foreground (SIGTERM or Ctrl-C stops it cleanly).
    Run,
    /// Whether dwell is enabled and running, and today's time against your limit.
    Status {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Show or check the configuration.
    Config {
        #[command(subcommand)]
        action: cmd::config::ConfigAction,
    },
    /// A walk-through: what is recorded, your consent, limits and hours; writes your config.
    Setup(cmd::setup::SetupArgs),
    /// Start dwell at login (systemd user unit, or XDG autostart entry).
    Install(cmd::install::InstallArgs),
    /// Stop starting dwell at login (--all: also the browser hosts and the GNOME extension).
    Uninstall(cmd::install::UninstallArgs),
    /// Off the record: nothing is recorded for DURATION (default 1h) or until `resume`.
    Pause(cmd::pause::PauseArgs),
    /// End a pause.
    Resume,
    /// No reminders for DURATION (default: your snooze length), like the reminder's "Snooze".
    Snooze(cmd::snooze::SnoozeArgs),
    /// No more reminders today, like the reminder's "Done for today" (counting goes on).
    DoneForToday,
    /// Delete recorded data for good: a range of days, one site, or everything.
    Forget(cmd::forget::ForgetArgs),
    /// Export your recorded data as JSON or CSV.
    Export(cmd::export::ExportArgs),
    /// Your limits: a suggestion from your own recorded days.
    Limits {
        #[command(subcommand)]
        action: cmd::limits::LimitsAction,
    },
    /// The GNOME Shell extension that tells dwell which window has focus (GNOME on Wayland).
    GnomeExtension {
        #[command(subcommand)]
        action: cmd::gnome_extension::GnomeExtensionAction,
    },
    /// Let dwell's browser extension tell the agent the focused tab's site (host name only).
    Browser {
        #[command(subcommand)]
        action: crate::browser::BrowserAction,
    },
    /// The native-messaging host the browser extension talks to (browsers start it).
    #[command(hide = true)]
    NativeHost {
        /// What the browser passes (its caller's origin).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) to standard output.
    Completions(dwell_clidoc::CompletionsArgs),
    /// For packaging: write man pages, completions and the packaged systemd unit into --out.
    #[command(hide = true)]
    GenerateAssets(dwell_clidoc::GenerateAssetsArgs),
}

pub fn main() -> ExitCode {
    // A browser starts the manifest's `path` (this program) with its own
    // arguments only: that is the native-messaging host.
    let argv: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    if crate::browser::started_by_browser(&argv) {
        init_logging();
        return match crate::native_host::run(&argv[1..]) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("dwell-agent native-host: {e:#}");
                ExitCode::from(1)
            }
        };
    }
    let cli = Cli::parse();
    init_logging();
    finish(dispatch(cli))
}

/// `dwell-agent run` and nothing else, for a program of its own: Windows'
/// windowless `dwell-agent-background.exe`, which the log-in `Run` value
/// starts (`src/bin/dwell-agent-background.rs`). `args` are what follows
/// the program's name, with or without `run` first; any other subcommand is
/// refused (exit 2). Logs and errors go where `run`'s go: standard error.
pub fn run_only(args: impl IntoIterator<Item = std::ffi::OsString>) -> ExitCode {
    let mut args = args.into_iter().peekable();
    let mut argv = vec![std::ffi::OsString::from("dwell-agent")];
    if args.peek().is_none_or(|a| a != "run") {
        argv.push("run".into());
    }
    argv.extend(args);
    let cli = match Cli::try_parse_from(argv) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(2);
        }
    };
    init_logging();
    match cli.command {
        Command::Run => finish(cmd::run::run(&cli.global)),
        _ => {
            eprintln!("dwell-agent-background: runs the agent only (`dwell-agent` has the other commands)");
            ExitCode::from(2)
        }
    }
}

/// A command's result as the exit code, its error said on one line.
fn finish(result: Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dwell-agent: {}", dwell_core::exit::one_line(e.chain()));
            ExitCode::from(exit_code(&e))
        }
    }
}

/// See [`dwell_core::exit`].
fn exit_code(e: &anyhow::Error) -> u8 {
    dwell_core::exit::code(e.chain())
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("DWELL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init();
}

fn dispatch(cli: Cli) -> Result<()> {
    let g = &cli.global;
    match &cli.command {
        Command::Enable { yes } => cmd::enable::enable(g, *yes),
        Command::Disable { erase, yes } => cmd::disable::disable(g, *erase, *yes),
        Command::Run => cmd::run::run(g),
        Command::Status { json } => cmd::status::status(g, *json),
        Command::Config { action } => cmd::config::config(g, action),
        Command::Setup(args) => cmd::setup::setup(g, args),
        Command::Install(args) => cmd::install::install(g, args),
        Command::Uninstall(args) => cmd::install::uninstall(g, args),
        Command::Pause(args) => cmd::pause::pause(g, args),
        Command::Resume => cmd::pause::resume(g),
        Command::Snooze(args) => cmd::snooze::snooze(g, args),
        Command::DoneForToday => cmd::snooze::done_for_today(g),
        Command::Forget(args) => cmd::forget::forget(g, args),
        Command::Export(args) => cmd::export::export(g, args),
        Command::Limits { action } => cmd::limits::limits(g, action),
        Command::GnomeExtension { action } => cmd::gnome_extension::gnome_extension(g, action),
        Command::Browser { action } => crate::browser::browser(g, action),
        Command::NativeHost { args } => crate::native_host::run(args),
        Command::Completions(args) => cmd::assets::completions(Cli::command(), args),
        Command::GenerateAssets(args) => cmd::assets::generate(Cli::command(), args),
    }
}
