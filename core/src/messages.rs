//! The words of a reminder: a catalogue of short, warm messages in English and
//! Canadian French, and the rotation that picks one.
//!
//! Three kinds, which the employee can turn off one by one (`reminders.kinds`):
//! - `time`: awareness, with the real figures (today, the streak, the week);
//! - `reflection`: a thought drawn from the public-service guidance on social media
//!   at work, in our own words (reasonable use, posts are public, think twice...);
//! - `back`: an easy, friendly way back to work.
//!
//! The employee's own messages (`reminders.messages`) join the rotation. Rotation:
//! the least recently used message comes first, never the same one twice in a row.
//! Every message has a stable catalogue id (`en-time-03`, `user-2`), which is what
//! the store keeps; never a site name or a title.

use std::collections::HashMap;
use std::time::Duration;

use crate::policy::{Figures, Kind, Reminder, SiteFigure};
pub use crate::text::Lang;

/// The kind of a message (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageKind {
    Time,
    Reflection,
    Back,
}

impl MessageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Time => "time",
            MessageKind::Reflection => "reflection",
            MessageKind::Back => "back",
        }
    }

    fn parse(s: &str) -> Option<MessageKind> {
        match s {
            "time" => Some(MessageKind::Time),
            "reflection" => Some(MessageKind::Reflection),
            "back" => Some(MessageKind::Back),
            _ => None,
        }
    }
}

/// What a `time` message talks about: it must match the reminder's figures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Subject {
    Day,
    Streak,
    Week,
    /// One site against its own limit (`{site}`, `{site_today}`, `{site_limit}`).
    Site,
}

fn subject_of(kind: Kind) -> Subject {
    match kind {
        Kind::Stage | Kind::Over | Kind::PausePage => Subject::Day,
        Kind::Streak => Subject::Streak,
        Kind::Weekly => Subject::Week,
        Kind::Site => Subject::Site,
    }
}

/// `(kind, subject for time messages, text)`. Placeholders: `{today}`, `{limit}`,
/// `{percent}`, `{streak}`, `{streak_limit}`, `{week}`, `{weekly}`.
type Raw = (MessageKind, Option<Subject>, &'static str);

use MessageKind::{Back as B, Reflection as R, Time as T};
use Subject::{Day as D, Site as X, Streak as S, Week as W};

const EN: &[Raw] = &[
    (
        T,
        Some(D),
        "{today} on social sites today, {percent}% of the {limit} you set.",
    ),
    (
        T,
        Some(D),
        "So far today: {today} of social time. Your own budget is {limit}.",
    ),
    (
        T,
        Some(D),
        "A quick look at the clock: {today} on social sites today ({percent}% of your {limit}).",
    ),
    (
        T,
        Some(D),
        "You have spent {today} on social sites today; you planned for {limit}.",
    ),
    (
        T,
        Some(D),
        "Today's tally: {today}. That is {percent}% of the daily time you chose.",
    ),
    (
        T,
        Some(D),
        "{percent}% of your daily {limit} is used: {today} so far.",
    ),
    (
        T,
        Some(D),
        "Just so you know: {today} of social time today, against the {limit} you picked.",
    ),
    (
        T,
        Some(D),
        "Your day so far: {today} on social sites. You set yourself {limit}.",
    ),
    (
        T,
        Some(D),
        "{today} today on social sites. Where would you like the rest of the day to go?",
    ),
    (
        T,
        Some(S),
        "{streak} on social sites in one stretch. Your own streak limit is {streak_limit}.",
    ),
    (
        T,
        Some(S),
        "This visit has run {streak} in a row, past the {streak_limit} you set.",
    ),
    (
        T,
        Some(S),
        "{streak} without a break from social sites. A good moment to stand up?",
    ),
    (
        T,
        Some(S),
        "One long stretch: {streak}. You wanted to keep streaks under {streak_limit}.",
    ),
    (
        T,
        Some(W),
        "This week: {week} on social sites, your weekly budget is {weekly}.",
    ),
    (
        T,
        Some(W),
        "Week so far: {week} of social time, against the {weekly} you planned.",
    ),
    (
        T,
        Some(W),
        "You have reached your weekly {weekly}: {week} so far this week.",
    ),
    (
        T,
        Some(W),
        "{week} this week on social sites. Maybe a note for your Friday review?",
    ),
    (
        R,
        None,
        "Personal use at work is fine when it stays reasonable and leaves room for the job.",
    ),
    (
        R,
        None,
        "Posts are public, even the quick ones. Worth a second look before you send?",
    ),
    (
        R,
        None,
        "Would you be happy for your manager to read this thread? If yes, carry on.",
    ),
    (R, None, "Think twice, post once."),
    (
        R,
        None,
        "Write online as you would speak in a meeting or over coffee.",
    ),
    (
        R,
        None,
        "Your views are your own: it helps to say so when it is not obvious.",
    ),
    (R, None, "Protect your privacy, and your colleagues' too."),
    (
        R,
        None,
        "Work matters stay off personal accounts: anything confidential stays at work.",
    ),
    (
        R,
        None,
        "Be as kind online as you are in the hallway. People read tone differently.",
    ),
    (
        R,
        None,
        "Like a phone call at work: a few are normal, a lot add up.",
    ),
    (
        R,
        None,
        "Something online went wrong? Telling your manager early is always okay.",
    ),
    (
        R,
        None,
        "The line between work and home blurs easily. You get to draw it.",
    ),
    (B, None, "Ready to pick up where you left off?"),
    (
        B,
        None,
        "Back to work? Your next task will be glad to see you.",
    ),
    (B, None, "A sip of water, a stretch, then back to it?"),
    (
        B,
        None,
        "Close the tab, keep the thought: it will still be there later.",
    ),
    (B, None, "What was the next small step on your list?"),
    (B, None, "Nice break. Shall we head back?"),
    (
        B,
        None,
        "One small task now, and the feed can wait for lunch.",
    ),
    (
        B,
        None,
        "No rush: finish the thought, then back to the work you care about.",
    ),
    (
        B,
        None,
        "Your future self will thank you for ten focused minutes.",
    ),
    (B, None, "Pick one thing to finish before the next peek?"),
    (B, None, "The feed will refresh without you. Back to it?"),
    (B, None, "Time to get back to it, gently."),
    (
        T,
        Some(X),
        "{site_today} on {site} today, and you gave it {site_limit}.",
    ),
    (
        T,
        Some(X),
        "{site} has had its {site_limit} for today. The rest of the day can go elsewhere.",
    ),
    (
        T,
        Some(X),
        "You gave {site} {site_limit} a day; today it is at {site_today}.",
    ),
    (
        T,
        Some(X),
        "Like a personal call at work, a short visit to {site} is fine. Today's {site_limit} has run its course.",
    ),
    (
        T,
        Some(X),
        "{site} again? You have had your {site_limit} there today. Close it for now, perhaps?",
    ),
];

const FR: &[Raw] = &[
    (T, Some(D), "{today} sur les médias sociaux aujourd'hui, soit {percent}\u{a0}% de la limite de {limit} que vous avez choisie."),
    (T, Some(D), "Jusqu'ici aujourd'hui\u{a0}: {today} sur les médias sociaux. Votre budget est de {limit}."),
    (T, Some(D), "Petit coup d'œil à l'horloge\u{a0}: {today} sur les médias sociaux aujourd'hui ({percent}\u{a0}% de votre limite de {limit})."),
    (T, Some(D), "Vous avez passé {today} sur les médias sociaux aujourd'hui; vous aviez prévu {limit}."),
    (T, Some(D), "Le compte du jour\u{a0}: {today}, soit {percent}\u{a0}% du temps que vous vous êtes donné."),
    (T, Some(D), "Déjà {percent}\u{a0}% de votre limite quotidienne de {limit}\u{a0}: {today} jusqu'ici."),
    (T, Some(D), "Pour info\u{a0}: {today} sur les médias sociaux aujourd'hui, pour un budget de {limit}."),
    (T, Some(D), "Votre journée jusqu'ici\u{a0}: {today} sur les médias sociaux. Vous vous étiez fixé {limit}."),
    (T, Some(D), "{today} aujourd'hui sur les médias sociaux. Que voulez-vous faire du reste de la journée?"),
    (T, Some(S), "{streak} d'affilée sur les médias sociaux. Votre limite par séance est de {streak_limit}."),
    (T, Some(S), "Cette visite dure depuis {streak}, au-delà de la limite de {streak_limit} que vous avez choisie."),
    (T, Some(S), "{streak} sans pause loin des médias sociaux. Un bon moment pour vous lever?"),
    (T, Some(S), "Une longue séance\u{a0}: {streak}. Vous vouliez rester sous {streak_limit}."),
    (T, Some(W), "Cette semaine\u{a0}: {week} sur les médias sociaux, pour un budget hebdomadaire de {weekly}."),
    (T, Some(W), "La semaine jusqu'ici\u{a0}: {week}, pour le budget de {weekly} que vous aviez prévu."),
    (T, Some(W), "Vous avez atteint votre budget de la semaine ({weekly})\u{a0}: {week} jusqu'ici."),
    (T, Some(W), "{week} cette semaine sur les médias sociaux. Une note pour votre bilan de vendredi?"),
    (R, None, "L'usage personnel au travail, c'est correct tant qu'il reste raisonnable et laisse place au travail."),
    (R, None, "Ce qu'on publie est public, même en vitesse. Une relecture avant d'envoyer?"),
    (R, None, "Seriez-vous à l'aise que votre gestionnaire lise cet échange? Si oui, continuez."),
    (R, None, "Réfléchir deux fois, publier une fois."),
    (R, None, "En ligne, exprimez-vous comme en réunion ou à la pause-café."),
    (R, None, "Vos opinions n'engagent que vous\u{a0}: le préciser aide quand ce n'est pas évident."),
    (R, None, "Protégez votre vie privée, et celle de vos collègues."),
    (R, None, "Les dossiers du bureau restent au bureau\u{a0}: rien de confidentiel sur vos comptes personnels."),
    (R, None, "Soyez aussi courtois en ligne que dans le corridor. Le ton se lit mal à l'écrit."),
    (R, None, "Comme les appels personnels au bureau\u{a0}: quelques-uns, c'est normal; beaucoup, ça s'additionne."),
    (R, None, "Un pépin en ligne? En parler tôt à votre gestionnaire, c'est toujours correct."),
    (R, None, "La frontière entre le travail et la maison s'efface vite. C'est vous qui la tracez."),
    (B, None, "Envie de reprendre là où vous en étiez?"),
    (B, None, "On retourne au travail? Votre prochaine tâche vous attend."),
    (B, None, "Une gorgée d'eau, un étirement, puis on s'y remet?"),
    (B, None, "Fermez l'onglet, gardez l'idée\u{a0}: elle sera encore là plus tard."),
    (B, None, "Quelle était la prochaine petite étape sur votre liste?"),
    (B, None, "Belle pause. On y retourne?"),
    (B, None, "Une petite tâche maintenant, et le fil d'actualité attendra le dîner."),
    (B, None, "Pas de presse\u{a0}: terminez votre idée, puis retour au travail qui compte pour vous."),
    (B, None, "Dix minutes de concentration, et vous vous remercierez plus tard."),
    (B, None, "Choisissez une chose à terminer avant le prochain coup d'œil?"),
    (B, None, "Le fil se mettra à jour sans vous. On s'y remet?"),
    (B, None, "C'est le moment de s'y remettre, tout doucement."),
    (
        T,
        Some(X),
        "{site_today} sur {site} aujourd'hui, pour une limite de {site_limit} que vous aviez choisie.",
    ),
    (
        T,
        Some(X),
        "{site} a eu son temps pour aujourd'hui ({site_limit}). Le reste de la journée peut aller ailleurs.",
    ),
    (
        T,
        Some(X),
        "Vous aviez prévu {site_limit} par jour pour {site}. Aujourd'hui, vous en êtes à {site_today}.",
    ),
    (
        T,
        Some(X),
        "Comme un appel personnel au bureau, une courte visite sur {site}, c'est correct. Aujourd'hui, la limite de {site_limit} est atteinte.",
    ),
    (
        T,
        Some(X),
        "Encore {site}? Votre limite de {site_limit} est atteinte pour aujourd'hui. Et si vous fermiez l'onglet pour l'instant?",
    ),
];

#[derive(Clone, Debug)]
struct Entry {
    id: String,
    kind: Option<MessageKind>,
    subject: Option<Subject>,
    text: String,
}

/// A message ready to show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    /// Stable catalogue id, stored with the reminder.
    pub id: String,
    pub summary: String,
    pub body: String,
}

/// The catalogue for one language, with the rotation state.
#[derive(Clone, Debug)]
pub struct Catalogue {
    lang: Lang,
    entries: Vec<Entry>,
    /// Rotation clock: when each id was last used.
    used: HashMap<String, u64>,
    tick: u64,
    last: Option<String>,
}

/// Every built-in message id and text for `lang` (for tests and `--list`).
pub fn builtin(lang: Lang) -> Vec<(String, &'static str, &'static str)> {
    entries(lang)
        .into_iter()
        .map(|(id, k, t)| (id, k.as_str(), t))
        .collect()
}

fn entries(lang: Lang) -> Vec<(String, MessageKind, &'static str)> {
    let raw = match lang {
        Lang::En => EN,
        Lang::Fr => FR,
    };
    let mut counters: HashMap<MessageKind, usize> = HashMap::new();
    raw.iter()
        .map(|(kind, _, text)| {
            let n = counters.entry(*kind).or_insert(0);
            *n += 1;
            let short = match kind {
                MessageKind::Time => "time",
                MessageKind::Reflection => "refl",
                MessageKind::Back => "back",
            };
            (format!("{}-{short}-{:02}", lang.code(), n), *kind, *text)
        })
        .collect()
}

impl Catalogue {
    /// The built-in messages of `lang` whose kind is in `kinds`, plus the
    /// employee's own `user` messages (ids `user-1`, `user-2`, ...).
    pub fn new(lang: Lang, kinds: &[String], user: &[String]) -> Catalogue {
        let kinds: Vec<MessageKind> = kinds.iter().filter_map(|k| MessageKind::parse(k)).collect();
        let raw = match lang {
            Lang::En => EN,
            Lang::Fr => FR,
        };
        let mut built: Vec<(usize, Entry)> = entries(lang)
            .into_iter()
            .zip(raw.iter())
            .filter(|((_, kind, _), _)| kinds.contains(kind))
            .map(|((id, kind, text), (_, subject, _))| {
                let n: usize = id
                    .rsplit('-')
                    .next()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0);
                (
                    n,
                    Entry {
                        id,
                        kind: Some(kind),
                        subject: *subject,
                        text: text.to_owned(),
                    },
                )
            })
            .collect();
        // Never-used messages come in an order that alternates the kinds.
        built.sort_by_key(|(n, e)| (*n, e.kind.map(|k| k as u8)));
        let mut list: Vec<Entry> = built.into_iter().map(|(_, e)| e).collect();
        for (i, text) in user.iter().enumerate() {
            list.push(Entry {
                id: format!("user-{}", i + 1),
                kind: None,
                subject: None,
                text: text.trim().to_owned(),
            });
        }
        Catalogue {
            lang,
            entries: list,
            used: HashMap::new(),
            tick: 0,
            last: None,
        }
    }

    pub fn lang(&self) -> Lang {
        self.lang
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Goes on with `before`'s rotation (a config reload builds a new
    /// catalogue): what was shown recently stays recent, and the last message
    /// is not shown again next.
    pub fn continue_from(&mut self, before: &Catalogue) {
        self.used.clone_from(&before.used);
        self.tick = before.tick;
        self.last.clone_from(&before.last);
    }

    /// Tells the rotation that `id` was shown (oldest first), e.g. from the store
    /// after a restart.
    pub fn note_used(&mut self, id: &str) {
        self.tick += 1;
        self.used.insert(id.to_owned(), self.tick);
        self.last = Some(id.to_owned());
    }

    /// Picks the next `reflection` or `back` message (the kinds the employee
    /// left on), by the same rotation as [`Catalogue::compose`] (least recently
    /// used first, never the last one again), filled with `figures`: the one
    /// line of the browser extension's pause page. `None` when no such message
    /// is enabled.
    pub fn line(&mut self, figures: &Figures) -> Option<(String, String)> {
        let pick = self
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| matches!(e.kind, Some(MessageKind::Reflection | MessageKind::Back)))
            .filter(|(_, e)| Some(&e.id) != self.last.as_ref())
            .min_by_key(|(i, e)| (self.used.get(&e.id).copied().unwrap_or(0), *i))
            .map(|(i, _)| i)?;
        let entry = self.entries[pick].clone();
        self.note_used(&entry.id);
        Some((entry.id, fill(&entry.text, self.lang, figures)))
    }

    /// Picks the next message for `reminder` and renders it. The summary always
    /// carries the real figures; the body is the rotating message.
    pub fn compose(&mut self, reminder: &Reminder) -> Rendered {
        let subject = subject_of(reminder.kind);
        let pick = self
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.kind != Some(MessageKind::Time) || e.subject == Some(subject))
            .filter(|(_, e)| Some(&e.id) != self.last.as_ref())
            .min_by_key(|(i, e)| (self.used.get(&e.id).copied().unwrap_or(0), *i))
            .map(|(i, _)| i);
        let summary = summary(self.lang, reminder);
        let Some(i) = pick else {
            // Nothing enabled (or only the last one): the figures say it all.
            return Rendered {
                id: format!("{}-summary", self.lang.code()),
                summary,
                body: String::new(),
            };
        };
        let entry = self.entries[i].clone();
        self.note_used(&entry.id);
        Rendered {
            id: entry.id,
            summary,
            body: fill_site(
                &fill(&entry.text, self.lang, &reminder.figures),
                self.lang,
                reminder.site.as_ref(),
            ),
        }
    }
}

/// The notification's summary line, with the figures.
fn summary(lang: Lang, r: &Reminder) -> String {
    let f = &r.figures;
    let d = |x| short(x, lang);
    match (lang, r.kind) {
        (Lang::En, Kind::Stage) => format!(
            "Social time today: {} of your {}",
            d(f.today),
            d(f.daily_limit)
        ),
        (Lang::En, Kind::Over | Kind::PausePage) => {
            format!("Over your daily {}: {} today", d(f.daily_limit), d(f.today))
        }
        (Lang::En, Kind::Streak) => format!("{} on social sites in a row", d(f.streak)),
        (Lang::En, Kind::Weekly) => {
            format!("This week: {} of your {}", d(f.week), d(f.weekly_limit))
        }
        (Lang::Fr, Kind::Stage) => format!(
            "Médias sociaux aujourd'hui\u{a0}: {} sur une limite de {}",
            d(f.today),
            d(f.daily_limit)
        ),
        (Lang::Fr, Kind::Over | Kind::PausePage) => format!(
            "Au-delà de la limite de {} par jour\u{a0}: {} aujourd'hui",
            d(f.daily_limit),
            d(f.today)
        ),
        (Lang::Fr, Kind::Streak) => format!("{} d'affilée sur les médias sociaux", d(f.streak)),
        (Lang::Fr, Kind::Weekly) => format!(
            "Cette semaine\u{a0}: {} sur une limite de {}",
            d(f.week),
            d(f.weekly_limit)
        ),
        (lang, Kind::Site) => site_summary(lang, r),
    }
}

/// The summary of a site's reminder: it names the site.
fn site_summary(lang: Lang, r: &Reminder) -> String {
    let d = |x| short(x, lang);
    let Some(s) = &r.site else {
        return summary(
            lang,
            &Reminder {
                kind: Kind::Over,
                ..r.clone()
            },
        );
    };
    match lang {
        Lang::En => format!(
            "{}: {} today, of the {} you gave it",
            s.site,
            d(s.today),
            d(s.limit)
        ),
        Lang::Fr => format!(
            "{}\u{a0}: {} aujourd'hui, pour une limite de {}",
            s.site,
            d(s.today),
            d(s.limit)
        ),
    }
}

/// Fills a site's placeholders (`{site}`, `{site_today}`, `{site_limit}`),
/// which only the built-in site messages use.
fn fill_site(text: &str, lang: Lang, site: Option<&SiteFigure>) -> String {
    let Some(s) = site else {
        return text.to_owned();
    };
    text.replace("{site_today}", &long(s.today, lang))
        .replace("{site_limit}", &long(s.limit, lang))
        .replace("{site}", &s.site)
}

fn fill(text: &str, lang: Lang, f: &Figures) -> String {
    let long = |d| long(d, lang);
    text.replace("{today}", &long(f.today))
        .replace("{limit}", &long(f.daily_limit))
        .replace("{percent}", &f.percent_of_daily().to_string())
        .replace("{streak_limit}", &long(f.streak_limit))
        .replace("{streak}", &long(f.streak))
        .replace("{weekly}", &long(f.weekly_limit))
        .replace("{week}", &long(f.week))
}

/// Whole seconds under a minute, else whole minutes, else hours and minutes.
fn parts(d: Duration) -> (u64, u64, u64) {
    let s = d.as_secs_f64().round() as u64;
    if s < 60 {
        return (0, 0, s);
    }
    let m = (d.as_secs_f64() / 60.0).round() as u64;
    (m / 60, m % 60, 0)
}

/// `24m`, `1h 5m`, `45s` (French `24 min`, `1 h 05`): the one duration style
/// for people, [`crate::text::duration`].
pub fn short(d: Duration, lang: Lang) -> String {
    crate::text::duration(d.as_secs_f64().round() as i64, lang)
}

/// `24 minutes`, `1 hour 5 minutes`, `45 seconds` (and in French).
pub fn long(d: Duration, lang: Lang) -> String {
    let unit = |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let (h, m, s) = parts(d);
    let (hour, hours, minute, minutes, second, seconds) = match lang {
        Lang::En => ("hour", "hours", "minute", "minutes", "second", "seconds"),
        Lang::Fr => (
            "heure", "heures", "minute", "minutes", "seconde", "secondes",
        ),
    };
    match (h, m, s) {
        (0, 0, s) => unit(s, second, seconds),
        (0, m, _) => unit(m, minute, minutes),
        (h, 0, _) => unit(h, hour, hours),
        (h, m, _) => format!("{} {}", unit(h, hour, hours), unit(m, minute, minutes)),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn all_kinds() -> Vec<String> {
        ["time", "reflection", "back"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    fn reminder(kind: Kind, today_min: u64) -> Reminder {
        Reminder {
            at: Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap(),
            kind,
            stage: Some(0.8),
            figures: Figures {
                today: Duration::from_secs(today_min * 60),
                daily_limit: Duration::from_secs(30 * 60),
                streak: Duration::from_secs(16 * 60),
                streak_limit: Duration::from_secs(15 * 60),
                week: Duration::from_secs(150 * 60),
                weekly_limit: Duration::from_secs(150 * 60),
            },
            site: (kind == Kind::Site).then(|| SiteFigure {
                site: "youtube.com".into(),
                today: Duration::from_secs(21 * 60),
                limit: Duration::from_secs(20 * 60),
            }),
        }
    }

    #[test]
    fn forty_or_more_per_language_in_three_kinds_with_unique_ids() {
        for lang in [Lang::En, Lang::Fr] {
            let b = builtin(lang);
            assert!(b.len() >= 40, "{lang:?}: {}", b.len());
            for kind in ["time", "reflection", "back"] {
                assert!(
                    b.iter().filter(|x| x.1 == kind).count() >= 10,
                    "{lang:?} {kind}"
                );
            }
            let mut ids: Vec<&String> = b.iter().map(|x| &x.0).collect();
            ids.sort();
            ids.dedup();
            assert_eq!(ids.len(), b.len());
            for (id, _, text) in &b {
                assert!(id.starts_with(lang.code()), "{id}");
                assert!(text.len() < 140, "too long for a notification: {id}");
                for bad in ["!", "shame", "honte", "warning", "alerte", "you must"] {
                    assert!(!text.to_lowercase().contains(bad), "{id}: {text}");
                }
            }
        }
        assert_eq!(EN.len(), FR.len());
    }

    #[test]
    fn every_placeholder_is_filled_for_its_subject() {
        for lang in [Lang::En, Lang::Fr] {
            for kind in [
                Kind::Stage,
                Kind::Over,
                Kind::Streak,
                Kind::Weekly,
                Kind::Site,
            ] {
                let mut c = Catalogue::new(lang, &all_kinds(), &[]);
                for _ in 0..c.len() {
                    let r = c.compose(&reminder(kind, 24));
                    assert!(!r.body.contains('{'), "{}: {}", r.id, r.body);
                    assert!(!r.summary.contains('{'), "{}", r.summary);
                }
            }
        }
    }

    #[test]
    fn a_site_reminder_names_the_site_and_its_own_figures() {
        for lang in [Lang::En, Lang::Fr] {
            let mut c = Catalogue::new(lang, &all_kinds(), &[]);
            let mut time_bodies = 0;
            for _ in 0..c.len() {
                let r = c.compose(&reminder(Kind::Site, 24));
                assert!(r.summary.starts_with("youtube.com"), "{}", r.summary);
                assert!(
                    r.summary.contains("21") && r.summary.contains("20"),
                    "{}",
                    r.summary
                );
                if r.id.contains("-time-") {
                    time_bodies += 1;
                    assert!(r.body.contains("youtube.com"), "{}: {}", r.id, r.body);
                }
            }
            assert!(time_bodies >= 5, "{lang:?}: {time_bodies}");
            // The daily reminders never draw a site's message.
            let mut c = Catalogue::new(lang, &all_kinds(), &[]);
            for _ in 0..c.len() {
                let r = c.compose(&reminder(Kind::Over, 40));
                assert!(
                    !r.body.contains("youtube.com") && !r.body.contains('{'),
                    "{}",
                    r.body
                );
            }
        }
    }

    #[test]
    fn the_example_from_the_issue() {
        let mut c = Catalogue::new(Lang::En, &all_kinds(), &[]);
        let r = c.compose(&reminder(Kind::Stage, 24));
        assert_eq!(r.id, "en-time-01");
        assert_eq!(
            r.body,
            "24 minutes on social sites today, 80% of the 30 minutes you set."
        );
        assert_eq!(r.summary, "Social time today: 24m of your 30m");
    }

    #[test]
    fn rotation_least_recently_used_never_twice_in_a_row() {
        let mut c = Catalogue::new(Lang::Fr, &all_kinds(), &["Mon propre mot.".into()]);
        let n = c.len();
        let mut seen = Vec::new();
        for _ in 0..(3 * n) {
            seen.push(c.compose(&reminder(Kind::Over, 40)).id);
        }
        for w in seen.windows(2) {
            assert_ne!(w[0], w[1]);
        }
        // The first kinds alternate.
        assert!(seen[0].starts_with("fr-time"), "{seen:?}");
        assert!(seen[1].starts_with("fr-refl"), "{seen:?}");
        assert!(seen[2].starts_with("fr-back"), "{seen:?}");
        // Every eligible message (time ones about the day, the others) is used
        // before any comes back.
        let eligible = c
            .entries
            .iter()
            .filter(|e| e.kind != Some(MessageKind::Time) || e.subject == Some(Subject::Day))
            .count();
        let mut first: Vec<&String> = seen[..eligible].iter().collect();
        first.sort();
        first.dedup();
        assert_eq!(first.len(), eligible);
        assert!(seen.contains(&"user-1".to_string()));
    }

    /// A reload (a new catalogue from the same settings) goes on with the
    /// rotation: the next message is not the one just shown.
    #[test]
    fn a_reload_keeps_the_rotation_going() {
        let kinds = all_kinds();
        let mut before = Catalogue::new(Lang::En, &kinds, &[]);
        let shown: Vec<String> = (0..3)
            .map(|_| before.compose(&reminder(Kind::Stage, 15)).id)
            .collect();
        let mut after = Catalogue::new(Lang::En, &kinds, &[]);
        after.continue_from(&before);
        let next = after.compose(&reminder(Kind::Stage, 15)).id;
        assert!(!shown.contains(&next), "{next} again after {shown:?}");
        assert_eq!(next, before.compose(&reminder(Kind::Stage, 15)).id);
    }

    #[test]
    fn kinds_can_be_turned_off_and_one_message_never_repeats() {
        let mut c = Catalogue::new(Lang::En, &["back".into()], &[]);
        for _ in 0..20 {
            let r = c.compose(&reminder(Kind::Stage, 15));
            assert!(r.id.starts_with("en-back"), "{}", r.id);
        }
        let mut c = Catalogue::new(Lang::En, &[], &["Only me.".into()]);
        let a = c.compose(&reminder(Kind::Stage, 15));
        let b = c.compose(&reminder(Kind::Stage, 15));
        assert_eq!(a.id, "user-1");
        assert_ne!(b.id, "user-1");
        assert!(b.body.is_empty());
        assert!(b.summary.contains("15m"));
    }

    #[test]
    fn the_pause_page_line_is_a_reflection_or_back_message_in_rotation() {
        for lang in [Lang::En, Lang::Fr] {
            let mut c = Catalogue::new(lang, &all_kinds(), &[]);
            let f = reminder(Kind::PausePage, 40).figures;
            let mut seen = Vec::new();
            for _ in 0..6 {
                let (id, text) = c.line(&f).unwrap();
                assert!(
                    id.contains("-refl-") || id.contains("-back-"),
                    "{lang:?}: {id}"
                );
                assert!(!text.is_empty() && !text.contains('{'), "{text}");
                assert_ne!(seen.last(), Some(&id), "the same line twice in a row");
                seen.push(id);
            }
            // A notification after it does not repeat the line either.
            let last = seen.last().unwrap().clone();
            assert_ne!(c.compose(&reminder(Kind::Over, 40)).id, last);
        }
        let mut only_time = Catalogue::new(Lang::En, &["time".into()], &[]);
        assert_eq!(only_time.line(&reminder(Kind::PausePage, 40).figures), None);
    }

    #[test]
    fn language_follows_the_locale_unless_set() {
        let env = |lang: &'static str| move |k: &str| (k == "LANG").then(|| lang.to_string());
        assert_eq!(Lang::resolve("auto", env("fr_CA.UTF-8")), Lang::Fr);
        assert_eq!(Lang::resolve("auto", env("en_CA.UTF-8")), Lang::En);
        assert_eq!(Lang::resolve("auto", env("C.UTF-8")), Lang::En);
        assert_eq!(Lang::resolve("en", env("fr_CA.UTF-8")), Lang::En);
        assert_eq!(Lang::resolve("fr", |_| None), Lang::Fr);
        let lc_all = |k: &str| match k {
            "LC_ALL" => Some("fr_FR.UTF-8".to_string()),
            "LANG" => Some("en_US.UTF-8".to_string()),
            _ => None,
        };
        assert_eq!(Lang::resolve("auto", lc_all), Lang::Fr);
    }

    /// French typography, the same in every message: a no-break space before
    /// `:` and `%`, none before `;`, `?` and `!` (Canadian usage), « » quotes.
    #[test]
    fn french_spacing_is_the_same_everywhere() {
        for (_, _, text) in FR {
            let chars: Vec<char> = text.chars().collect();
            for (i, c) in chars.iter().enumerate() {
                let before = if i > 0 { Some(chars[i - 1]) } else { None };
                match c {
                    ':' | '%' => assert_eq!(before, Some('\u{a0}'), "{text}"),
                    ';' | '?' | '!' => assert!(
                        !matches!(before, Some(' ' | '\u{a0}' | '\u{202f}')),
                        "{text}"
                    ),
                    '"' => panic!("French quotes are « »: {text}"),
                    _ => {}
                }
            }
        }
    }

    /// No agreement to get wrong: the limit is never the subject of a plural.
    #[test]
    fn french_reads_right_for_one_minute_and_one_hour() {
        for limit in [Duration::from_secs(60), Duration::from_secs(3600)] {
            for (_, _, text) in FR {
                let t = text.replace("{limit}", &long(limit, Lang::Fr));
                assert!(!t.contains("des 1 "), "{t}");
                assert!(!t.contains("vos 1 "), "{t}");
                assert!(!t.contains("les 1 "), "{t}");
            }
        }
    }

    #[test]
    fn durations_read_naturally() {
        let s = Duration::from_secs;
        assert_eq!(long(s(45), Lang::En), "45 seconds");
        assert_eq!(long(s(60), Lang::En), "1 minute");
        assert_eq!(long(s(24 * 60 + 20), Lang::En), "24 minutes");
        assert_eq!(long(s(65 * 60), Lang::En), "1 hour 5 minutes");
        assert_eq!(long(s(150 * 60), Lang::Fr), "2 heures 30 minutes");
        assert_eq!(long(s(1), Lang::Fr), "1 seconde");
        assert_eq!(short(s(65 * 60), Lang::En), "1h 5m");
        assert_eq!(short(s(6), Lang::Fr), "6\u{a0}s");
        assert_eq!(short(s(7200), Lang::Fr), "2\u{a0}h");
    }
}
