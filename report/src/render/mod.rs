//! Renderers: one module per output format, all reading the same [`Report`].

pub mod json;
pub mod table;

use crate::aggregate::Report;
use crate::text::Lang;

/// Output formats of `--format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
}

impl Format {
    /// File extension for `--open` without `--output`.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Table => "txt",
            Format::Json => "json",
        }
    }
}

/// Renders `report` as `format`; `color` only matters for the table.
pub fn render(report: &Report, lang: Lang, format: Format, color: bool) -> String {
    match format {
        Format::Table => table::render(report, lang, color),
        Format::Json => json::render(report),
    }
}
