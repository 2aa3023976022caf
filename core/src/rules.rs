//! What counts as social: the built-in site and app rules, user rules from the
//! config, and the classifier that maps a focused window to an [`Activity`].
//!
//! This module owns the list of built-in social sites (each with a canonical
//! label such as `facebook.com`), the list of known browsers, and the
//! [`Classifier`] that is asked, on every focus or title change, what the focused
//! window counts as. A window counts as social in two ways:
//!
//! - **Browser windows** ([`is_browser`]) whose title names a social site. The
//!   browser's own suffix (`- Chromium`, `— Mozilla Firefox`, …) is cut off first,
//!   and the site name must then be the whole title or its last component
//!   (`Feed | LinkedIn`, `r/rust - Reddit`), or match a site-specific pattern
//!   (`Home / X`, `(@zuck) on Threads`). Titles of other programs are never
//!   looked at, so a document called `Facebook review.odt` is not social.
//! - **Desktop apps** matched by `WM_CLASS` class or instance or process name,
//!   case-insensitively and exactly (a 15-byte process name also matches an app
//!   name that it is the truncation of, as Linux cuts process names there).
//!
//! - **Host names** from dwell's browser extension ([`Classifier::classify_host`]):
//!   a site's label and its domains match as host suffixes (`reddit.com` covers
//!   `old.reddit.com`), and a user rule's `host` list adds host names under its
//!   label. [`valid_host`] says what a host name may look like.
//!
//! Window titles and host names are only held in memory for the duration of a
//! call; nothing here logs them.
//!
//! Work tools are not social: Slack, Teams, Element and the like have no rule.
//! **Signal is not counted by default**, because many teams use it for work;
//! to count it, add to the config:
//!
//! ```toml
//! [[rules]]
//! site = "signal.org"
//! app = "signal"
//! ```
//!
//! The rooms: [`sites`] holds the built-in sites and their title patterns,
//! [`browsers`] which windows are browsers and their title suffixes, [`names`]
//! what a label and a host name may be and how names compare; this file holds
//! the user rules and the [`Classifier`] built from all of them.

mod browsers;
mod names;
mod sites;

use regex::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};

use crate::model::{Activity, WindowInfo};
pub use browsers::is_browser;
use browsers::BROWSER_SUFFIX;
use names::{app_matches, host_under, same_label};
pub use names::{check_label, valid_host, HostError, MAX_HOST, MAX_HOST_LABEL, MAX_LABEL};
use sites::{site_pattern, SITES};

/// A user rule from `[[rules]]` in the config.
///
/// A rule matches when its `app` matches or its `title` matches (either one is
/// enough). User rules are tried in order, before the built-in ones.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct UserRule {
    pub site: String,
    /// Regex on browser window titles. Case-insensitive unless the regex says
    /// otherwise with `(?-i)`. Tried on the title without the browser's suffix
    /// (`… - Chromium`) and then on the full title.
    pub title: Option<String>,
    /// `WM_CLASS` (class or instance) or process name, case-insensitive, exact.
    pub app: Option<String>,
    /// Host names (from the browser extension) counted under `site`, each with
    /// its subdomains; lower-case ASCII (punycode for international names).
    pub host: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error("rule for site \"{site}\": invalid title regex: {message}")]
    BadRegex { site: String, message: String },
    #[error("rule for site \"{site}\" needs a `title`, an `app` or a `host`")]
    Empty { site: String },
    #[error("rule for site \"{site}\": host \"{host}\" is not a host name: {reason}")]
    BadHost {
        site: String,
        host: String,
        reason: HostError,
    },
}

#[derive(Debug, Clone)]
struct CompiledUserRule {
    site: String,
    title: Option<Regex>,
    /// Lowercase.
    app: Option<String>,
    /// Host suffixes: the `host` list, and the site label when it is a host name.
    hosts: Vec<String>,
}

/// Compiled rules, cheap to call on every focus change.
#[derive(Debug, Clone)]
pub struct Classifier {
    user: Vec<CompiledUserRule>,
    /// Built-in apps: (lowercase name, label).
    apps: Vec<(&'static str, &'static str)>,
    /// Built-in title patterns, one per site (compiled on first use: only the
    /// agent classifies windows, and compiling takes ~20 ms).
    patterns: Vec<String>,
    title_labels: Vec<&'static str>,
    /// Built-in host suffixes: (domain, label), for the sites in force.
    hosts: Vec<(&'static str, &'static str)>,
    compiled: std::sync::OnceLock<Option<Compiled>>,
}

/// The compiled built-in title rules.
#[derive(Debug, Clone)]
struct Compiled {
    /// All patterns, for a single pass.
    title_set: RegexSet,
    /// The same patterns one by one, to pick among several matches.
    titles: Vec<Regex>,
    browser_suffix: Regex,
}

impl Compiled {
    /// `None` only if a built-in pattern were invalid, which the unit tests rule out.
    fn build(patterns: &[String]) -> Option<Compiled> {
        Some(Compiled {
            title_set: RegexSetBuilder::new(patterns).build().ok()?,
            titles: patterns
                .iter()
                .map(|p| Regex::new(p))
                .collect::<Result<_, _>>()
                .ok()?,
            browser_suffix: Regex::new(BROWSER_SUFFIX).ok()?,
        })
    }
}

impl Classifier {
    /// Built-in rules, plus `user` rules (which take precedence and replace a
    /// built-in rule of the same site), minus the sites in `disabled`.
    pub fn new(user: &[UserRule], disabled: &[String]) -> Result<Classifier, RuleError> {
        let is_disabled = |label: &str| disabled.iter().any(|d| same_label(d, label));

        let mut user_rules = Vec::with_capacity(user.len());
        for rule in user {
            let title = rule.title.as_deref().filter(|t| !t.trim().is_empty());
            let app = rule.app.as_deref().map(str::trim).filter(|a| !a.is_empty());
            let mut hosts = Vec::with_capacity(rule.host.len() + 1);
            for h in &rule.host {
                let h = h.trim().trim_start_matches("*.").to_ascii_lowercase();
                valid_host(&h).map_err(|reason| RuleError::BadHost {
                    site: rule.site.clone(),
                    host: h.clone(),
                    reason,
                })?;
                hosts.push(h);
            }
            if title.is_none() && app.is_none() && hosts.is_empty() {
                return Err(RuleError::Empty {
                    site: rule.site.clone(),
                });
            }
            let label = rule.site.trim().to_ascii_lowercase();
            if label.contains('.') && valid_host(&label).is_ok() {
                hosts.push(label);
            }
            let title = match title {
                Some(t) => Some(
                    RegexBuilder::new(t)
                        .case_insensitive(true)
                        .build()
                        .map_err(|e| RuleError::BadRegex {
                            site: rule.site.clone(),
                            message: e.to_string(),
                        })?,
                ),
                None => None,
            };
            if is_disabled(&rule.site) {
                continue;
            }
            user_rules.push(CompiledUserRule {
                site: rule.site.clone(),
                title,
                app: app.map(str::to_lowercase),
                hosts,
            });
        }

        let active = SITES.iter().filter(|s| {
            !is_disabled(s.label) && !user.iter().any(|u| same_label(&u.site, s.label))
        });
        let mut apps = Vec::new();
        let mut patterns = Vec::new();
        let mut title_labels = Vec::new();
        let mut hosts = Vec::new();
        for site in active {
            apps.extend(site.apps.iter().map(|a| (*a, site.label)));
            hosts.extend(site.domains.iter().map(|d| (*d, site.label)));
            if site.label.contains('.') && !site.domains.contains(&site.label) {
                hosts.push((site.label, site.label));
            }
            if let Some(p) = site_pattern(site) {
                patterns.push(p);
                title_labels.push(site.label);
            }
        }
        Ok(Classifier {
            user: user_rules,
            apps,
            patterns,
            title_labels,
            hosts,
            compiled: std::sync::OnceLock::new(),
        })
    }

    /// What the focused tab's host name counts as: the first user rule whose
    /// `host` list or label covers it, else the built-in site with the longest
    /// matching domain, else other time. `host` should have passed
    /// [`valid_host`]; anything else is other time.
    pub fn classify_host(&self, host: &str) -> Activity {
        if valid_host(host).is_err() {
            return Activity::Other;
        }
        if let Some(rule) = self
            .user
            .iter()
            .find(|r| r.hosts.iter().any(|h| host_under(host, h)))
        {
            return Activity::Social(rule.site.clone());
        }
        self.hosts
            .iter()
            .filter(|(domain, _)| host_under(host, domain))
            .max_by_key(|(domain, _)| domain.len())
            .map_or(Activity::Other, |(_, label)| {
                Activity::Social((*label).to_owned())
            })
    }

    fn compiled(&self) -> Option<&Compiled> {
        self.compiled
            .get_or_init(|| Compiled::build(&self.patterns))
            .as_ref()
    }

    pub fn classify(&self, window: &WindowInfo) -> Activity {
        let browser = is_browser(window);
        let full_title = window.title.trim();
        let page_title = if browser {
            self.page_title(full_title)
        } else {
            ""
        };

        for rule in &self.user {
            let app_hit = rule.app.as_deref().is_some_and(|a| app_matches(window, a));
            let title_hit = browser
                && rule.title.as_ref().is_some_and(|re| {
                    re.is_match(page_title)
                        || (page_title.len() != full_title.len() && re.is_match(full_title))
                });
            if app_hit || title_hit {
                return Activity::Social(rule.site.clone());
            }
        }

        if !browser {
            if let Some((_, label)) = self.apps.iter().find(|(a, _)| app_matches(window, a)) {
                return Activity::Social((*label).to_owned());
            }
            return Activity::Other;
        }

        match self.builtin_title(page_title) {
            Some(label) => Activity::Social(label.to_owned()),
            None => Activity::Other,
        }
    }

    /// The canonical labels of all built-in sites.
    pub fn builtin_sites() -> Vec<&'static str> {
        SITES.iter().map(|s| s.label).collect()
    }

    /// The title without the browser's own suffix.
    fn page_title<'a>(&self, title: &'a str) -> &'a str {
        match self.compiled().and_then(|c| c.browser_suffix.find(title)) {
            Some(m) => title[..m.start()].trim_end(),
            None => title,
        }
    }

    fn builtin_title(&self, title: &str) -> Option<&'static str> {
        let compiled = self.compiled()?;
        if title.is_empty() || !compiled.title_set.is_match(title) {
            return None;
        }
        let matches = compiled.title_set.matches(title);
        if matches.len() == 1 {
            return matches
                .iter()
                .next()
                .and_then(|i| self.title_labels.get(i).copied());
        }
        // Several sites: prefer the match ending last (the site's name is
        // usually the title's suffix), then the longer one.
        let mut best: Option<(usize, usize, usize)> = None;
        for i in matches.iter() {
            let Some(m) = compiled.titles.get(i).and_then(|re| re.find(title)) else {
                continue;
            };
            let better = match best {
                None => true,
                Some((end, start, _)) => m.end() > end || (m.end() == end && m.start() < start),
            };
            if better {
                best = Some((m.end(), m.start(), i));
            }
        }
        best.and_then(|(_, _, i)| self.title_labels.get(i).copied())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
