//! The built-in social sites ([`SITES`]: each site's label, the names and
//! domains its page titles show, its desktop apps) and how a site's titles
//! become one regex ([`site_pattern`]).

/// One built-in social site.
pub(super) struct Site {
    /// Canonical label, stored in the database.
    pub(super) label: &'static str,
    /// Names matched (case-insensitively) as the whole page title or as its last
    /// component after a separator such as ` - `, ` | `, ` • `, ` / `.
    pub(super) names: &'static [&'static str],
    /// Domains, matched as a last component too, and when the title is (or
    /// starts with) a bare URL of the site, as while a page is loading.
    pub(super) domains: &'static [&'static str],
    /// Further case-insensitive regexes; use `(?-i:…)` for case-sensitive parts.
    pub(super) extra: &'static [&'static str],
    /// Desktop programs (`WM_CLASS` class or instance, or process name), lowercase.
    pub(super) apps: &'static [&'static str],
}

/// The built-in sites, in the order
/// [`Classifier::builtin_sites`](super::Classifier::builtin_sites) lists them.
/// When several match one title, the match that ends last wins, then the one
/// that starts first, then the one earlier in this list.
pub(super) const SITES: &[Site] = &[
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

/// Left edge of a title component: the start of the title (after an optional
/// unread count such as `(3)`), or a spaced separator.
const LEFT: &str = r"(?:^(?:\(\d+\+?\)\s*|[•●]\s*)?|\s[-|—–•·/»]\s+)";

/// How the start of a bare-URL title may look before the domain.
const URL_START: &str = r"^(?:https?://)?(?:(?:www|m|mobile|old|new|web|touch)\.)?";

/// A name as a regex, any run of spaces matching any run of whitespace.
fn name_regex(name: &str) -> String {
    regex::escape(name).replace(' ', r"\s+")
}

/// The one regex for a built-in site's titles.
pub(super) fn site_pattern(site: &Site) -> Option<String> {
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
