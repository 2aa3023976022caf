//! `dwell-agent config example|check`: prints the commented defaults, or
//! checks a config file the way the agent reads it.

use std::time::Duration;

use anyhow::Result;
use clap::Subcommand;
use dwell_core::Config;

use super::{config_path, fmt_minutes, refused, Global};

#[derive(Subcommand, Debug)]
pub enum ConfigAction {
    /// Print a fully commented config file with the defaults.
    Example,
    /// Validate the config file.
    Check,
}

/// Runs `config example` or `config check`.
pub fn config(cli: &Global, action: &ConfigAction) -> Result<()> {
    match action {
        ConfigAction::Example => {
            print!("{}", Config::example());
            Ok(())
        }
        ConfigAction::Check => config_check(cli),
    }
}

fn config_check(cli: &Global) -> Result<()> {
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
    for s in &config.limits.sites {
        println!("  {}: {} a day of its own", s.site, humanize(s.limit));
    }
    const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    for (day, limit) in DAYS.iter().zip(config.limits.days) {
        if let Some(l) = limit {
            println!("  {day}: daily limit {}", humanize(l));
        }
    }
    if let Some(p) = &config.limits.plan {
        println!(
            "  plan: from {} to {} over {} week(s) from {}",
            humanize(p.from),
            humanize(p.to),
            p.weeks,
            p.start
        );
    }
    for w in super::advice::limit_warnings(&config) {
        println!("warning: {w}");
    }
    Ok(())
}

fn humanize(d: Duration) -> String {
    fmt_minutes(d.as_secs_f64())
}
