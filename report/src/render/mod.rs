//! Renderers: one module per output format, all reading the same [`Report`].

pub mod csv;
pub mod html;
pub mod json;
pub mod markdown;
pub mod table;

use crate::aggregate::{Reminders, Report};
use crate::text::{Lang, Words};

/// Output formats of `--format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
    Markdown,
    Html,
}

impl Format {
    /// File extension for `--open` without `--output`.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Table => "txt",
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Markdown => "md",
            Format::Html => "html",
        }
    }
}

/// Renders `report` as `format`; `color` and `width` (in columns, see
/// [`table::fit_width`]) only matter for the table.
pub fn render(report: &Report, lang: Lang, format: Format, color: bool, width: usize) -> String {
    match format {
        Format::Table => table::render(report, lang, color, width),
        Format::Json => json::render(report),
        Format::Csv => csv::render(report),
        Format::Markdown => markdown::render(report, lang),
        Format::Html => html::render(report, lang),
    }
}

/// The trend's sentence, or the words saying there is not enough history yet.
fn trend_text(r: &Report, lang: Lang) -> String {
    r.trend
        .as_ref()
        .map(|t| t.text.clone())
        .unwrap_or_else(|| lang.no_trend().to_owned())
}

/// The outcomes of the reminders with their counts: `3 shown, 1 snoozed`.
fn outcome_counts(rem: &Reminders, lang: Lang) -> String {
    let parts: Vec<String> = rem
        .outcomes
        .iter()
        .map(|(k, v)| format!("{v} {}", lang.outcome(k, *v)))
        .collect();
    parts.join(", ")
}
