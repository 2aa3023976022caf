//! What `dwell-agent` and `dwell-report` both own on their command lines, so
//! both do it one way: the global options ([`Global`]: `--data-dir`,
//! `--config`, each with its environment variable) and a refusal ([`refused`]:
//! exit 2, see `dwell_core::exit`).
//!
//! Man pages and completions are made from these definitions by
//! `dwell_clidoc` (packaging); nothing here is about packaging.

use std::path::PathBuf;

use dwell_core::exit::Refused;

/// The options every subcommand of both binaries takes: where the data and the
/// config are (see `dwell_core::paths`).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct Global {
    /// Where dwell keeps its data [default: $XDG_DATA_HOME/dwell]
    #[arg(long, global = true, env = "DWELL_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// The config file [default: $XDG_CONFIG_HOME/dwell/config.toml]
    #[arg(long, global = true, env = "DWELL_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
}

impl Global {
    /// The data directory in use (refused when there is no home to find it).
    pub fn data_dir(&self) -> Result<PathBuf, Refused> {
        dwell_core::paths::data_dir(self.data_dir.as_deref())
    }

    /// The config file in use, whether it exists or not.
    pub fn config_file(&self) -> Option<PathBuf> {
        dwell_core::paths::config_file(self.config.as_deref())
    }

    /// The config in force: the file when it exists, else the defaults.
    pub fn load_config(&self) -> Result<dwell_core::Config, Refused> {
        dwell_core::paths::load_config(self.config.as_deref())
    }
}

/// An error that means "refused": exit code 2 (see `dwell_core::exit`). The
/// message says what to do.
pub fn refused(msg: impl Into<String>) -> anyhow::Error {
    anyhow::anyhow!(Refused(msg.into()))
}
