//! Which windows are browsers ([`is_browser`], from the known browsers'
//! `WM_CLASS` names) and the browser's own part at the end of a window title
//! ([`BROWSER_SUFFIX`]), cut off before a title is matched.

use crate::model::WindowInfo;

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
pub(super) const BROWSER_SUFFIX: &str = r"(?ix)
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
