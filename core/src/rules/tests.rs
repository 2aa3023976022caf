//! The rules' tests: every built-in site, browser suffixes, apps, user rules,
//! disabled sites and host names.

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
    (
        "Jane Doe (@jane) • Instagram photos and videos",
        "instagram.com",
    ),
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
