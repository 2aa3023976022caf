//! The `dwell-agent` command line: opting in and out, running, status, config.
//!
//! Exit codes: 0 done, 1 something failed (trying again may work), 2 refused
//! (not enabled, bad config, bad input) or a failure only the employee can fix
//! (a damaged database beyond salvage, a read-only disk, no permission, a full
//! disk): the message says what to do. The systemd unit does not restart on 2.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use chrono::{Local, TimeZone, Utc};
use clap::{Parser, Subcommand};
use dwell_core::paths::{self, DB_FILE};
use dwell_core::policy::{self, Policy};
use dwell_core::store::StoreError;
use dwell_core::{schedule, Config, Store};
use serde::Serialize;

use crate::lock::{self, AgentLock};

#[derive(Parser, Debug)]
#[command(
    name = "dwell-agent",
    version,
    about = "Counts your own time on social sites during work hours, privately, and reminds you gently.",
    long_about = None
)]
pub struct Cli {
    /// Where dwell keeps its data [default: $XDG_DATA_HOME/dwell]
    #[arg(long, global = true, env = "DWELL_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// The config file [default: $XDG_CONFIG_HOME/dwell/config.toml]
    #[arg(long, global = true, env = "DWELL_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
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
        action: ConfigAction,
    },
    /// A walk-through: what is recorded, your consent, limits and hours; writes your config.
    Setup(crate::setup::SetupArgs),
    /// Start dwell at login (systemd user unit, or XDG autostart entry).
    Install(crate::install::InstallArgs),
    /// Stop starting dwell at login.
    Uninstall,
    /// Off the record: nothing is recorded for DURATION (default 1h) or until `resume`.
    Pause(crate::control::PauseArgs),
    /// End a pause.
    Resume,
    /// Delete recorded data for good: a range of days, one site, or everything.
    Forget(crate::data_cmds::ForgetArgs),
    /// Export your recorded data as JSON or CSV.
    Export(crate::data_cmds::ExportArgs),
    /// Your limits: a suggestion from your own recorded days.
    Limits {
        #[command(subcommand)]
        action: crate::limits::LimitsAction,
    },
    /// The GNOME Shell extension that tells dwell which window has focus (GNOME on Wayland).
    GnomeExtension {
        #[command(subcommand)]
        action: crate::gnome_extension::GnomeExtensionAction,
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

impl Cli {
    /// `--data-dir`/`DWELL_DATA_DIR`, when given.
    pub(crate) fn explicit_data_dir(&self) -> Option<&Path> {
        self.data_dir.as_deref()
    }

    /// `--config`/`DWELL_CONFIG`, when given.
    pub(crate) fn explicit_config(&self) -> Option<&Path> {
        self.config.as_deref()
    }
}

#[derive(Subcommand, Debug)]
enum ConfigAction {
    /// Print a fully commented config file with the defaults.
    Example,
    /// Validate the config file.
    Check,
}

pub use dwell_core::exit::Refused;

pub(crate) fn refused(msg: impl Into<String>) -> anyhow::Error {
    anyhow!(Refused(msg.into()))
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
    match dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dwell-agent: {e:#}");
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

pub(crate) fn data_dir(cli: &Cli) -> Result<PathBuf> {
    Ok(paths::data_dir(cli.data_dir.as_deref())?)
}

pub(crate) fn config_path(cli: &Cli) -> Option<PathBuf> {
    paths::config_file(cli.config.as_deref())
}

/// Loads the config file, or the built-in defaults when there is none.
pub(crate) fn load_config(cli: &Cli) -> Result<Config> {
    Ok(paths::load_config(cli.config.as_deref())?)
}

fn dispatch(cli: Cli) -> Result<()> {
    match &cli.command {
        Command::Enable { yes } => enable(&cli, *yes),
        Command::Disable { erase, yes } => disable(&cli, *erase, *yes),
        Command::Run => run(&cli),
        Command::Status { json } => status(&cli, *json),
        Command::Config { action } => match action {
            ConfigAction::Example => {
                print!("{}", Config::example());
                Ok(())
            }
            ConfigAction::Check => config_check(&cli),
        },
        Command::Setup(args) => crate::setup::setup(&cli, args),
        Command::Install(args) => crate::install::install(&cli, args),
        Command::Uninstall => crate::install::uninstall(&cli),
        Command::Pause(args) => crate::control::pause(&cli, args),
        Command::Resume => crate::control::resume(&cli),
        Command::Forget(args) => crate::data_cmds::forget(&cli, args),
        Command::Export(args) => crate::data_cmds::export(&cli, args),
        Command::Limits { action } => crate::limits::limits(&cli, action),
        Command::GnomeExtension { action } => crate::gnome_extension::gnome_extension(&cli, action),
        Command::Browser { action } => crate::browser::browser(&cli, action),
        Command::NativeHost { args } => crate::native_host::run(args),
        Command::Completions(args) => crate::assets::completions(args),
        Command::GenerateAssets(args) => crate::assets::generate(args),
    }
}

pub(crate) const EXPLAIN: &str = "\
dwell counts your own time on social sites and apps during work hours, so
that you can keep personal use from becoming excessive. It is for you alone.

What dwell records, on this computer only:
  - which social site or app had focus (a label such as \"reddit.com\"),
    with start and end times;
  - a total of other active time, with no names, so you can see the share.

What dwell never records:
  - window titles, web addresses (URLs), page contents;
  - keystrokes, mouse movements, screenshots;
  - anything outside your recording hours (work hours by default).

Nothing leaves this computer: dwell has no network code. Files are private
to you (0600). You can pause, look at, export and erase your data at any time.
";

fn enable(cli: &Cli, yes: bool) -> Result<()> {
    let dir = data_dir(cli)?;
    let config = load_config(cli)?;
    print!("{EXPLAIN}");
    println!("Data directory: {}", dir.display());
    if !yes {
        if !std::io::stdin().is_terminal() {
            return Err(refused(
                "not asking without a terminal: run `dwell-agent enable --yes` to opt in from a script",
            ));
        }
        print!("\nStart recording? [y/N] ");
        std::io::stdout().flush().ok();
        let mut answer = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut answer)
            .context("cannot read your answer")?;
        if !matches!(
            answer.trim().to_lowercase().as_str(),
            "y" | "yes" | "o" | "oui"
        ) {
            println!("Nothing was changed; dwell is not recording.");
            return Ok(());
        }
    }
    let store = Store::open(&dir).context("cannot create the dwell database")?;
    let now = Utc::now();
    store
        .set_consent(now)
        .context("cannot record your consent")?;
    let _ = config;
    println!(
        "\nEnabled at {}. Start the agent with `dwell-agent run` (it stops with Ctrl-C).",
        now.with_timezone(&Local).format("%Y-%m-%d %H:%M")
    );
    println!("Opt out any time with `dwell-agent disable` (add --erase to delete your data).");
    Ok(())
}

/// Asks a running agent to stop, and waits for it (up to 15 s).
fn stop_agent(dir: &Path) -> Result<bool> {
    let Some(pid) = lock::holder_pid(dir) else {
        return Ok(false);
    };
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .context("cannot run `kill` to stop the running agent")?;
    if !status.success() {
        return Ok(false);
    }
    for _ in 0..150 {
        if !AgentLock::is_held(dir) {
            return Ok(true);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(anyhow!(
        "the running agent (pid {pid}) did not stop within 15 s; stop it and try again"
    ))
}

fn disable(cli: &Cli, erase: bool, yes: bool) -> Result<()> {
    let dir = data_dir(cli)?;
    let Some(store) = Store::open_existing(&dir)? else {
        println!(
            "dwell was not enabled here ({}); nothing to do.",
            dir.display()
        );
        return Ok(());
    };
    if erase {
        let what = format!(
            "This stops dwell and deletes everything it recorded in {} for good (spans, reminders, notes, your consent, and any damaged copies set aside).",
            dir.display()
        );
        if !crate::ask::confirm(&what, yes)? {
            return Ok(());
        }
    }
    store.clear_consent().context("cannot withdraw consent")?;
    drop(store);
    if stop_agent(&dir)? {
        println!("Stopped the running agent.");
    }
    if erase {
        // The database, its -wal and -shm, and what a salvage left: damaged
        // copies set aside (dwell.db.damaged-*) and an unfinished rebuild.
        let entries =
            std::fs::read_dir(&dir).with_context(|| format!("cannot list {}", dir.display()))?;
        for entry in entries {
            let entry = entry.with_context(|| format!("cannot list {}", dir.display()))?;
            if entry.file_name().to_string_lossy().starts_with(DB_FILE) {
                let p = entry.path();
                std::fs::remove_file(&p)
                    .with_context(|| format!("cannot delete {}", p.display()))?;
            }
        }
        let _ = std::fs::remove_file(dir.join(paths::LOCK_FILE));
        let _ = std::fs::remove_dir(&dir);
        println!("Disabled. Everything dwell recorded has been deleted.");
    } else {
        println!(
            "Disabled: nothing more will be recorded. Your data is kept in {} (erase it with `dwell-agent disable --erase`).",
            dir.display()
        );
    }
    Ok(())
}

fn run(cli: &Cli) -> Result<()> {
    let dir = data_dir(cli)?;
    let config = load_config(cli)?;
    let db = dir.join(DB_FILE);
    match std::fs::symlink_metadata(&db) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(not_enabled(&dir)),
        Err(e) => return Err(StoreError::from_io(&db, e).into()),
    }
    // Another agent on the same data: refused (exit 2), so a service manager
    // does not keep restarting a second one.
    if AgentLock::is_held(&dir) {
        return Err(refused(format!(
            "another dwell-agent is already running on {} (stop it first, or use another --data-dir)",
            dir.display()
        )));
    }
    // The lock comes first: a damaged database is moved aside only while no
    // other agent can be writing to it.
    let lock = AgentLock::acquire(&dir).map_err(|e| unwritable(&dir, e))?;
    let live_path = config_path(cli);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    // SIGTERM and SIGINT are caught from here on, before any watcher thread
    // (which may run a runtime of its own) starts: none is ever missed.
    let (mut term, mut int) = {
        use tokio::signal::unix::{signal, SignalKind};
        let _in_runtime = runtime.enter();
        (
            signal(SignalKind::terminate()).ok(),
            signal(SignalKind::interrupt()).ok(),
        )
    };
    let mut recovered_at: Option<std::time::Instant> = None;
    loop {
        let store = open_for_run(&dir)?;
        let shutdown = async {
            match (term.as_mut(), int.as_mut()) {
                (Some(term), Some(int)) => {
                    tokio::select! {
                        _ = term.recv() => {}
                        _ = int.recv() => {}
                    }
                }
                _ => std::future::pending::<()>().await,
            }
        };
        let result = runtime.block_on(crate::run::run_live(
            config.clone(),
            live_path.clone(),
            Some(lock.health_note()),
            store,
            shutdown,
        ));
        // Damage found while running (the daily check): the loop stopped
        // writing; move the file aside and go on with what can be read, once
        // an hour at most (more often, the disk itself is failing).
        match result {
            Err(e) if is_damaged(&e) && recovered_at.is_none_or(|t| t.elapsed() > HOUR) => {
                tracing::warn!("{e:#}: moving it aside");
                recovered_at = Some(std::time::Instant::now());
            }
            other => return other,
        }
    }
}

const HOUR: Duration = Duration::from_secs(3600);

fn not_enabled(dir: &Path) -> anyhow::Error {
    refused(format!(
        "not enabled: nothing is recorded until you opt in with `dwell-agent enable` (data dir {})",
        dir.display()
    ))
}

/// Opens the database for the run loop: checked first, and a damaged one
/// moved aside and rebuilt from what can be read ([`Store::open_checked`]),
/// which the log says in one line.
fn open_for_run(dir: &Path) -> Result<Store> {
    let (mut store, salvage) = Store::open_checked(dir, Utc::now())?;
    if let Some(s) = salvage {
        if !s.consent {
            return Err(refused(format!(
                "{} was damaged and has been moved to {}; your consent could not be read from it, so nothing is recorded until you opt in again with `dwell-agent enable`",
                store.path().display(),
                s.moved_to.display()
            )));
        }
        tracing::warn!(detail = %s.detail, "{}", s.note);
    }
    if store.consent()?.is_none() {
        return Err(not_enabled(dir));
    }
    // The per-day rollups the report reads, kept in the local time zone;
    // without them the report counts from the spans (slower, same figures).
    if let Err(e) = store.keep_rollups(chrono::Local) {
        tracing::warn!(error = %e, "cannot keep the per-day totals; reports read the spans");
    }
    Ok(store)
}

/// Whether `e` says the database was found damaged.
fn is_damaged(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        matches!(
            cause.downcast_ref::<StoreError>(),
            Some(StoreError::Damaged { .. })
        )
    })
}

/// A failure to take the lock in `dir`, typed when the employee must act (a
/// read-only disk, a directory that is not theirs, a full disk).
fn unwritable(dir: &Path, e: anyhow::Error) -> anyhow::Error {
    let typed = e
        .chain()
        .find_map(|cause| cause.downcast_ref::<std::io::Error>())
        .and_then(std::io::Error::raw_os_error)
        .map(|code| StoreError::from_io(dir, std::io::Error::from_raw_os_error(code)))
        .filter(StoreError::is_permanent);
    match typed {
        Some(typed) => typed.into(),
        None => e,
    }
}

#[derive(Serialize)]
struct Status {
    enabled: bool,
    enabled_at: Option<String>,
    running: bool,
    recording: bool,
    paused_until: Option<String>,
    today_seconds: f64,
    daily_limit_seconds: u64,
    weekly_limit_seconds: u64,
    /// The current streak (visits closer than `limits.streak_gap`), and its limit.
    streak_seconds: f64,
    streak_limit_seconds: u64,
    /// This week's social time (from `[schedule] week_start`).
    week_seconds: f64,
    reminders_enabled: bool,
    /// The next reminder stage not yet reached today, as a fraction of the daily
    /// limit, and the social time at which it comes.
    next_stage: Option<f64>,
    next_stage_seconds: Option<u64>,
    snoozes_left: u32,
    snoozed_until: Option<String>,
    done_for_today: bool,
    data_dir: PathBuf,
    db_bytes: u64,
    config_file: Option<PathBuf>,
    /// Why the running agent refused the config file as it is now (it keeps
    /// the previous one in force); `None` when it took it.
    config_error: Option<String>,
    /// What the running agent watches focus with (`x11`, `wlroots`, `kwin`,
    /// `gnome`); `None` when no agent runs.
    backend: Option<String>,
    /// Where it learns how long you have been away from the keyboard
    /// (`x11-sync`, `x11-screensaver`, `ext-idle-notify`, `kde-idle`, `mutter`); `None` when
    /// no agent runs or the desktop offers none.
    idle_source: Option<String>,
    /// What to do for the agent to see focus or idle time, when something is missing.
    watch_hint: Option<String>,
    /// What happened to a damaged database (moved aside, salvaged), with its path.
    database_note: Option<String>,
    /// The end of the calibration period (recording without reminders), while it lasts.
    calibrating_until: Option<String>,
    /// Since when the running agent cannot write to the database (it keeps
    /// what it sees in memory and retries); `None` while writes work.
    writes_failing_since: Option<String>,
    /// Why the running agent sends no notifications, when it knows.
    notifications_off: Option<String>,
    /// Browsers whose dwell extension reported to the running agent.
    browsers: Vec<crate::browser::BrowserStatus>,
}

fn status(cli: &Cli, json: bool) -> Result<()> {
    let dir = data_dir(cli)?;
    // A broken config file does not hide the status: it is shown as the error.
    let (config, file_error) = match load_config(cli) {
        Ok(c) => (c, None),
        Err(e) => (Config::default(), Some(format!("{e:#}"))),
    };
    let db = dir.join(DB_FILE);
    let store = if db.exists() {
        Some(Store::open_read_only(&db)?)
    } else {
        None
    };
    let consent = match &store {
        Some(s) => s.consent()?,
        None => None,
    };
    let running = AgentLock::is_held(&dir);
    let running_meta = |key: &str| -> Result<Option<String>> {
        Ok(match (&store, running) {
            (Some(s), true) => s.meta_get(key)?,
            _ => None,
        })
    };
    let agent_error = running_meta(crate::run::CONFIG_ERROR_KEY)?;
    let backend = running_meta(crate::run::BACKEND_KEY)?;
    let idle_source = running_meta(crate::run::IDLE_SOURCE_KEY)?;
    let watch_hint = running_meta(crate::run::HINT_KEY)?;
    let browsers: Vec<crate::browser::BrowserStatus> = running_meta(crate::run::BROWSERS_KEY)?
        .and_then(|j| serde_json::from_str(&j).ok())
        .unwrap_or_default();
    let notifications_off = running_meta(crate::run::NOTIFY_OFF_KEY)?;
    let writes_failing_since = lock::holder(&dir).and_then(|h| h.writes_failing_since);
    let now = Utc::now();
    let pause = match &store {
        Some(s) => dwell_core::control::paused(s, now)?,
        None => None,
    };
    let outlook = reminder_outlook(store.as_ref(), &config, now, &Local)?;
    // While calibrating, the agent records but does not remind.
    let calibrating_until =
        dwell_core::calibrate::calibration_end(consent, config.tracking.calibrate)
            .filter(|end| *end > now);
    let st = Status {
        enabled: consent.is_some(),
        enabled_at: consent.map(|c| c.to_rfc3339()),
        running,
        recording: running
            && consent.is_some()
            && pause.is_none()
            && config.schedule.is_recording(now, &Local),
        paused_until: pause.map(|p| match p.until() {
            Some(t) => local_rfc3339(t),
            None => p.to_value(),
        }),
        today_seconds: outlook.figures.today.as_secs_f64().round(),
        daily_limit_seconds: config.limits.daily.as_secs(),
        weekly_limit_seconds: config.limits.weekly.as_secs(),
        streak_seconds: outlook.figures.streak.as_secs_f64().round(),
        streak_limit_seconds: config.limits.streak.as_secs(),
        week_seconds: outlook.figures.week.as_secs_f64().round(),
        reminders_enabled: config.reminders.enabled,
        next_stage: outlook.next_stage,
        next_stage_seconds: outlook.next_stage_at.map(|d| d.as_secs()),
        snoozes_left: outlook.snoozes_left,
        snoozed_until: outlook.snoozed_until.map(local_rfc3339),
        calibrating_until: calibrating_until.map(local_rfc3339),
        done_for_today: outlook.done_for_today,
        data_dir: dir.clone(),
        db_bytes: store.as_ref().map(|s| s.size_bytes()).unwrap_or(0),
        config_file: config_path(cli).filter(|p| p.exists()),
        config_error: agent_error.or(file_error),
        backend,
        idle_source,
        watch_hint,
        database_note: match &store {
            Some(s) => s.database_note()?,
            None => None,
        },
        writes_failing_since: writes_failing_since.map(local_rfc3339),
        notifications_off,
        browsers: browsers
            .into_iter()
            .map(|mut b| {
                if let Ok(t) = chrono::DateTime::parse_from_rfc3339(&b.last_seen) {
                    b.last_seen = local_rfc3339(t.with_timezone(&Utc));
                }
                b
            })
            .collect(),
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&st)?);
        return Ok(());
    }
    let yn = |b: bool| if b { "yes" } else { "no" };
    println!("enabled:    {}", yn(st.enabled));
    println!(
        "agent:      {}",
        if !st.running {
            "not running"
        } else if pause.is_some() {
            "running, paused"
        } else if st.recording {
            "running, recording"
        } else {
            "running, outside recording hours"
        }
    );
    if st.running {
        let backend = match st.backend.as_deref() {
            Some("x11") => "X11",
            Some("wlroots") => "Wayland (wlroots foreign-toplevel)",
            Some("kwin") => "KDE Plasma (KWin script)",
            Some("gnome") => "GNOME Shell (dwell's extension)",
            Some(other) => other,
            None => "unknown (an older agent?)",
        };
        let idle = match st.idle_source.as_deref() {
            Some("x11-sync") => "X11 SYNC idle counter",
            Some("x11-screensaver") => "X11 screen saver extension",
            Some("ext-idle-notify") => "Wayland ext-idle-notify",
            Some("kde-idle") => "Wayland org_kde_kwin_idle",
            Some("mutter") => "GNOME Mutter idle monitor",
            Some(other) => other,
            None => "none: time away from the keyboard is not cut",
        };
        println!("watching:   focus through {backend}; idle through {idle}");
    }
    if let Some(hint) = &st.watch_hint {
        println!("note:       {hint}");
    }
    for b in &st.browsers {
        let state = if b.connected {
            "extension connected: counted by host name"
        } else {
            "extension not connected: counted by window title"
        };
        println!("browser:    {} ({state})", b.browser);
    }
    if let Some(note) = &st.database_note {
        println!("database:   {note}");
    }
    if let Some(since) = writes_failing_since {
        println!(
            "writes:     failing since {} (the agent keeps what it sees in memory and retries; see its log for why)",
            local_moment(since, now)
        );
    }
    if let Some(p) = pause {
        let until = match p.until() {
            Some(t) => format!("until {}", local_moment(t, now)),
            None => "until you resume".to_owned(),
        };
        println!("paused:     {until} (`dwell-agent resume` ends it)");
    }
    println!(
        "today:      {} of your {} daily limit",
        fmt_minutes(st.today_seconds),
        fmt_minutes(st.daily_limit_seconds as f64)
    );
    println!(
        "streak:     {} now, your streak limit is {}",
        fmt_minutes(st.streak_seconds),
        fmt_minutes(st.streak_limit_seconds as f64)
    );
    println!(
        "this week:  {} of your {} weekly limit",
        fmt_minutes(st.week_seconds),
        fmt_minutes(st.weekly_limit_seconds as f64)
    );
    let reminders = if !st.reminders_enabled {
        "off (reminders.enabled = false)".to_owned()
    } else if let Some(why) = &st.notifications_off {
        why.clone()
    } else if let Some(end) = calibrating_until {
        format!(
            "calibrating until {}: no reminders yet (then `dwell-agent limits suggest`)",
            local_moment(end, now)
        )
    } else if st.done_for_today {
        "done for today".to_owned()
    } else {
        let next = match (st.next_stage, st.next_stage_seconds) {
            (Some(f), Some(secs)) => format!(
                "next at {:.0}% of your daily limit ({})",
                f * 100.0,
                fmt_minutes(secs as f64)
            ),
            _ => "all of today's stages reached".to_owned(),
        };
        let snoozed = match &outlook.snoozed_until {
            Some(t) => format!(
                ", snoozed until {}",
                t.with_timezone(&Local).format("%H:%M")
            ),
            None => String::new(),
        };
        format!("{next}; {} snooze(s) left today{snoozed}", st.snoozes_left)
    };
    println!("reminders:  {reminders}");
    println!("data:       {} ({} KB)", dir.display(), st.db_bytes / 1024);
    if let Some(err) = &st.config_error {
        println!("\nThe config file has a problem; the agent keeps the previous settings until it is fixed:\n  {err}");
    }
    if !st.enabled {
        println!("\nNothing is recorded until you opt in: `dwell-agent enable`.");
    }
    Ok(())
}

/// Today's standing against the limits at `now`, as the agent's reminder policy
/// sees it: the stored spans of the week counted by the usage ledger, today's
/// reminders replayed.
fn reminder_outlook<Tz: TimeZone>(
    store: Option<&Store>,
    config: &Config,
    now: chrono::DateTime<Utc>,
    tz: &Tz,
) -> Result<policy::Outlook> {
    let mut policy = Policy::from_config(config);
    if let Some(s) = store {
        let from = Policy::history_start(now, tz);
        policy.record_stored(&s.spans(from, now)?, from, now, tz);
        let (day_start, _) = schedule::local_day_bounds(schedule::local_date(now, tz), tz);
        let todays = s.reminders(day_start, now + chrono::Duration::seconds(1))?;
        policy.restore(now, tz, &todays);
    }
    Ok(policy.outlook(now, None, tz))
}

/// A moment for programs: RFC 3339 in local time, with its offset, to the second.
pub(crate) fn local_rfc3339(t: chrono::DateTime<Utc>) -> String {
    t.with_timezone(&Local)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// A moment for people, in local time: `14:10` today, else `Tue 2 Dec 14:10`.
fn local_moment(t: chrono::DateTime<Utc>, now: chrono::DateTime<Utc>) -> String {
    let (t, now) = (t.with_timezone(&Local), now.with_timezone(&Local));
    if t.date_naive() == now.date_naive() {
        t.format("%H:%M").to_string()
    } else {
        t.format("%a %-d %b %H:%M").to_string()
    }
}

/// A duration for people (`50s`, `1m 31s`, `45m`, `2h 30m`): the one style of
/// both binaries, [`dwell_core::text::duration`]; the terminal speaks English.
pub(crate) fn fmt_minutes(secs: f64) -> String {
    dwell_core::text::duration(secs.round() as i64, dwell_core::messages::Lang::En)
}

fn config_check(cli: &Cli) -> Result<()> {
    let Some(path) = config_path(cli) else {
        println!("no config file location (HOME unset): built-in defaults are in use");
        return Ok(());
    };
    if cli.config.is_none() && !path.exists() {
        println!(
            "no config file at {}: built-in defaults are in use (`dwell-agent config example` prints them)",
            path.display()
        );
        return Ok(());
    }
    let config = Config::load(&path).map_err(|e| refused(e.to_string()))?;
    println!(
        "{}: ok (daily {}, streak {}, weekly {}, {} own rule(s))",
        path.display(),
        humanize(config.limits.daily),
        humanize(config.limits.streak),
        humanize(config.limits.weekly),
        config.rules.len()
    );
    Ok(())
}

fn humanize(d: Duration) -> String {
    fmt_minutes(d.as_secs_f64())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use dwell_core::ledger::fixture;

    /// `status` shows, for the stored fixture, the figures every other consumer
    /// shows (see `dwell_core::ledger`'s tests and the report's).
    #[test]
    fn status_counts_the_fixture_like_everyone() {
        let tz: chrono_tz::Tz = fixture::ZONE.parse().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        store.put_spans(&fixture::spans()).unwrap();
        for config in [fixture::config_then(), fixture::config_now()] {
            for m in fixture::moments() {
                let o = reminder_outlook(Some(&store), &config, m.now, &tz).unwrap();
                let secs = |d: Duration| d.as_secs_f64().round() as i64;
                assert_eq!(secs(o.figures.today), m.today_seconds, "{}", m.now);
                assert_eq!(secs(o.figures.week), m.week_seconds, "{}", m.now);
                assert_eq!(secs(o.figures.streak), m.streak_seconds, "{}", m.now);
            }
        }
        let o = reminder_outlook(None, &fixture::config_now(), fixture::moments()[0].now, &tz);
        assert_eq!(o.unwrap().figures.today, Duration::ZERO);
    }
}
