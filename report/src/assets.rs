//! `dwell-report completions SHELL`, and the hidden `generate-assets --out DIR`
//! that `scripts/package` runs: man pages and completions from the real command
//! line (`cli` hands it over), through `dwell_clidoc` (the same code as
//! `dwell-agent`'s).

use anyhow::{Context, Result};
use clap::Command;
use dwell_clidoc::{CompletionsArgs, GenerateAssetsArgs};

/// Prints the completion script of `command` for the shell asked for.
pub fn completions(command: Command, args: &CompletionsArgs) -> Result<()> {
    dwell_clidoc::completions_to_stdout(command, args.shell)
        .context("cannot print the completion script")
}

/// `dwell-report(1)`'s sections beyond the options.
const EXAMPLES: dwell_clidoc::Section<'static> = dwell_clidoc::Section {
    title: "Examples",
    paragraphs: &[
        "dwell-report week\tThis week in the terminal: each day against your limit, top sites, streaks, the hours of the day, the trend.",
        "dwell-report week --open\tThe same as a page in your browser (a self-contained HTML file; the path is printed).",
        "dwell-report week --format csv > week.csv\tFor a spreadsheet; also json and markdown.",
        "dwell-report day yesterday\tOne day: yesterday's time against your limit, hour by hour.",
    ],
};

const SEE_ALSO: dwell_clidoc::Section<'static> = dwell_clidoc::Section {
    title: "See also",
    paragraphs: &["dwell-agent(1)"],
};

/// The sections of `dwell-report(1)` beyond the options.
pub const SECTIONS: [dwell_clidoc::Section<'static>; 4] = [
    dwell_clidoc::FILES,
    EXAMPLES,
    dwell_clidoc::PRIVACY,
    SEE_ALSO,
];

/// Writes the man pages and completions of `command` into `--out`; lists what
/// it wrote.
pub fn generate(command: Command, args: &GenerateAssetsArgs) -> Result<()> {
    for path in dwell_clidoc::write_assets(command, &args.out, &args.date, &SECTIONS)? {
        println!("{}", path.display());
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use clap::CommandFactory;

    use super::*;
    use crate::cli::Cli;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    /// Every visible subcommand gets a page named like git's; completions come
    /// for bash, zsh and fish; the hidden subcommand is in neither.
    #[test]
    fn every_subcommand_gets_a_man_page_and_completions() {
        let dir = tempfile::tempdir().unwrap();
        dwell_clidoc::write_assets(Cli::command(), dir.path(), "2026-12-01", &SECTIONS).unwrap();
        let expected = dwell_clidoc::page_names(&Cli::command());
        assert!(expected.contains(&"dwell-report-week.1".to_owned()));
        let mut pages: Vec<String> = std::fs::read_dir(dir.path().join("man"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        pages.sort();
        assert_eq!(pages, expected);
        for file in [
            "completions/bash/dwell-report",
            "completions/zsh/_dwell-report",
            "completions/fish/dwell-report.fish",
        ] {
            let text = std::fs::read_to_string(dir.path().join(file)).unwrap();
            assert!(text.contains("week") && text.contains("merge"), "{file}");
            assert!(!text.contains("generate-assets"), "{file}");
        }
    }
}
