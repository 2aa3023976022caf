//! `dwell-agent enable`: the opt-in. Says what dwell records and never
//! records, asks (unless `--yes`), and stores the consent; nothing is recorded
//! before it.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::{Context, Result};
use chrono::{Local, Utc};
use dwell_core::Store;

use super::{data_dir, load_config, refused, Global, EXPLAIN};

pub fn enable(cli: &Global, yes: bool) -> Result<()> {
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
