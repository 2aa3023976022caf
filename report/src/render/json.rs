//! `--format json`: the [`Report`] as pretty JSON (schema in docs/report-schema.md).

use crate::aggregate::Report;

pub fn render(report: &Report) -> String {
    match serde_json::to_string_pretty(report) {
        Ok(mut s) => {
            s.push('\n');
            s
        }
        // Plain data with string keys: serialisation cannot fail.
        Err(e) => format!("{{\"error\": \"{e}\"}}\n"),
    }
}
