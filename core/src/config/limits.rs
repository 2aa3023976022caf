//! The tables under `[limits]` that fit limits to a person: `[limits.sites]`
//! (a site's own daily limit), `[limits.days]` (another daily limit on some
//! weekdays) and `[limits.plan]` (a gradual plan), as written in the file and
//! checked: each refusal names the key and says what to write instead. What
//! the values mean is [`crate::limits`]'s.

use std::collections::BTreeMap;

use super::*;
use crate::limits::MAX_PLAN_WEEKS;

/// A duration as a table's value (a map's values have no field to hang
/// `deserialize_with` on).
pub(super) struct RawDur(pub(super) Sp<Duration>);

impl<'de> Deserialize<'de> for RawDur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        duration(d).map(RawDur)
    }
}

/// `[limits.sites]`: site label = daily limit.
#[derive(Deserialize, Default)]
#[serde(transparent)]
pub(super) struct RawSiteLimits(BTreeMap<String, RawDur>);

/// `[limits.days]`: weekday = daily limit.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawDays {
    mon: Option<RawDur>,
    tue: Option<RawDur>,
    wed: Option<RawDur>,
    thu: Option<RawDur>,
    fri: Option<RawDur>,
    sat: Option<RawDur>,
    sun: Option<RawDur>,
}

/// `[limits.plan]`: every key is needed.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPlan {
    from: RawDur,
    to: RawDur,
    start: Sp<toml::Value>,
    weeks: Sp<i64>,
}

/// The most sites with a limit of their own.
const MAX_SITE_LIMITS: usize = 100;

impl RawDays {
    /// Each weekday's limit, Monday first; each more than zero.
    pub(super) fn validate(&self, err: Fail<'_>) -> Result<[Option<Duration>; 7], ConfigError> {
        let mut out = [None; 7];
        let all = [
            ("mon", &self.mon),
            ("tue", &self.tue),
            ("wed", &self.wed),
            ("thu", &self.thu),
            ("fri", &self.fri),
            ("sat", &self.sat),
            ("sun", &self.sun),
        ];
        for (i, (name, v)) in all.into_iter().enumerate() {
            if let Some(RawDur(v)) = v {
                if v.get_ref().is_zero() {
                    return Err(err(
                        v.span(),
                        format!("limits.days.{name} must be more than zero, e.g. \"45m\" (leave the day out to keep limits.daily)"),
                    ));
                }
                out[i] = Some(*v.get_ref());
            }
        }
        Ok(out)
    }
}

impl RawPlan {
    /// `from` more than `to`, `to` more than zero, 1 to 52 weeks, a real date.
    pub(super) fn validate(plan: &Sp<RawPlan>, err: Fail<'_>) -> Result<Plan, ConfigError> {
        let p = plan.get_ref();
        let (from, to) = (&p.from.0, &p.to.0);
        if to.get_ref().is_zero() {
            return Err(err(
                to.span(),
                "limits.plan.to must be more than zero, e.g. \"15m\"".into(),
            ));
        }
        if from.get_ref() <= to.get_ref() {
            return Err(err(
                from.span(),
                "limits.plan.from must be more than limits.plan.to: a plan steps the daily limit down from where you are to your goal".into(),
            ));
        }
        let weeks = *p.weeks.get_ref();
        if !(1..=i64::from(MAX_PLAN_WEEKS)).contains(&weeks) {
            return Err(err(
                p.weeks.span(),
                format!(
                    "limits.plan.weeks = {weeks} is not allowed: use 1 to {MAX_PLAN_WEEKS} weeks"
                ),
            ));
        }
        let text = match p.start.get_ref() {
            toml::Value::String(s) => s.trim().to_owned(),
            toml::Value::Datetime(d) => d.to_string(),
            _ => String::new(),
        };
        let start = chrono::NaiveDate::parse_from_str(&text, "%Y-%m-%d").map_err(|_| {
            err(
                p.start.span(),
                "limits.plan.start must be the plan's first day, written like \"2026-12-07\""
                    .into(),
            )
        })?;
        Ok(Plan {
            from: *from.get_ref(),
            to: *to.get_ref(),
            start,
            weeks: u32::try_from(weeks).unwrap_or(1),
        })
    }
}

impl RawSiteLimits {
    /// Each label one dwell knows (built in or from `[[rules]]`, written as
    /// it shows it), each limit more than zero.
    pub(super) fn validate(
        &self,
        user_rules: &[UserRule],
        err: Fail<'_>,
    ) -> Result<Vec<SiteLimit>, ConfigError> {
        if let Some((_, RawDur(v))) = self.0.iter().nth(MAX_SITE_LIMITS) {
            return Err(err(
                v.span(),
                format!(
                    "[limits.sites] lists {} sites: at most {MAX_SITE_LIMITS}",
                    self.0.len()
                ),
            ));
        }
        let builtin = Classifier::builtin_sites();
        let mut out: Vec<SiteLimit> = Vec::with_capacity(self.0.len());
        for (label, RawDur(v)) in &self.0 {
            let label = label.trim();
            crate::rules::check_label(label)
                .map_err(|m| err(v.span(), format!("limits.sites: {m}")))?;
            let known = user_rules
                .iter()
                .map(|r| r.site.as_str())
                .chain(builtin.iter().copied())
                .find(|k| k.eq_ignore_ascii_case(label));
            let Some(site) = known else {
                return Err(err(
                    v.span(),
                    format!("limits.sites: \"{label}\" is not a site dwell counts: write its label as the report shows it (e.g. \"youtube.com\"), or add a [[rules]] entry for it"),
                ));
            };
            if v.get_ref().is_zero() {
                return Err(err(
                    v.span(),
                    format!("limits.sites.\"{site}\" must be more than zero, e.g. \"20m\""),
                ));
            }
            if out.iter().any(|s| s.site == site) {
                return Err(err(
                    v.span(),
                    format!("limits.sites: \"{site}\" is listed twice: keep one"),
                ));
            }
            out.push(SiteLimit {
                site: site.to_owned(),
                limit: *v.get_ref(),
            });
        }
        out.sort_by(|a, b| a.site.cmp(&b.site));
        Ok(out)
    }
}

/// `[reminders] pause_breath`: zero (off) up to a minute.
pub(super) fn pause_breath(v: &Sp<Duration>, err: Fail<'_>) -> Result<Duration, ConfigError> {
    if *v.get_ref() > Duration::from_secs(60) {
        return Err(err(
            v.span(),
            "reminders.pause_breath must be at most \"60s\": it is a breath, e.g. \"5s\" (\"0\" turns it off)".into(),
        ));
    }
    Ok(*v.get_ref())
}
