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

use regex::{Regex, RegexBuilder};

use crate::model::{Activity, WindowInfo};

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

/// The longest site label, in characters (a user rule's `site`).
pub const MAX_LABEL: usize = 100;

/// Why `label` cannot be a site label (it is stored and printed in reports):
/// a control character (an escape sequence could act on the terminal), or
/// more than [`MAX_LABEL`] characters. The message shows the label escaped
/// and shortened.
pub fn check_label(label: &str) -> Result<(), String> {
    let shown = || {
        let mut short: String = label.chars().take(40).collect();
        if short.len() < label.len() {
            short.push('…');
        }
        crate::text::for_terminal(&short)
    };
    let n = label.chars().count();
    if n > MAX_LABEL {
        return Err(format!(
            "site label \"{}\" has {n} characters: keep it to {MAX_LABEL}",
            shown()
        ));
    }
    if label.chars().any(char::is_control) {
        return Err(format!(
            "site label \"{}\" has a control character (an escape sequence, tab or bell): write plain text",
            shown()
        ));
    }
    Ok(())
}

/// The longest host name, in bytes (RFC 1035).
pub const MAX_HOST: usize = 253;
/// The longest label of a host name, in bytes.
pub const MAX_HOST_LABEL: usize = 63;

/// Why a string is not a host name as dwell accepts one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostError {
    #[error("it is empty")]
    Empty,
    #[error("it is longer than {MAX_HOST} bytes")]
    TooLong,
    #[error("a label is empty or longer than {MAX_HOST_LABEL} bytes")]
    BadLabel,
    #[error("a label starts or ends with `-`")]
    Hyphen,
    #[error("only lower-case a-z, 0-9, `-` and `.` are allowed (write an international name in its `xn--` form)")]
    BadChar,
}

/// Checks that `host` is a bare host name: lower-case ASCII letters, digits and
/// hyphens in dot-separated labels of 1 to 63 bytes, at most 253 bytes in all,
/// no label starting or ending with a hyphen. International names are in their
/// IDNA (punycode, `xn--…`) form, as browsers report them. Anything with a
/// scheme, a port, a path, user info or a trailing dot is refused.
pub fn valid_host(host: &str) -> Result<(), HostError> {
    if host.is_empty() {
        return Err(HostError::Empty);
    }
    if host.len() > MAX_HOST {
        return Err(HostError::TooLong);
    }
    for label in host.split('.') {
        if label.is_empty() || label.len() > MAX_HOST_LABEL {
            return Err(HostError::BadLabel);
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(HostError::BadChar);
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(HostError::Hyphen);
        }
    }
    Ok(())
}

/// Whether `host` is `domain` or one of its subdomains.
fn host_under(host: &str, domain: &str) -> bool {
    host == domain
        || (host.len() > domain.len()
            && host.ends_with(domain)
            && host.as_bytes()[host.len() - domain.len() - 1] == b'.')
}

/// One built-in social site.
struct Site {
    /// Canonical label, stored in the database.
    label: &'static str,
    /// Names matched (case-insensitively) as the whole page title or as its last
    /// component after a separator such as ` - `, ` | `, ` • `, ` / `.
    names: &'static [&'static str],
    /// Domains, matched as a last component too, and when the title is (or
    /// starts with) a bare URL of the site, as while a page is loading.
    domains: &'static [&'static str],
    /// Further case-insensitive regexes; use `(?-i:…)` for case-sensitive parts.
    extra: &'static [&'static str],
    /// Desktop programs (`WM_CLASS` class or instance, or process name), lowercase.
    apps: &'static [&'static str],
}

/// The built-in sites, in the order [`Classifier::builtin_sites`] lists them.
/// When several match one title, the match that ends last wins, then the one
/// that starts first, then the one earlier in this list.
const SITES: &[Site] = &[
    Site {
        label: "facebook.com",
        names: &["Facebook"],
        domains: &["facebook.com", "fb.com", "fb.watch"],
        extra: &[
            r"^Facebook\s+[-–—|]\s+(?:log\s+in|sign\s+up)\b",
            r"^Log\s+in(?:to|\s+to)\s+Facebook\b",
        ],
        apps: &[],
    },
    Site {
        label: "messenger.com",
        names: &["Messenger"],
        domains: &["messenger.com"],
        extra: &[r"^(?:\(\d+\+?\)\s*)?Messenger\s+\|\s+Facebook$"],
        apps: &["caprine"],
    },
    Site {
        label: "x.com",
        names: &["Twitter", "TweetDeck"],
        domains: &["x.com", "twitter.com", "pro.x.com"],
        extra: &[
            // "Home / X", "Jane (@jane) / X", "(3) Notifications / X"
            r"(?-i:\s/\sX)$",
            // "Jane on X: "text" / X" (also when the suffix is cut off)
            r#"(?-i:\son\sX:\s+["“])"#,
            r"(?-i:^X\.\s+It[’']s\s+what[’']s\s+happening)",
            // The bare title while the page loads.
            r"(?-i:^(?:\(\d+\+?\)\s*)?X)$",
        ],
        apps: &["cawbird"],
    },
    Site {
        label: "instagram.com",
        names: &["Instagram", "Instagram photos and videos"],
        domains: &["instagram.com", "instagr.am"],
        extra: &[
            r"(?-i:\son\sInstagram:\s)",
            r"(?-i:^Instagram\s(?:post|reel|photo|video)\sby\s.*•)",
        ],
        apps: &[],
    },
    Site {
        label: "threads.net",
        names: &[],
        domains: &["threads.net", "threads.com"],
        extra: &[
            // "Threads", "(2) Threads", "@zuck • Threads", "Home | Threads";
            // not "Threading in Rust" or "Threads - Rust docs".
            r"(?-i:(?:^(?:\(\d+\+?\)\s*)?|\s[•|·]\s+)Threads)$",
            r"(?-i:\(@[\w.]+\)\s+on\s+Threads)$",
        ],
        apps: &[],
    },
    Site {
        label: "tiktok.com",
        names: &["TikTok", "TikTok Live"],
        domains: &["tiktok.com"],
        extra: &[r"^TikTok\s+[-–—|]\s+Make\s+Your\s+Day\b"],
        apps: &[],
    },
    Site {
        label: "linkedin.com",
        names: &["LinkedIn"],
        domains: &["linkedin.com", "lnkd.in"],
        extra: &[r"^LinkedIn:\s+Log\s+In\b"],
        apps: &[],
    },
    Site {
        label: "reddit.com",
        names: &["Reddit"],
        domains: &["reddit.com", "redd.it"],
        extra: &[
            r"^reddit(?::|\s+[-–—])\s+(?:the\s+front\s+page|dive\s+into\s+anything|the\s+heart\s+of\s+the\s+internet)",
            // "Post title : r/rust", "r/rust", "r/rust on Reddit: …"
            r"(?:^|\s)r/[A-Za-z0-9_]{2,21}$",
            r"^r/[A-Za-z0-9_]{2,21}(?:\s|$)",
            r"(?-i:\son\sReddit:\s)",
        ],
        apps: &["giara", "org.gabmus.giara"],
    },
    Site {
        label: "youtube.com",
        names: &["YouTube"],
        domains: &["youtube.com", "youtu.be"],
        extra: &[],
        apps: &["freetube", "io.freetubeapp.freetube"],
    },
    Site {
        label: "pinterest.com",
        names: &["Pinterest"],
        domains: &["pinterest.com", "pin.it"],
        extra: &[],
        apps: &[],
    },
    Site {
        label: "tumblr.com",
        names: &["Tumblr"],
        domains: &["tumblr.com"],
        extra: &[r"(?-i:\son\sTumblr)$"],
        apps: &[],
    },
    Site {
        label: "bsky.app",
        names: &["Bluesky"],
        domains: &["bsky.app"],
        extra: &[r"(?-i:\son\sBluesky)$", r"\.bsky\.social\b"],
        apps: &[],
    },
    Site {
        label: "mastodon",
        names: &["Mastodon", "Fosstodon", "Phanpy"],
        domains: &[
            "mastodon.social",
            "mastodon.online",
            "mastodon.world",
            "mstdn.social",
            "mas.to",
            "fosstodon.org",
            "hachyderm.io",
            "infosec.exchange",
            "techhub.social",
        ],
        extra: &[
            // A fediverse handle as Mastodon shows it: "Jane (@jane@example.social)".
            r"\(@[\w.]+@[\w-]+(?:\.[\w-]+)+\)",
            r"(?:^|\s)mastodon\.[a-z]{2,}(?:\.[a-z]{2,})?$",
        ],
        apps: &[
            "tokodon",
            "org.kde.tokodon",
            "tuba",
            "dev.geopjr.tuba",
            "whalebird",
        ],
    },
    Site {
        label: "discord.com",
        names: &["Discord"],
        domains: &["discord.com", "discordapp.com"],
        extra: &[r"^(?:\(\d+\+?\)\s*|[•●]\s*)?Discord\s+\|\s"],
        apps: &[
            "discord",
            "discordcanary",
            "discordptb",
            "discord-canary",
            "discord-ptb",
            "com.discordapp.discord",
            "vesktop",
            "dev.vencord.vesktop",
            "webcord",
            "legcord",
            "armcord",
        ],
    },
    Site {
        label: "web.telegram.org",
        names: &["Telegram", "Telegram Web"],
        domains: &["web.telegram.org", "t.me"],
        extra: &[r"^Telegram:\s+(?:Contact|View|Join|Launch)\b"],
        apps: &[
            "telegramdesktop",
            "telegram-desktop",
            "org.telegram.desktop",
            "telegram",
            "ayugramdesktop",
            "ayugram-desktop",
            "kotatogramdesktop",
            "kotatogram-desktop",
        ],
    },
    Site {
        label: "web.whatsapp.com",
        names: &["WhatsApp", "WhatsApp Web", "WhatsApp Business"],
        domains: &["web.whatsapp.com"],
        extra: &[],
        apps: &[
            "whatsapp-for-linux",
            "com.github.eneshecan.whatsappforlinux",
            "wasistlos",
            "com.github.xeco23.wasistlos",
            "whatsapp-desktop",
            "whatsapp-desktop-linux",
            "whatsapp",
            "whatsie",
            "whatsdesk",
            "zapzap",
            "com.rtosta.zapzap",
        ],
    },
    Site {
        label: "twitch.tv",
        names: &["Twitch"],
        domains: &["twitch.tv"],
        extra: &[],
        apps: &["chatterino"],
    },
    Site {
        label: "flickr.com",
        names: &["Flickr"],
        domains: &["flickr.com", "flic.kr"],
        extra: &[],
        apps: &[],
    },
    Site {
        label: "snapchat.com",
        names: &["Snapchat"],
        domains: &["snapchat.com"],
        extra: &[],
        apps: &[],
    },
    Site {
        label: "quora.com",
        names: &["Quora"],
        domains: &["quora.com"],
        extra: &[],
        apps: &[],
    },
    Site {
        label: "vk.com",
        names: &["VK", "ВКонтакте", "VKontakte"],
        domains: &["vk.com", "vk.ru"],
        extra: &[],
        apps: &[],
    },
    Site {
        label: "ok.ru",
        names: &["Одноклассники", "Odnoklassniki", "OK.ru"],
        domains: &["ok.ru"],
        extra: &[],
        apps: &[],
    },
    Site {
        label: "weibo.com",
        names: &["Weibo", "微博", "新浪微博"],
        domains: &["weibo.com", "weibo.cn"],
        extra: &[r"_微博$", r"^微博\s*[-–—_|]"],
        apps: &[],
    },
    Site {
        label: "xiaohongshu.com",
        names: &["小红书", "RedNote", "Xiaohongshu"],
        domains: &["xiaohongshu.com", "xhslink.com"],
        extra: &[r"^小红书\s*[-–—_|]"],
        apps: &[],
    },
    Site {
        label: "douyin.com",
        names: &["抖音", "Douyin"],
        domains: &["douyin.com"],
        extra: &[r"^抖音\s*[-–—_|]"],
        apps: &[],
    },
    Site {
        label: "bilibili.com",
        names: &["bilibili", "哔哩哔哩"],
        domains: &["bilibili.com", "b23.tv"],
        extra: &[r"[-_]bilibili$", r"^哔哩哔哩"],
        apps: &[],
    },
    Site {
        label: "zhihu.com",
        names: &["知乎", "Zhihu"],
        domains: &["zhihu.com"],
        extra: &[r"^知乎\s*[-–—_|]"],
        apps: &[],
    },
    Site {
        label: "douban.com",
        names: &["豆瓣", "Douban"],
        domains: &["douban.com"],
        extra: &[r"\(豆瓣\)$", r"^豆瓣"],
        apps: &[],
    },
    Site {
        label: "9gag.com",
        names: &["9GAG"],
        domains: &["9gag.com"],
        extra: &[r"^9GAG\b"],
        apps: &[],
    },
    Site {
        label: "imgur.com",
        names: &["Imgur"],
        domains: &["imgur.com"],
        extra: &[r"^Imgur:\s"],
        apps: &[],
    },
    Site {
        label: "nextdoor.com",
        names: &["Nextdoor"],
        domains: &["nextdoor.com"],
        extra: &[],
        apps: &[],
    },
    Site {
        label: "news.ycombinator.com",
        names: &["Hacker News"],
        domains: &["news.ycombinator.com"],
        extra: &[],
        apps: &[],
    },
    Site {
        label: "lemmy",
        names: &["Lemmy", "Beehaw"],
        domains: &[
            "lemmy.world",
            "lemmy.ml",
            "lemmy.zip",
            "lemm.ee",
            "beehaw.org",
            "sh.itjust.works",
        ],
        extra: &[r"(?:^|\s)lemmy\.[a-z]{2,}(?:\.[a-z]{2,})?$"],
        apps: &[],
    },
    Site {
        label: "truthsocial.com",
        names: &["Truth Social"],
        domains: &["truthsocial.com"],
        extra: &[],
        apps: &[],
    },
    Site {
        label: "deviantart.com",
        names: &["DeviantArt"],
        domains: &["deviantart.com"],
        extra: &[r"(?-i:\son\sDeviantArt)$"],
        apps: &[],
    },
    Site {
        label: "letterboxd.com",
        names: &["Letterboxd"],
        domains: &["letterboxd.com", "boxd.it"],
        extra: &[],
        apps: &[],
    },
    Site {
        label: "goodreads.com",
        names: &["Goodreads"],
        domains: &["goodreads.com"],
        extra: &[],
        apps: &[],
    },
    Site {
        label: "xing.com",
        names: &["XING"],
        domains: &["xing.com"],
        extra: &[],
        apps: &[],
    },
];

/// Known browsers, lowercase, as `WM_CLASS` class or instance (or Wayland app id).
const BROWSERS: &[&str] = &[
    // Chromium family
    "chromium",
    "chromium-browser",
    "org.chromium.chromium",
    "google-chrome",
    "google-chrome-stable",
    "google-chrome-beta",
    "google-chrome-unstable",
    "com.google.chrome",
    "chrome",
    "brave-browser",
    "brave-browser-beta",
    "brave-browser-nightly",
    "brave",
    "com.brave.browser",
    "microsoft-edge",
    "microsoft-edge-stable",
    "microsoft-edge-beta",
    "microsoft-edge-dev",
    "com.microsoft.edge",
    "msedge",
    "vivaldi",
    "vivaldi-stable",
    "vivaldi-snapshot",
    "com.vivaldi.vivaldi",
    "opera",
    "opera-beta",
    "opera-developer",
    "thorium-browser",
    "thorium",
    "yandex-browser",
    "yandex-browser-beta",
    // Firefox family
    "firefox",
    "firefox-esr",
    "firefox-beta",
    "firefox-nightly",
    "firefox-developer-edition",
    "firefoxdeveloperedition",
    "org.mozilla.firefox",
    "navigator",
    "librewolf",
    "io.gitlab.librewolf-community",
    "waterfox",
    "net.waterfox.waterfox",
    "zen",
    "zen-browser",
    "zen-alpha",
    "zen-beta",
    "app.zen_browser.zen",
    "floorp",
    "one.ablaze.floorp",
    "mullvadbrowser",
    "mullvad-browser",
    "tor browser",
    "torbrowser",
    "palemoon",
    "seamonkey",
    // Others
    "epiphany",
    "org.gnome.epiphany",
    "falkon",
    "org.kde.falkon",
    "qutebrowser",
    "org.qutebrowser.qutebrowser",
    "konqueror",
    "org.kde.konqueror",
    "midori",
];

/// The browser's own part at the end of a window title, e.g. ` - Chromium`,
/// ` — Mozilla Firefox Private Browsing`, ` - Personal - Microsoft​ Edge`,
/// ` - Google Chrome - Work`.
const BROWSER_SUFFIX: &str = r"(?ix)
    \s+[-—–]\s+
    # Edge (and others) may put a profile or private marker before the name.
    (?:(?:\[?InPrivate\]?|Personal|Work|Profile\s+\d+|Guest|Default)\s+[-—–]\s+)?
    (?:
        (?:Mozilla\s+)?Firefox(?:\s+(?:Developer\s+Edition|Nightly|ESR|Beta))?
      | (?:Google\s+)?Chrome(?:\s+(?:Beta|Dev|Canary|Unstable))?
      | Chromium
      | Brave(?:\s+Browser)?
      | Microsoft[\s\x{200B}]*Edge(?:\s+(?:Beta|Dev|Canary))?
      | Vivaldi | Opera | LibreWolf | Waterfox | Falkon | qutebrowser | Konqueror
      | Midori | Zen(?:\s+Browser)? | Floorp | Epiphany | Thorium | Pale\s+Moon
      | SeaMonkey | Yandex(?:\s+Browser)? | Mullvad\s+Browser | Tor\s+Browser
    )
    (?:\s+Private\s+Browsing)?
    (?:\s+\([^()]*\))?
    # Chrome-style profile name after the browser's name.
    (?:\s+-\s+[^-—–|/]{1,40})?
    \s*$";

/// Left edge of a title component: the start of the title (after an optional
/// unread count such as `(3)`), or a spaced separator.
const LEFT: &str = r"(?:^(?:\(\d+\+?\)\s*|[•●]\s*)?|\s[-|—–•·/»]\s+)";

/// How the start of a bare-URL title may look before the domain.
const URL_START: &str = r"^(?:https?://)?(?:(?:www|m|mobile|old|new|web|touch)\.)?";

/// Whether a window belongs to a known browser, by its `WM_CLASS` class or
/// instance, case-insensitively. Only the first word is compared as well, since
/// Chromium started with `--user-data-dir` reports an instance such as
/// `chromium (/tmp/x)`.
pub fn is_browser(window: &WindowInfo) -> bool {
    is_browser_name(&window.class) || is_browser_name(&window.instance)
}

fn is_browser_name(name: &str) -> bool {
    let name = name.trim();
    if name.is_empty() {
        return false;
    }
    let first = name
        .split(|c: char| c.is_whitespace() || c == '(')
        .next()
        .unwrap_or(name);
    BROWSERS
        .iter()
        .any(|b| b.eq_ignore_ascii_case(name) || b.eq_ignore_ascii_case(first))
}

/// `field` (from the window) equals `name` (lowercase), ignoring case.
fn name_is(field: &str, name: &str) -> bool {
    let field = field.trim();
    if field.is_ascii() {
        field.eq_ignore_ascii_case(name)
    } else {
        field.to_lowercase() == name
    }
}

/// Linux keeps 15 bytes of a process name; such a name also matches a longer
/// app name it is the start of.
const COMM_LEN: usize = 15;

fn process_is(process: &str, name: &str) -> bool {
    let process = process.trim();
    name_is(process, name)
        || (process.len() == COMM_LEN
            && name.len() > COMM_LEN
            && name
                .get(..COMM_LEN)
                .is_some_and(|p| p.eq_ignore_ascii_case(process)))
}

fn app_matches(window: &WindowInfo, name: &str) -> bool {
    name_is(&window.class, name)
        || name_is(&window.instance, name)
        || window
            .process
            .as_deref()
            .is_some_and(|p| process_is(p, name))
}

fn same_label(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim(), b.trim());
    a.eq_ignore_ascii_case(b) || (!a.is_ascii() && a.to_lowercase() == b.to_lowercase())
}

/// A name as a regex, any run of spaces matching any run of whitespace.
fn name_regex(name: &str) -> String {
    regex::escape(name).replace(' ', r"\s+")
}

/// The one regex for a built-in site's titles.
fn site_pattern(site: &Site) -> Option<String> {
    let mut alts: Vec<String> = Vec::new();
    let components: Vec<String> = site
        .names
        .iter()
        .chain(site.domains)
        .map(|n| name_regex(n))
        .collect();
    if !components.is_empty() {
        alts.push(format!("{LEFT}(?:{})$", components.join("|")));
    }
    if !site.domains.is_empty() {
        let domains: Vec<String> = site.domains.iter().map(|d| regex::escape(d)).collect();
        alts.push(format!(
            r"{URL_START}(?:{})(?:[/:?#\s]|$)",
            domains.join("|")
        ));
    }
    alts.extend(site.extra.iter().map(|e| format!("(?:{e})")));
    if alts.is_empty() {
        None
    } else {
        Some(format!("(?i:{})", alts.join("|")))
    }
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

/// The compiled built-in title rules: one regex per site, tried one after
/// the other. (One `RegexSet` of all the patterns, beside the same regexes to
/// pick among several matches, made the agent's peak memory 2 MB larger: the
/// set's compilation alone needed about 3 MB at once, which the allocator
/// kept. Compiled one by one, the largest needs a few hundred KB, and the
/// few dozen searches of a title cost microseconds.)
#[derive(Debug, Clone)]
struct Compiled {
    titles: Vec<Regex>,
    browser_suffix: Regex,
}

impl Compiled {
    /// `None` only if a built-in pattern were invalid, which the unit tests rule out.
    fn build(patterns: &[String]) -> Option<Compiled> {
        Some(Compiled {
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
        if title.is_empty() {
            return None;
        }
        let mut matches = compiled
            .titles
            .iter()
            .enumerate()
            .filter(|(_, re)| re.is_match(title));
        let first = matches.next()?;
        let Some(second) = matches.next() else {
            return self.title_labels.get(first.0).copied();
        };
        // Several sites: prefer the match ending last (the site's name is
        // usually the title's suffix), then the longer one.
        let mut best: Option<(usize, usize, usize)> = None;
        for (i, re) in [first, second].into_iter().chain(matches) {
            let Some(m) = re.find(title) else {
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
mod tests {
    use super::*;

    fn win(class: &str, instance: &str, title: &str) -> WindowInfo {
        WindowInfo {
            class: class.into(),
            instance: instance.into(),
            title: title.into(),
            process: None,
            fullscreen: false,
        }
    }

    fn chromium(title: &str) -> WindowInfo {
        win("Chromium", "chromium", title)
    }

    fn firefox(title: &str) -> WindowInfo {
        win("firefox", "Navigator", title)
    }

    fn builtin() -> Classifier {
        Classifier::new(&[], &[]).expect("built-in rules compile")
    }

    fn social(label: &str) -> Activity {
        Activity::Social(label.to_owned())
    }

    /// Realistic page titles (without the browser suffix) for every built-in site.
    const TITLES: &[(&str, &str)] = &[
        ("Facebook", "facebook.com"),
        ("(5) Facebook", "facebook.com"),
        ("Jane Doe | Facebook", "facebook.com"),
        ("Facebook – log in or sign up", "facebook.com"),
        ("www.facebook.com/groups/rust", "facebook.com"),
        ("Messenger", "messenger.com"),
        ("Messenger | Facebook", "messenger.com"),
        ("(2) Messenger | Facebook", "messenger.com"),
        ("Home / X", "x.com"),
        ("(3) Home / X", "x.com"),
        ("Jane Doe (@jane) / X", "x.com"),
        ("Jane Doe on X: \"Shipping dwell today\" / X", "x.com"),
        ("Jane Doe on X: “Shipping dwell today”", "x.com"),
        ("X. It’s what’s happening / X", "x.com"),
        ("X", "x.com"),
        ("Home / Twitter", "x.com"),
        ("https://x.com/home", "x.com"),
        ("Instagram", "instagram.com"),
        ("Jane Doe (@jane) • Instagram photos and videos", "instagram.com"),
        ("Jane Doe on Instagram: \"sunset\"", "instagram.com"),
        ("Threads", "threads.net"),
        ("@zuck • Threads", "threads.net"),
        ("Mark Zuckerberg (@zuck) on Threads", "threads.net"),
        ("TikTok - Make Your Day", "tiktok.com"),
        ("Cat videos (@catlover) | TikTok", "tiktok.com"),
        ("Feed | LinkedIn", "linkedin.com"),
        ("(3) Feed | LinkedIn", "linkedin.com"),
        ("LinkedIn: Log In or Sign Up", "linkedin.com"),
        ("r/rust - Reddit", "reddit.com"),
        ("How do lifetimes work? : r/rust", "reddit.com"),
        ("r/rust on Reddit: Why is my build slow?", "reddit.com"),
        ("r/rust", "reddit.com"),
        ("Reddit - Dive into anything", "reddit.com"),
        ("Rust in 100 Seconds - YouTube", "youtube.com"),
        ("(12) YouTube", "youtube.com"),
        ("Pinterest", "pinterest.com"),
        ("Cozy reading nook ideas | Pinterest", "pinterest.com"),
        ("Dashboard | Tumblr", "tumblr.com"),
        ("Untitled — staff on Tumblr", "tumblr.com"),
        ("Home — Bluesky", "bsky.app"),
        ("@jay.bsky.team on Bluesky", "bsky.app"),
        ("Jane (@jane.bsky.social)", "bsky.app"),
        ("Home - Mastodon", "mastodon"),
        ("Jane (@jane@hachyderm.io) - Hachyderm.io", "mastodon"),
        ("Notifications - mastodon.social", "mastodon"),
        ("Discord | #general | Rust Community", "discord.com"),
        ("#general | Rust Community - Discord", "discord.com"),
        ("Discord", "discord.com"),
        ("Telegram Web", "web.telegram.org"),
        ("(2) Telegram Web", "web.telegram.org"),
        ("Telegram: Contact @durov", "web.telegram.org"),
        ("WhatsApp", "web.whatsapp.com"),
        ("(3) WhatsApp", "web.whatsapp.com"),
        ("somestreamer - Twitch", "twitch.tv"),
        ("Twitch", "twitch.tv"),
        ("Sunset over the bay | Flickr", "flickr.com"),
        ("Snapchat", "snapchat.com"),
        ("What is the best way to learn Rust? - Quora", "quora.com"),
        ("Новости | ВКонтакте", "vk.com"),
        ("News | VK", "vk.com"),
        ("Одноклассники", "ok.ru"),
        ("微博-随时随地发现新鲜事", "weibo.com"),
        ("某某的微博_微博", "weibo.com"),
        ("小红书 - 你的生活指南", "xiaohongshu.com"),
        ("Morning routine - RedNote", "xiaohongshu.com"),
        ("抖音-记录美好生活", "douyin.com"),
        ("【4K】视频标题_哔哩哔哩_bilibili", "bilibili.com"),
        ("如何学习 Rust？ - 知乎", "zhihu.com"),
        ("肖申克的救赎 (豆瓣)", "douban.com"),
        ("9GAG - Best Funny Memes and Breaking News", "9gag.com"),
        ("Imgur: The magic of the Internet", "imgur.com"),
        ("My cat - Imgur", "imgur.com"),
        ("Nextdoor", "nextdoor.com"),
        ("Show HN: A tiny tool | Hacker News", "news.ycombinator.com"),
        ("Hacker News", "news.ycombinator.com"),
        ("Some post - Lemmy.World", "lemmy"),
        ("Lemmy", "lemmy"),
        ("Truth Details | Truth Social", "truthsocial.com"),
        ("Sunset by artist on DeviantArt", "deviantart.com"),
        (
            "Dune: Part Two (2024) directed by Denis Villeneuve • Reviews, film + cast • Letterboxd",
            "letterboxd.com",
        ),
        ("The Hobbit by J.R.R. Tolkien | Goodreads", "goodreads.com"),
        ("Startseite | XING", "xing.com"),
    ];

    #[test]
    fn every_builtin_site_has_a_matching_title() {
        let c = builtin();
        for (title, label) in TITLES {
            for w in [
                chromium(&format!("{title} - Chromium")),
                firefox(&format!("{title} — Mozilla Firefox")),
                win("Epiphany", "epiphany", title),
            ] {
                assert_eq!(c.classify(&w), social(label), "{:?}", w.title);
            }
        }
        for label in Classifier::builtin_sites() {
            assert!(
                TITLES.iter().any(|(_, l)| *l == label),
                "no test title for {label}"
            );
        }
    }

    #[test]
    fn builtin_sites_are_unique_and_complete() {
        let sites = Classifier::builtin_sites();
        assert!(sites.len() >= 32, "{}", sites.len());
        let mut sorted = sites.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), sites.len(), "duplicate labels");
        for required in [
            "facebook.com",
            "x.com",
            "instagram.com",
            "tiktok.com",
            "linkedin.com",
            "reddit.com",
            "youtube.com",
            "pinterest.com",
            "tumblr.com",
            "threads.net",
            "bsky.app",
            "mastodon",
            "discord.com",
            "web.telegram.org",
            "web.whatsapp.com",
            "messenger.com",
            "twitch.tv",
            "flickr.com",
            "snapchat.com",
            "quora.com",
            "vk.com",
            "weibo.com",
            "9gag.com",
            "imgur.com",
            "nextdoor.com",
            "news.ycombinator.com",
            "lemmy",
            "truthsocial.com",
            "deviantart.com",
            "letterboxd.com",
            "ok.ru",
            "xiaohongshu.com",
        ] {
            assert!(sites.contains(&required), "missing {required}");
        }
        // Stable order.
        assert_eq!(sites, Classifier::builtin_sites());
    }

    #[test]
    fn every_builtin_pattern_compiles() {
        let c = Classifier::new(&[], &[]).unwrap();
        let compiled = c.compiled().expect("built-in patterns compile");
        assert_eq!(compiled.titles.len(), c.title_labels.len());
    }

    #[test]
    fn browser_suffixes_are_cut() {
        let c = builtin();
        let cases = [
            win("Chromium", "chromium", "Home / X - Chromium"),
            win(
                "Chromium",
                "chromium (/tmp/dwell-profile)",
                "Home / X - Chromium",
            ),
            win("Google-chrome", "google-chrome", "Home / X - Google Chrome"),
            win(
                "Google-chrome",
                "google-chrome",
                "Home / X - Google Chrome - Work",
            ),
            win("firefox", "Navigator", "Home / X — Mozilla Firefox"),
            win(
                "firefox",
                "Navigator",
                "Home / X — Mozilla Firefox Private Browsing",
            ),
            win("firefox-esr", "Navigator", "Home / X — Mozilla Firefox"),
            win("Brave-browser", "brave-browser", "Home / X - Brave"),
            win(
                "Microsoft-edge",
                "microsoft-edge",
                "Home / X - Personal - Microsoft\u{200B} Edge",
            ),
            win("Vivaldi-stable", "vivaldi-stable", "Home / X - Vivaldi"),
            win("Opera", "opera", "Home / X - Opera"),
            win("LibreWolf", "Navigator", "Home / X — LibreWolf"),
            win("qutebrowser", "qutebrowser", "Home / X - qutebrowser"),
            win("zen", "zen", "Home / X — Zen Browser"),
            win("org.gnome.Epiphany", "org.gnome.Epiphany", "Home / X"),
        ];
        for w in cases {
            assert_eq!(c.classify(&w), social("x.com"), "{w:?}");
        }
        assert_eq!(
            c.classify(&chromium("r/rust - Reddit - Google Chrome")),
            social("reddit.com")
        );
    }

    #[test]
    fn is_browser_by_class_or_instance() {
        assert!(is_browser(&win("Chromium", "chromium", "")));
        assert!(is_browser(&win("Chromium", "chromium (/tmp/x)", "")));
        assert!(is_browser(&win("", "chromium (/tmp/x)", "")));
        assert!(is_browser(&win("firefox", "Navigator", "")));
        assert!(is_browser(&win("", "Navigator", "")));
        assert!(is_browser(&win("Google-chrome", "crx_abcdefgh", "")));
        assert!(is_browser(&win("Tor Browser", "Navigator", "")));
        assert!(is_browser(&win("org.mozilla.firefox", "", "")));
        assert!(!is_browser(&win("libreoffice-writer", "libreoffice", "")));
        assert!(!is_browser(&win("discord", "discord", "")));
        assert!(!is_browser(&win("", "", "")));
        assert!(!is_browser(&win("Chromiumish", "chromiumish", "")));
    }

    #[test]
    fn non_browser_titles_are_never_matched() {
        let c = builtin();
        for w in [
            win(
                "libreoffice-writer",
                "libreoffice",
                "Facebook privacy review.odt - LibreOffice Writer",
            ),
            win(
                "libreoffice-writer",
                "libreoffice",
                "Discord-style architecture doc.odt - LibreOffice Writer",
            ),
            win("libreoffice-writer", "libreoffice", "Facebook"),
            win("Gnome-terminal", "gnome-terminal-server", "YouTube"),
            win("Code", "code", "Home / X - Visual Studio Code"),
            win("Evince", "evince", "r/rust"),
        ] {
            assert_eq!(c.classify(&w), Activity::Other, "{w:?}");
        }
    }

    #[test]
    fn false_positives_in_browsers_are_other() {
        let c = builtin();
        for title in [
            "Xcode tutorial - Chromium",
            "Threading in Rust - Chromium",
            "Threads - The Rust Programming Language - Chromium",
            "Using Threads to Run Code Simultaneously - Chromium",
            "Linked lists - Firefox",
            "Linked lists — Mozilla Firefox",
            "Facebook - Wikipedia - Chromium",
            "YouTube Data API | Google for Developers - Chromium",
            "The Discord-style architecture - Chromium",
            "Reddit-like clone in Rust - Chromium",
            "X11 protocol reference - Chromium",
            "Chapter X - Chromium",
            "Telegraph - Chromium",
            "Quorum sensing - Chromium",
            "Instagram API changes explained - Chromium",
            "Snap Store - Chromium",
            "Read/write mounts r/w - Chromium",
            "GitHub - rust-lang/rust - Chromium",
            "Slack | general | Acme - Chromium",
            "Signal - Chromium",
            "New Tab - Chromium",
            "",
            "Mozilla Firefox",
        ] {
            assert_eq!(c.classify(&chromium(title)), Activity::Other, "{title:?}");
        }
    }

    #[test]
    fn desktop_apps() {
        let c = builtin();
        let cases = [
            (win("discord", "discord", "#general | Rust"), "discord.com"),
            (win("vesktop", "vesktop", "Vesktop"), "discord.com"),
            (
                win("TelegramDesktop", "telegram-desktop", "Telegram (3)"),
                "web.telegram.org",
            ),
            (
                win("org.telegram.desktop", "", "Telegram"),
                "web.telegram.org",
            ),
            (
                win("Whatsapp-for-linux", "whatsapp-for-linux", "WhatsApp"),
                "web.whatsapp.com",
            ),
            (win("ZapZap", "zapzap", "ZapZap"), "web.whatsapp.com"),
            (win("Caprine", "caprine", "Caprine"), "messenger.com"),
            (win("FreeTube", "freetube", "FreeTube"), "youtube.com"),
        ];
        for (w, label) in cases {
            assert_eq!(c.classify(&w), social(label), "{w:?}");
        }
        // By process name only, including a name truncated to 15 bytes.
        let mut w = win("", "", "");
        w.process = Some("Discord".into());
        assert_eq!(c.classify(&w), social("discord.com"));
        w.process = Some("whatsapp-for-li".into());
        assert_eq!(c.classify(&w), social("web.whatsapp.com"));
        w.process = Some("whatsapp-for".into());
        assert_eq!(c.classify(&w), Activity::Other);
        // Prefixes are not enough.
        assert_eq!(
            c.classify(&win("discordia", "discordia", "")),
            Activity::Other
        );
        // Work tools are not social.
        assert_eq!(c.classify(&win("Slack", "slack", "Slack")), Activity::Other);
        assert_eq!(
            c.classify(&win("Signal", "signal", "Signal")),
            Activity::Other
        );
        assert_eq!(
            c.classify(&win("Element", "element", "Element")),
            Activity::Other
        );
    }

    #[test]
    fn several_matches_prefer_the_title_suffix() {
        let c = builtin();
        assert_eq!(
            c.classify(&chromium("Facebook | Messenger - Chromium")),
            social("messenger.com")
        );
        assert_eq!(
            c.classify(&chromium("Messenger | Facebook - Chromium")),
            social("messenger.com")
        );
        assert_eq!(
            c.classify(&chromium("Best of r/videos - YouTube - Chromium")),
            social("youtube.com")
        );
    }

    #[test]
    fn user_rules_come_first_and_replace_builtins() {
        let rules = [
            UserRule {
                site: "facebook.com".into(),
                title: Some("^MyFB".into()),
                app: None,
                host: vec![],
            },
            UserRule {
                site: "work-reddit".into(),
                title: Some(r"r/acme_internal$".into()),
                app: None,
                host: vec![],
            },
            UserRule {
                site: "signal.org".into(),
                title: None,
                app: Some("Signal".into()),
                host: vec![],
            },
            UserRule {
                site: "forum.example.org".into(),
                title: Some("example forum$".into()),
                app: None,
                host: vec![],
            },
        ];
        let c = Classifier::new(&rules, &[]).unwrap();
        // The built-in facebook.com rule is gone, the user's one replaces it.
        assert_eq!(
            c.classify(&chromium("Facebook - Chromium")),
            Activity::Other
        );
        assert_eq!(
            c.classify(&chromium("MyFB home - Chromium")),
            social("facebook.com")
        );
        // Before built-ins.
        assert_eq!(
            c.classify(&chromium("Standup : r/acme_internal - Chromium")),
            social("work-reddit")
        );
        assert_eq!(
            c.classify(&chromium("r/rust - Reddit - Chromium")),
            social("reddit.com")
        );
        // Apps, case-insensitive, exact.
        assert_eq!(
            c.classify(&win("Signal", "signal", "Signal")),
            social("signal.org")
        );
        assert_eq!(
            c.classify(&win("signal-cli", "signal-cli", "")),
            Activity::Other
        );
        // Titles: case-insensitive, tried without and with the browser suffix,
        // only in browsers.
        assert_eq!(
            c.classify(&firefox("Welcome - Example Forum — Mozilla Firefox")),
            social("forum.example.org")
        );
        assert_eq!(
            c.classify(&win("libreoffice-writer", "libreoffice", "MyFB notes")),
            Activity::Other
        );
        // Built-ins still apply.
        assert_eq!(
            c.classify(&chromium("Home / X - Chromium")),
            social("x.com")
        );
    }

    #[test]
    fn disabled_sites_never_match() {
        let rules = [UserRule {
            site: "youtube.com".into(),
            title: Some("YouTube Music".into()),
            app: None,
            host: vec![],
        }];
        let disabled = ["youtube.com".to_string(), " LinkedIn.com ".to_string()];
        let c = Classifier::new(&rules, &disabled).unwrap();
        assert_eq!(
            c.classify(&chromium("Rust in 100 Seconds - YouTube - Chromium")),
            Activity::Other
        );
        assert_eq!(
            c.classify(&chromium("Liked songs - YouTube Music - Chromium")),
            Activity::Other
        );
        assert_eq!(
            c.classify(&chromium("Feed | LinkedIn - Chromium")),
            Activity::Other
        );
        assert_eq!(
            c.classify(&win("FreeTube", "freetube", "")),
            Activity::Other
        );
        assert_eq!(
            c.classify(&chromium("r/rust - Reddit - Chromium")),
            social("reddit.com")
        );

        let c = Classifier::new(&[], &["discord.com".to_string()]).unwrap();
        assert_eq!(c.classify(&win("discord", "discord", "")), Activity::Other);
    }

    #[test]
    fn rule_errors() {
        let empty = UserRule {
            site: "a".into(),
            title: None,
            app: None,
            host: vec![],
        };
        match Classifier::new(&[empty], &[]) {
            Err(RuleError::Empty { site }) => assert_eq!(site, "a"),
            other => panic!("{other:?}"),
        }
        let blank = UserRule {
            site: "b".into(),
            title: Some("  ".into()),
            app: Some("".into()),
            host: vec![],
        };
        assert!(matches!(
            Classifier::new(&[blank], &[]),
            Err(RuleError::Empty { .. })
        ));
        let bad = UserRule {
            site: "c".into(),
            title: Some("(".into()),
            app: None,
            host: vec![],
        };
        let pattern = String::from("(");
        let expected = Regex::new(&pattern).unwrap_err().to_string();
        match Classifier::new(std::slice::from_ref(&bad), &[]) {
            Err(e @ RuleError::BadRegex { .. }) => {
                let RuleError::BadRegex { site, message } = &e else {
                    unreachable!()
                };
                assert_eq!(site, "c");
                assert_eq!(message, &expected);
                assert!(e.to_string().contains("invalid title regex"), "{e}");
            }
            other => panic!("{other:?}"),
        }
        // A bad rule is an error even when its site is disabled.
        assert!(Classifier::new(&[bad], &["c".to_string()]).is_err());
    }

    #[test]
    fn host_names_are_checked() {
        for ok in [
            "old.reddit.com",
            "localhost",
            "xn--bcher-kva.example",
            "a-b.c0",
            "127.0.0.1",
        ] {
            assert_eq!(valid_host(ok), Ok(()), "{ok}");
        }
        let long_label = format!("{}.com", "a".repeat(64));
        let long = ["a".repeat(63).as_str(); 5].join(".");
        for (bad, why) in [
            ("", HostError::Empty),
            ("Reddit.com", HostError::BadChar),
            ("reddit.com:443", HostError::BadChar),
            ("reddit.com/r/rust", HostError::BadChar),
            ("user@reddit.com", HostError::BadChar),
            ("https://reddit.com", HostError::BadChar),
            ("bücher.de", HostError::BadChar),
            ("reddit.com.", HostError::BadLabel),
            ("a..b", HostError::BadLabel),
            (long_label.as_str(), HostError::BadLabel),
            (long.as_str(), HostError::TooLong),
            ("-a.com", HostError::Hyphen),
            ("[::1]", HostError::BadChar),
        ] {
            assert_eq!(valid_host(bad), Err(why), "{bad}");
        }
    }

    #[test]
    fn hosts_match_site_labels_and_domains_as_suffixes() {
        let c = builtin();
        assert_eq!(c.classify_host("old.reddit.com"), social("reddit.com"));
        assert_eq!(c.classify_host("reddit.com"), social("reddit.com"));
        assert_eq!(c.classify_host("www.facebook.com"), social("facebook.com"));
        assert_eq!(c.classify_host("m.facebook.com"), social("facebook.com"));
        assert_eq!(c.classify_host("mastodon.social"), social("mastodon"));
        assert_eq!(
            c.classify_host("web.whatsapp.com"),
            social("web.whatsapp.com")
        );
        // Not a suffix at a label boundary, or another site.
        assert_eq!(c.classify_host("notreddit.com"), Activity::Other);
        assert_eq!(c.classify_host("reddit.com.evil.example"), Activity::Other);
        assert_eq!(c.classify_host("docs.example.com"), Activity::Other);
        assert_eq!(c.classify_host("whatsapp.com"), Activity::Other);
        // Invalid input is other time, never a panic.
        assert_eq!(c.classify_host("Old.Reddit.com/r"), Activity::Other);
    }

    #[test]
    fn user_host_rules_add_hosts_under_one_label() {
        let rules = [
            UserRule {
                site: "fediverse".into(),
                host: vec!["fosstodon.org".into(), " *.Social.Example ".into()],
                ..UserRule::default()
            },
            UserRule {
                site: "forum.example.org".into(),
                title: Some("Example Forum".into()),
                ..UserRule::default()
            },
        ];
        let c = Classifier::new(&rules, &["reddit.com".to_string()]).unwrap();
        assert_eq!(c.classify_host("fosstodon.org"), social("fediverse"));
        assert_eq!(c.classify_host("a.social.example"), social("fediverse"));
        // The label of a rule is a host suffix too.
        assert_eq!(
            c.classify_host("www.forum.example.org"),
            social("forum.example.org")
        );
        // Built-ins still apply, except disabled ones.
        assert_eq!(c.classify_host("mastodon.social"), social("mastodon"));
        assert_eq!(c.classify_host("old.reddit.com"), Activity::Other);
        // A host rule alone is a valid rule; a bad host is an error.
        let bad = UserRule {
            site: "x".into(),
            host: vec!["x.com/home".into()],
            ..UserRule::default()
        };
        let e = Classifier::new(&[bad], &[]).unwrap_err();
        assert!(
            e.to_string().contains("\"x.com/home\" is not a host name"),
            "{e}"
        );
    }

    proptest::proptest! {
        /// A label is refused exactly when it has a control character or is
        /// too long, and the refusal itself prints no control character.
        #[test]
        fn labels_are_checked_and_refusals_are_printable(s in "(\\PC|\\p{Cc}){0,130}") {
            let bad = s.chars().any(char::is_control) || s.chars().count() > MAX_LABEL;
            match check_label(&s) {
                Ok(()) => proptest::prop_assert!(!bad),
                Err(m) => {
                    proptest::prop_assert!(bad);
                    proptest::prop_assert!(!m.chars().any(char::is_control), "{:?}", m);
                }
            }
        }

        #[test]
        fn host_checks_never_panic(s in "\\PC{0,300}") {
            let c = builtin();
            let _ = valid_host(&s);
            let _ = c.classify_host(&s);
        }
    }
}
