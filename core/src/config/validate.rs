//! Checking a parsed config file, one function per table (`[tracking]`,
//! `[limits]`, `[schedule]`, `[[rules]]`, `[sites]`, `[reminders]`, `[data]`;
//! the tables under `[limits]` in [`super::limits`]):
//! each refusal names the file, line and key and says what to do.

use super::*;

impl RawConfig {
    pub(super) fn validate(self, text: &str, path: &Path) -> Result<Config, ConfigError> {
        let err = |span: std::ops::Range<usize>, msg: String| invalid(path, text, span.start, msg);

        let tracking = self.tracking.validate(&err)?;
        let mut limits = self.limits.validate(&err)?;
        let (schedule, week_start) = self.schedule.validate(&err)?;
        let rules = rules(&self.rules, &err)?;
        let disabled = self.sites.validate(&err)?;
        let user_rules: Vec<UserRule> = rules.iter().map(|(_, r)| r.clone()).collect();
        let classifier = classifier(&rules, &user_rules, &disabled, &err)?;
        limits.sites = self.limits.sites.validate(&user_rules, &err)?;
        let reminders = self.reminders.validate(&err)?;
        let data = self.data.validate(&err)?;

        Ok(Config {
            tracking,
            limits,
            schedule,
            rules: user_rules,
            disabled_sites: disabled,
            reminders,
            data,
            ui: Ui { tray: self.ui.tray },
            week_start,
            classifier,
        })
    }
}

impl RawTracking {
    /// `[tracking]`: the idle timeouts and the backend.
    pub(super) fn validate(&self, err: Fail<'_>) -> Result<Tracking, ConfigError> {
        let t = self;
        if *t.idle_timeout.get_ref() < Duration::from_secs(5) {
            return Err(err(
                t.idle_timeout.span(),
                "tracking.idle_timeout must be at least \"5s\"".into(),
            ));
        }
        if *t.media_idle_timeout.get_ref() < Duration::from_secs(5) {
            return Err(err(
                t.media_idle_timeout.span(),
                "tracking.media_idle_timeout must be at least \"5s\"".into(),
            ));
        }

        let Some(backend) = BackendChoice::parse(t.backend.get_ref()) else {
            return Err(err(
                t.backend.span(),
                format!(
                    "tracking.backend = \"{}\" is not allowed: use one of {}",
                    t.backend.get_ref(),
                    BackendChoice::NAMES.map(|n| format!("\"{n}\"")).join(", ")
                ),
            ));
        };
        Ok(Tracking {
            idle_timeout: *t.idle_timeout.get_ref(),
            media_idle_timeout: *t.media_idle_timeout.get_ref(),
            calibrate: t.calibrate.as_ref().map(|c| *c.get_ref()),
            backend,
        })
    }
}

impl RawLimits {
    /// `[limits]`: more than zero, and the week at least a day.
    pub(super) fn validate(&self, err: Fail<'_>) -> Result<Limits, ConfigError> {
        let l = self;
        for (key, v) in [
            ("limits.daily", &l.daily),
            ("limits.streak", &l.streak),
            ("limits.weekly", &l.weekly),
        ] {
            if v.get_ref().is_zero() {
                return Err(err(
                    v.span(),
                    format!("{key} must be more than zero, e.g. \"30m\""),
                ));
            }
        }
        if l.daily.get_ref() > l.weekly.get_ref() {
            return Err(err(
                l.weekly.span(),
                "limits.weekly is smaller than limits.daily: the weekly budget should be at least one day's".into(),
            ));
        }
        let plan = match &l.plan {
            Some(p) => Some(RawPlan::validate(p, err)?),
            None => None,
        };
        Ok(Limits {
            daily: *l.daily.get_ref(),
            streak: *l.streak.get_ref(),
            weekly: *l.weekly.get_ref(),
            streak_gap: *l.streak_gap.get_ref(),
            days: l.days.validate(err)?,
            // Checked against the rules in `RawConfig::validate`.
            sites: Vec::new(),
            plan,
        })
    }
}

impl RawSchedule {
    /// `[schedule]`: the record mode, work days and hours, and the week's start.
    pub(super) fn validate(
        &self,
        err: Fail<'_>,
    ) -> Result<(Schedule, chrono::Weekday), ConfigError> {
        let s = self;
        let record = match s.record.get_ref().as_str() {
            "work_hours" => RecordMode::WorkHours,
            "always" => RecordMode::Always,
            other => {
                return Err(err(
                    s.record.span(),
                    format!("schedule.record = \"{other}\" is not allowed: use \"work_hours\" or \"always\""),
                ))
            }
        };
        let mut work_days = [false; 7];
        for d in s.work_days.get_ref() {
            let i = schedule::parse_weekday(d)
                .map_err(|m| err(s.work_days.span(), format!("schedule.work_days: {m}")))?;
            work_days[i] = true;
        }
        let week_start = schedule::parse_weekday(s.week_start.get_ref())
            .map_err(|m| err(s.week_start.span(), format!("schedule.week_start: {m}")))
            .map(schedule::weekday_of_index)?;
        let mut work_hours = parse_ranges(s.work_hours.get_ref())
            .map_err(|m| err(s.work_hours.span(), format!("schedule.work_hours: {m}")))?;
        schedule::validate_ranges(&mut work_hours)
            .map_err(|m| err(s.work_hours.span(), format!("schedule.work_hours: {m}")))?;
        if record == RecordMode::WorkHours && (work_hours.is_empty() || !work_days.contains(&true))
        {
            return Err(err(
                s.work_hours.span(),
                "with record = \"work_hours\", schedule.work_days and schedule.work_hours must not be empty (or set record = \"always\")".into(),
            ));
        }
        let schedule = Schedule {
            record,
            work_days,
            work_hours,
        };
        Ok((schedule, week_start))
    }
}

/// `[[rules]]`: each rule with a site label, and its span for later errors.
fn rules(
    rules: &[Sp<RawRule>],
    err: Fail<'_>,
) -> Result<Vec<(std::ops::Range<usize>, UserRule)>, ConfigError> {
    let mut out = Vec::with_capacity(rules.len());
    for r in rules {
        let raw = r.get_ref();
        let site = raw.site.trim().to_owned();
        if site.is_empty() {
            return Err(err(r.span(), "[[rules]]: `site` must not be empty".into()));
        }
        crate::rules::check_label(&site).map_err(|m| err(r.span(), format!("[[rules]]: {m}")))?;
        out.push((
            r.span(),
            UserRule {
                site,
                title: raw.title.clone(),
                app: raw.app.clone(),
                host: raw.host.clone(),
            },
        ));
    }
    Ok(out)
}

impl RawSites {
    /// `[sites]`: the labels of the built-in sites to turn off.
    pub(super) fn validate(&self, err: Fail<'_>) -> Result<Vec<String>, ConfigError> {
        let disabled: Vec<String> = self
            .disable
            .get_ref()
            .iter()
            .map(|s| s.trim().to_owned())
            .collect();
        for label in &disabled {
            crate::rules::check_label(label)
                .map_err(|m| err(self.disable.span(), format!("sites.disable: {m}")))?;
        }
        Ok(disabled)
    }
}

/// The classifier of the built-in and user rules less the disabled sites; an
/// error points at the rule it is about.
fn classifier(
    rules: &[(std::ops::Range<usize>, UserRule)],
    user_rules: &[UserRule],
    disabled: &[String],
    err: Fail<'_>,
) -> Result<Classifier, ConfigError> {
    Classifier::new(user_rules, disabled).map_err(|e| {
        let site = match &e {
            RuleError::BadRegex { site, .. }
            | RuleError::Empty { site }
            | RuleError::BadHost { site, .. } => site,
        };
        let span = rules
            .iter()
            .find(|(_, r)| &r.site == site)
            .map(|(s, _)| s.clone())
            .unwrap_or(0..0);
        err(span, format!("[[rules]]: {e}"))
    })
}

impl RawReminders {
    /// `[reminders]`: the thresholds and pacing, then the words and quiet hours.
    pub(super) fn validate(&self, err: Fail<'_>) -> Result<Reminders, ConfigError> {
        let r = self;
        let at = r.pacing(err)?;
        let quiet = r.quiet_and_messages(err)?;
        Ok(Reminders {
            enabled: r.enabled,
            at,
            repeat_over: *r.repeat_over.get_ref(),
            min_gap: *r.min_gap.get_ref(),
            max_per_hour: *r.max_per_hour.get_ref(),
            snooze: *r.snooze.get_ref(),
            snoozes_per_day: r.snoozes_per_day,
            language: r.language.get_ref().clone(),
            quiet,
            kinds: r.kinds.get_ref().clone(),
            messages: r
                .messages
                .get_ref()
                .iter()
                .map(|m| m.trim().to_owned())
                .collect(),
            messages_file: r
                .messages_file
                .as_ref()
                .map(|f| PathBuf::from(f.get_ref().trim())),
            pause_page: r.pause_page,
            pause_breath: super::limits::pause_breath(&r.pause_breath, err)?,
        })
    }

    /// `reminders.at` (sorted, without repeats), the gap, the hourly cap and the language.
    fn pacing(&self, err: Fail<'_>) -> Result<Vec<f64>, ConfigError> {
        let r = self;
        if r.at.get_ref().is_empty() {
            return Err(err(
                r.at.span(),
                "reminders.at must list at least one fraction of the daily limit, e.g. [0.5, 0.8, 1.0]".into(),
            ));
        }
        for f in r.at.get_ref() {
            if !(*f > 0.0 && *f <= 10.0) {
                return Err(err(
                    r.at.span(),
                    format!("reminders.at: {f} is not allowed: each fraction must be more than 0 and at most 10 (1.0 = the whole daily limit)"),
                ));
            }
        }
        let mut at = r.at.get_ref().clone();
        at.sort_by(f64::total_cmp);
        at.dedup();
        if r.min_gap.get_ref() > r.repeat_over.get_ref() {
            return Err(err(
                r.min_gap.span(),
                "reminders.min_gap is longer than reminders.repeat_over: the gap between any two reminders cannot exceed the repeat interval".into(),
            ));
        }
        if *r.max_per_hour.get_ref() == 0 {
            return Err(err(
                r.max_per_hour.span(),
                "reminders.max_per_hour must be at least 1 (set enabled = false to turn reminders off)".into(),
            ));
        }
        if !LANGUAGES.contains(&r.language.get_ref().as_str()) {
            return Err(err(
                r.language.span(),
                format!(
                    "reminders.language = \"{}\" is not allowed: use \"auto\", \"en\" or \"fr\"",
                    r.language.get_ref()
                ),
            ));
        }
        Ok(at)
    }

    /// The quiet hours (returned), the kinds, the messages and `repeat_over`.
    fn quiet_and_messages(&self, err: Fail<'_>) -> Result<Vec<TimeRange>, ConfigError> {
        let r = self;
        let mut quiet = parse_ranges(r.quiet.get_ref())
            .map_err(|m| err(r.quiet.span(), format!("reminders.quiet: {m}")))?;
        schedule::validate_ranges(&mut quiet)
            .map_err(|m| err(r.quiet.span(), format!("reminders.quiet: {m}")))?;
        for k in r.kinds.get_ref() {
            if !MESSAGE_KINDS.contains(&k.as_str()) {
                return Err(err(
                    r.kinds.span(),
                    format!("reminders.kinds: \"{k}\" is not a kind: use \"time\", \"reflection\" and/or \"back\""),
                ));
            }
        }
        check_messages(r.messages.get_ref(), "reminders.messages")
            .map_err(|m| err(r.messages.span(), m))?;
        if let Some(f) = &r.messages_file {
            if f.get_ref().trim().is_empty() {
                return Err(err(
                    f.span(),
                    "reminders.messages_file must name a file, e.g. \"messages.toml\"".into(),
                ));
            }
        }
        if r.repeat_over.get_ref() < &Duration::from_secs(1) {
            return Err(err(
                r.repeat_over.span(),
                "reminders.repeat_over must be at least \"1s\", e.g. \"15m\"".into(),
            ));
        }
        Ok(quiet)
    }
}

impl RawData {
    /// `[data]`: how long to keep the data, at least a day.
    pub(super) fn validate(&self, err: Fail<'_>) -> Result<Data, ConfigError> {
        if self.keep.get_ref() < &Duration::from_secs(86_400) {
            return Err(err(
                self.keep.span(),
                "data.keep must be at least \"1d\"".into(),
            ));
        }
        Ok(Data {
            keep: *self.keep.get_ref(),
        })
    }
}

/// The placeholders a message may use.
pub const PLACEHOLDERS: &[&str] = &[
    "today",
    "limit",
    "percent",
    "streak",
    "streak_limit",
    "week",
    "weekly",
];

/// Messages must not be empty and may only use known `{placeholders}`.
pub(super) fn check_messages(messages: &[String], key: &str) -> Result<(), String> {
    for m in messages {
        if m.trim().is_empty() {
            return Err(format!("{key}: a message must not be empty"));
        }
        let mut rest = m.as_str();
        while let Some(open) = rest.find('{') {
            let after = &rest[open + 1..];
            let name = after.find('}').map(|close| &after[..close]);
            match name {
                Some(n) if PLACEHOLDERS.contains(&n) => {}
                _ => {
                    return Err(format!(
                        "{key}: \"{m}\" has an unknown placeholder: use {{today}}, {{limit}}, {{percent}}, {{streak}}, {{streak_limit}}, {{week}} or {{weekly}}"
                    ))
                }
            }
            rest = &after[name.map(str::len).unwrap_or(0) + 1..];
        }
    }
    Ok(())
}
