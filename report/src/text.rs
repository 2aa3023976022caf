//! The words of the report in English and Canadian French: headings, durations,
//! the trend sentence, the reflection questions (our own wording). The language
//! is core's [`Lang`] (chosen from `reminders.language` or the locale, as the
//! reminders choose it); the report's words are the [`Words`] it speaks.
//!
//! French typography is the reminders' (`dwell_core::messages`): a no-break
//! space before `:` and `%`, none before `;`, `?` and `!`, « » around quotes.

use chrono::{Datelike, NaiveDate, Weekday};

pub use dwell_core::messages::Lang;

/// No-break space.
pub const NBSP: char = '\u{a0}';

/// A label the renderers share (a section heading, a column head, the name of a
/// line): said once here, so that the terminal, Markdown and the page word it
/// alike. [`Words::label`] says it in a language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Label {
    /// The days section.
    PerDay,
    /// A column: the day.
    Day,
    /// A column: social time.
    SocialTime,
    /// A column: the daily limit.
    DailyLimit,
    /// A column, and the line of visits.
    Visits,
    /// The line of the period's total.
    Total,
    /// After the weekly limit.
    ForTheWeek,
    /// The total's verdict.
    OverWeekly,
    /// The total's verdict.
    WithinWeekly,
    /// The sites section.
    TopSites,
    /// A column: the site.
    Site,
    /// A column: a site's time.
    Time,
    /// A column: a site's share.
    Share,
    /// The patterns section.
    Patterns,
    /// After the count of visits.
    MedianLength,
    /// The line of the longest streak.
    LongestStreak,
    /// The line of the trend.
    Trend,
    /// The reminders section or line.
    Reminders,
    /// Followed by "N of M" reminders.
    LeftWithinTwoMinutes,
    /// Last week's note.
    YourNoteLastWeek,
    /// This period's note.
    YourNote,
    /// Before the reflection question.
    ToReflectOn,
    /// The line of the sites with a limit of their own.
    SiteLimits,
    /// The line of the gradual plan.
    Plan,
    /// The line of the pause page's outcomes.
    PausePage,
}

impl Label {
    /// English, then French.
    fn words(self) -> (&'static str, &'static str) {
        match self {
            Label::PerDay => ("Social time per day", "Temps social par jour"),
            Label::Day => ("Day", "Jour"),
            Label::SocialTime => ("Social time", "Temps social"),
            Label::DailyLimit => ("Daily limit", "Limite quotidienne"),
            Label::Visits => ("Visits", "Visites"),
            Label::Total => ("Total", "Total"),
            Label::ForTheWeek => ("for the week", "pour la semaine"),
            Label::OverWeekly => (
                "over your weekly limit",
                "au-delà de votre limite hebdomadaire",
            ),
            Label::WithinWeekly => ("within your weekly limit", "dans votre limite hebdomadaire"),
            Label::TopSites => ("Top sites", "Sites principaux"),
            Label::Site => ("Site", "Site"),
            Label::Time => ("Time", "Temps"),
            Label::Share => ("Share", "Part"),
            Label::Patterns => ("Patterns", "Habitudes"),
            Label::MedianLength => ("median length", "durée médiane"),
            Label::LongestStreak => ("Longest streak", "Plus longue série"),
            Label::Trend => ("Trend", "Tendance"),
            Label::Reminders => ("Reminders", "Rappels"),
            Label::LeftWithinTwoMinutes => (
                "You left social sites within 2 minutes after",
                "Vous avez quitté les réseaux sociaux en moins de 2 minutes après",
            ),
            Label::YourNoteLastWeek => ("Your note last week", "Votre note de la semaine dernière"),
            Label::YourNote => ("Your note", "Votre note"),
            Label::ToReflectOn => ("To reflect on", "À méditer"),
            Label::SiteLimits => ("Site limits", "Limites par site"),
            Label::Plan => ("Plan", "Plan"),
            Label::PausePage => ("Pause page", "Page de pause"),
        }
    }
}

/// The report's words in a [`Lang`].
pub trait Words: Copy {
    /// The language tag of the report (`en`, `fr-CA`), for JSON and HTML.
    fn tag(self) -> &'static str;
    /// Picks the English or the French string.
    fn t(self, en: &'static str, fr: &'static str) -> &'static str;
    /// A label the renderers share.
    fn label(self, label: Label) -> &'static str;
    /// `: ` after a label, with French spacing (`\u{a0}: `).
    fn colon(self) -> &'static str;
    /// `42%`, French `42\u{a0}%`.
    fn percent(self, value: f64) -> String;
    /// Someone's own words in quotes: “…”, French « … ».
    fn quote(self, text: &str) -> String;
    fn privacy(self) -> &'static str;
    fn empty(self) -> &'static str;
    fn weekday(self, d: Weekday) -> &'static str;
    fn month(self, m: u32) -> &'static str;
    /// `Mon 23 Nov` / `lun 23 nov`.
    fn short_date(self, d: NaiveDate) -> String;
    /// `23 Nov 2026`.
    fn long_date(self, d: NaiveDate) -> String;
    /// A duration for people, [`dwell_core::text::duration`], with no-break
    /// spaces so that a line never breaks inside it.
    fn duration(self, seconds: i64) -> String;
    /// How long a visit lasts: [`Words::duration`], but a visit of less than a
    /// second (a glimpse) is said so, never `0m`.
    fn visit_length(self, seconds: i64) -> String;
    /// "12 minutes less per day than your recent average", and friends.
    fn trend(self, difference_seconds: i64) -> String;
    /// `1 visit`, `3 visits`.
    fn visits(self, n: usize) -> String;
    fn no_trend(self) -> &'static str;
    /// An outcome of a reminder, agreeing with `n` in French.
    fn outcome(self, outcome: &str, n: usize) -> String;
}

impl Words for Lang {
    fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr-CA",
        }
    }

    fn colon(self) -> &'static str {
        self.t(": ", "\u{a0}: ")
    }

    fn percent(self, value: f64) -> String {
        match self {
            Lang::En => format!("{value:.0}%"),
            Lang::Fr => format!("{value:.0}{NBSP}%"),
        }
    }

    fn quote(self, text: &str) -> String {
        match self {
            Lang::En => format!("“{text}”"),
            Lang::Fr => format!("«{NBSP}{text}{NBSP}»"),
        }
    }

    fn t(self, en: &'static str, fr: &'static str) -> &'static str {
        match self {
            Lang::En => en,
            Lang::Fr => fr,
        }
    }

    fn label(self, label: Label) -> &'static str {
        let (en, fr) = label.words();
        self.t(en, fr)
    }

    fn privacy(self) -> &'static str {
        self.t(
            "Private: made on this computer from its own data. Nothing was sent anywhere.",
            "Privé\u{a0}: produit sur cet ordinateur, avec ses données. Rien n'a été envoyé.",
        )
    }

    fn empty(self) -> &'static str {
        self.t(
            "Nothing was recorded in this period: a quiet stretch, or dwell was not running.",
            "Rien n'a été enregistré pendant cette période\u{a0}: du calme, ou dwell ne tournait pas.",
        )
    }

    fn weekday(self, d: Weekday) -> &'static str {
        let i = d.num_days_from_monday() as usize;
        match self {
            Lang::En => ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][i],
            Lang::Fr => ["lun", "mar", "mer", "jeu", "ven", "sam", "dim"][i],
        }
    }

    fn month(self, m: u32) -> &'static str {
        let i = (m.clamp(1, 12) - 1) as usize;
        match self {
            Lang::En => [
                "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
            ][i],
            Lang::Fr => [
                "janv", "févr", "mars", "avr", "mai", "juin", "juil", "août", "sept", "oct", "nov",
                "déc",
            ][i],
        }
    }

    fn short_date(self, d: NaiveDate) -> String {
        format!(
            "{} {:>2} {}",
            self.weekday(d.weekday()),
            d.day(),
            self.month(d.month())
        )
    }

    fn long_date(self, d: NaiveDate) -> String {
        format!("{} {} {}", d.day(), self.month(d.month()), d.year())
    }

    fn duration(self, seconds: i64) -> String {
        // Held together on a line in English too (`2h 30m`).
        dwell_core::text::duration(seconds, self).replace(' ', "\u{a0}")
    }

    fn visit_length(self, seconds: i64) -> String {
        match seconds {
            s if s < 1 => self.t("under a second", "moins d’une seconde").to_owned(),
            s => self.duration(s),
        }
    }

    fn trend(self, difference_seconds: i64) -> String {
        let minutes = (difference_seconds.abs() + 30) / 60;
        match (self, minutes, difference_seconds < 0) {
            (Lang::En, 0, _) => "About the same per day as your recent average.".into(),
            (Lang::En, m, less) => format!(
                "{m} minute{} {} per day than your recent average.",
                if m == 1 { "" } else { "s" },
                if less { "less" } else { "more" }
            ),
            (Lang::Fr, 0, _) => "À peu près comme votre moyenne récente, par jour.".into(),
            (Lang::Fr, m, less) => format!(
                "{m} minute{} de {} par jour que votre moyenne récente.",
                if m == 1 { "" } else { "s" },
                if less { "moins" } else { "plus" }
            ),
        }
    }

    fn visits(self, n: usize) -> String {
        match (self, n) {
            (Lang::En, 1) => "1 visit".into(),
            (Lang::En, n) => format!("{n} visits"),
            (Lang::Fr, n) if n <= 1 => format!("{n} visite"),
            (Lang::Fr, n) => format!("{n} visites"),
        }
    }

    fn no_trend(self) -> &'static str {
        self.t(
            "Not enough history yet to compare with earlier weeks.",
            "Pas encore assez d'historique pour comparer avec les semaines précédentes.",
        )
    }

    fn outcome(self, outcome: &str, n: usize) -> String {
        // English, then French singular and plural.
        let (en, one, many) = match outcome {
            "shown" => ("shown", "affiché", "affichés"),
            "snoozed" => ("snoozed", "reporté", "reportés"),
            "done_for_today" => (
                "done for today",
                // The button's own words, quoted: a count reads "2 « … »".
                "«\u{a0}terminé pour aujourd'hui\u{a0}»",
                "«\u{a0}terminé pour aujourd'hui\u{a0}»",
            ),
            "opened" => (
                "opened the report",
                "a ouvert le rapport",
                "ont ouvert le rapport",
            ),
            "open_failed" => (
                "clicked, but nothing could open the report",
                "clic, mais rien n'a pu ouvrir le rapport",
                "clics, mais rien n'a pu ouvrir le rapport",
            ),
            "dismissed" => ("dismissed", "fermé", "fermés"),
            "expired" => ("expired", "expiré", "expirés"),
            "held" => ("held back", "retenu", "retenus"),
            "undelivered" => ("not delivered", "non livré", "non livrés"),
            // The browser extension's pause page (kind `pause_page`).
            "continued" => (
                "continued past the pause page",
                "poursuivi après la page de pause",
                "poursuivis après la page de pause",
            ),
            "closed" => (
                "closed the tab at the pause page",
                "onglet fermé à la page de pause",
                "onglets fermés à la page de pause",
            ),
            other => (other, other, other),
        };
        match self {
            Lang::En => en.to_owned(),
            Lang::Fr if n <= 1 => one.to_owned(),
            Lang::Fr => many.to_owned(),
        }
    }
}

/// What the week looked like, to pick a fitting question.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mood {
    Empty,
    Over,
    Fragmented,
    Calm,
}

const QUESTIONS_EN: [&[&str]; 4] = [
    &[
        "What took the place of scrolling this week, and would you like more of it?",
        "If you started recording again, what would you hope to see next week?",
    ],
    &[
        "On the days you went past your limit, what was going on just before?",
        "Which one visit this week would you gladly give back, and why that one?",
        "Is your limit still the right one for you, or does it need a kinder or firmer number?",
    ],
    &[
        "Many short visits add up: what usually sends you to a social site for a moment?",
        "Which quick check this week was a real break, and which was a reflex?",
        "Could some of those short visits wait for a break you choose on purpose?",
    ],
    &[
        "What helped you keep social time where you wanted it this week?",
        "When did a visit feel like a good break, and what made it so?",
        "Is there a moment in your day you would like to protect from interruptions?",
    ],
];

const QUESTIONS_FR: [&[&str]; 4] = [
    &[
        "Qu'est-ce qui a remplacé le défilement cette semaine, et en voulez-vous davantage?",
        "Si vous enregistriez de nouveau, qu'aimeriez-vous voir la semaine prochaine?",
    ],
    &[
        "Les jours où vous avez dépassé votre limite, que se passait-il juste avant?",
        "Quelle visite de la semaine redonneriez-vous volontiers, et pourquoi celle-là?",
        "Votre limite vous convient-elle encore, ou faudrait-il un chiffre plus doux ou plus ferme?",
    ],
    &[
        "Les courtes visites s'additionnent\u{a0}: qu'est-ce qui vous pousse d'habitude vers un réseau social un instant?",
        "Quel coup d'œil rapide cette semaine était une vraie pause, et lequel un réflexe?",
        "Certaines de ces courtes visites pourraient-elles attendre une pause choisie exprès?",
    ],
    &[
        "Qu'est-ce qui vous a aidé à garder le temps sur les réseaux sociaux là où vous le vouliez?",
        "Quand une visite a-t-elle été une bonne pause, et qu'est-ce qui l'a rendue ainsi?",
        "Y a-t-il un moment de votre journée que vous aimeriez protéger des interruptions?",
    ],
];

/// The invitation to keep a note (`dwell-report note`), which is kept for a
/// week: a week's report looks to the next, a day's to its week's review.
pub fn keep_a_thought(period: &str, lang: Lang) -> &'static str {
    match period {
        "day" => lang.t(
            "Keep a thought for this week's review",
            "Gardez une pensée pour le bilan de la semaine",
        ),
        _ => lang.t(
            "Keep a thought for next week",
            "Gardez une pensée pour la semaine prochaine",
        ),
    }
}

/// One reflection question for the period, stable for a given period and mood;
/// `day`: for a one-day report, worded for a day (never "this week").
pub fn question(lang: Lang, mood: Mood, seed: u32, day: bool) -> &'static str {
    let i = mood as usize;
    let list = match (lang, day) {
        (Lang::En, false) => QUESTIONS_EN[i],
        (Lang::Fr, false) => QUESTIONS_FR[i],
        (Lang::En, true) => DAY_QUESTIONS_EN[i],
        (Lang::Fr, true) => DAY_QUESTIONS_FR[i],
    };
    list[seed as usize % list.len()]
}

/// The same questions for a one-day report.
const DAY_QUESTIONS_EN: [&[&str]; 4] = [
    &[
        "What took the place of scrolling today, and would you like more of it?",
        "If you started recording again, what would you hope to see tomorrow?",
    ],
    &[
        "When you went past your limit today, what was going on just before?",
        "Which one visit today would you gladly give back, and why that one?",
    ],
    &[
        "Many short visits add up: what sent you to a social site for a moment today?",
        "Which quick check today was a real break, and which was a reflex?",
    ],
    &[
        "What helped you keep social time where you wanted it today?",
        "When did a visit today feel like a good break, and what made it so?",
    ],
];

const DAY_QUESTIONS_FR: [&[&str]; 4] = [
    &[
        "Qu'est-ce qui a remplacé le défilement aujourd'hui, et en voulez-vous davantage?",
        "Si vous enregistriez de nouveau, qu'aimeriez-vous voir demain?",
    ],
    &[
        "Quand vous avez dépassé votre limite aujourd'hui, que se passait-il juste avant?",
        "Quelle visite d'aujourd'hui redonneriez-vous volontiers, et pourquoi celle-là?",
    ],
    &[
        "Les courtes visites s'additionnent\u{a0}: qu'est-ce qui vous a poussé vers un réseau social un instant aujourd'hui?",
        "Quel coup d'œil rapide aujourd'hui était une vraie pause, et lequel un réflexe?",
    ],
    &[
        "Qu'est-ce qui vous a aidé aujourd'hui à garder le temps sur les réseaux sociaux là où vous le vouliez?",
        "Quand une visite d'aujourd'hui a-t-elle été une bonne pause, et qu'est-ce qui l'a rendue ainsi?",
    ],
];

#[cfg(test)]
mod tests {
    use super::*;

    /// A French count agrees with its number: "2 ont ouvert le rapport", not
    /// "2 rapport ouvert"; "Done for today" is the button's own words.
    #[test]
    fn french_outcome_counts_agree_with_their_number() {
        assert_eq!(Lang::Fr.outcome("opened", 1), "a ouvert le rapport");
        assert_eq!(Lang::Fr.outcome("opened", 2), "ont ouvert le rapport");
        let done = Lang::Fr.outcome("done_for_today", 2);
        assert!(done.contains("terminé pour aujourd'hui"), "{done}");
        assert!(done.starts_with('«'), "{done}");
    }

    #[test]
    fn language_tags() {
        assert_eq!(Lang::En.tag(), "en");
        assert_eq!(Lang::Fr.tag(), "fr-CA");
    }

    #[test]
    fn a_day_is_never_asked_about_a_week() {
        for lang in [Lang::En, Lang::Fr] {
            for mood in [Mood::Empty, Mood::Over, Mood::Fragmented, Mood::Calm] {
                for seed in 0..6 {
                    let q = question(lang, mood, seed, true).to_lowercase();
                    assert!(!q.contains("week") && !q.contains("semaine"), "{q}");
                    assert!(
                        q.contains("today")
                            || q.contains("tomorrow")
                            || q.contains("aujourd'hui")
                            || q.contains("demain"),
                        "{q}"
                    );
                }
            }
        }
    }

    #[test]
    fn durations_and_trend_words() {
        assert_eq!(Lang::En.duration(0), "0m");
        assert_eq!(Lang::En.visit_length(0), "under a second");
        assert_eq!(Lang::Fr.visit_length(0), "moins d’une seconde");
        assert_eq!(Lang::En.visit_length(45), "45s");
        assert_eq!(Lang::En.duration(45), "45s");
        assert_eq!(Lang::En.duration(91), "1m\u{a0}31s");
        assert_eq!(Lang::En.duration(3_900), "1h\u{a0}5m");
        assert_eq!(Lang::Fr.duration(3_900), "1\u{a0}h\u{a0}05");
        assert_eq!(Lang::Fr.percent(42.4), "42\u{a0}%");
        assert_eq!(Lang::Fr.quote("x"), "«\u{a0}x\u{a0}»");
        assert_eq!(
            Lang::En.trend(-720),
            "12 minutes less per day than your recent average."
        );
        assert_eq!(
            Lang::Fr.trend(60),
            "1 minute de plus par jour que votre moyenne récente."
        );
        assert!(Lang::En.trend(10).starts_with("About the same"));
    }

    #[test]
    fn the_pause_page_outcomes_have_words() {
        assert_eq!(
            Lang::En.outcome("continued", 2),
            "continued past the pause page"
        );
        assert_eq!(
            Lang::Fr.outcome("closed", 1),
            "onglet fermé à la page de pause"
        );
        assert_eq!(
            Lang::Fr.outcome("closed", 3),
            "onglets fermés à la page de pause"
        );
    }

    #[test]
    fn questions_exist_in_both_languages() {
        for mood in [Mood::Empty, Mood::Over, Mood::Fragmented, Mood::Calm] {
            for seed in 0..4 {
                for day in [false, true] {
                    assert!(question(Lang::En, mood, seed, day).ends_with('?'));
                    assert!(question(Lang::Fr, mood, seed, day).ends_with('?'));
                }
            }
        }
    }
}
