// dwell's browser extension: tells dwell-agent, on this computer only, the
// host name of the active tab in the focused window — never its address, path,
// query or title. For a private (incognito) window it says only that it is
// private. It keeps one long-lived native-messaging port to `dwell-agent
// native-host` and opens it again, with a growing delay, when it drops (the
// browser started before the agent, or the agent restarted).
//
// The pause page (only with `[reminders] pause_page = true` in dwell's config):
// when the agent answers a report with `{"pause": {...}}`, the tab that report
// was about shows `pause.html`, a calm page with today's time against the
// limit, one line and two equal buttons, in the words the agent sent. The
// address it replaced stays here, in memory, and is never sent; "Continue"
// goes back to it at once, "Close tab" closes the tab, and the choice alone
// goes to the agent, with the id of the page it was made on
// (`{"pause_result": "continued"|"closed", "page": "…"}`; the agent gives each
// pause page an id, so that with several pages open each choice goes to its
// own page; from an agent without page ids, the choice goes alone).
//
// One source for Chromium, Chrome, Brave, Edge (service worker) and Firefox
// (background script): `browser` in Firefox, `chrome` elsewhere.
"use strict";

const api = globalThis.browser ?? globalThis.chrome;

/** The native-messaging host's name, as `dwell-agent browser install` writes it. */
const HOST = "org.dwell.agent";
const FIRST_DELAY_MS = 1000;
const MAX_DELAY_MS = 60000;

let port = null;
let delay = FIRST_DELAY_MS;
let retry = null;
/** The last message sent on this port (nothing is sent twice in a row). */
let last = null;
/** The tab the last facts sent were about: `{id, host}`. */
let sentTab = null;
/** Tabs showing the pause page: tab id → `{pause, url, back}` (memory only). */
const paused = new Map();
const PAUSE_PAGE = api.runtime.getURL("pause.html");

/** The host name of an http(s) address, or null: nothing else leaves here. */
function hostOf(url) {
  if (typeof url !== "string") {
    return null;
  }
  try {
    const u = new URL(url);
    if (u.protocol !== "http:" && u.protocol !== "https:") {
      return null;
    }
    // Already lower-case and in its punycode (xn--) form.
    const host = u.hostname.replace(/\.$/, "");
    return host.length > 0 ? host : null;
  } catch (_) {
    return null;
  }
}

/** What is sent for a tab (or for no tab): four facts, nothing more. */
function factsOf(tab, focused) {
  if (!tab || !focused) {
    return { host: null, private: false, audible: false, focused: false };
  }
  if (tab.incognito) {
    return { private: true, audible: false, focused: true };
  }
  return {
    host: hostOf(tab.url || tab.pendingUrl),
    private: false,
    audible: tab.audible === true,
    focused: true,
  };
}

function send(facts, tab) {
  const text = JSON.stringify(facts);
  if (text === last) {
    return;
  }
  if (!connect()) {
    return;
  }
  try {
    port.postMessage(facts);
    last = text;
    sentTab = tab && facts.host ? { id: tab.id, host: facts.host } : null;
  } catch (_) {
    dropped();
  }
}

/** Sends one message that is not tab facts (the pause page's outcome). */
function post(message) {
  if (!connect()) {
    return;
  }
  try {
    port.postMessage(message);
  } catch (_) {
    dropped();
  }
}

/** The agent asks for the pause page: shown in the tab the last report was
 * about, if it is still the active tab on that host. */
async function showPause(pause) {
  const target = sentTab;
  if (!target || !pause || typeof pause !== "object") {
    return;
  }
  let tab;
  try {
    tab = await api.tabs.get(target.id);
  } catch (_) {
    return;
  }
  const url = tab.url || tab.pendingUrl;
  if (!tab.active || hostOf(url) !== target.host) {
    return;
  }
  // Back in the tab's history when the site's page is there (its state is
  // kept); else the address is opened again.
  const back = hostOf(tab.url) === target.host;
  paused.set(tab.id, { pause, url, back });
  try {
    await api.tabs.update(tab.id, { url: PAUSE_PAGE });
  } catch (_) {
    paused.delete(tab.id);
  }
}

/** A pause page's id as the agent sends it (1 to 20 digits), or null. */
function pageId(page) {
  return typeof page === "string" && /^[0-9]{1,20}$/.test(page) ? page : null;
}

/** "Continue" or "Close tab" on the pause page in `tabId`, whose id the
 * page itself says (`page`), else the one it was opened with. */
async function chosen(tabId, choice, page) {
  const entry = paused.get(tabId);
  paused.delete(tabId);
  const id = pageId(page) ?? pageId(entry && entry.pause.page);
  post(id === null ? { pause_result: choice } : { pause_result: choice, page: id });
  try {
    if (choice === "closed") {
      await api.tabs.remove(tabId);
    } else if (entry && !entry.back) {
      await api.tabs.update(tabId, { url: entry.url });
    } else {
      await api.tabs.goBack(tabId);
    }
  } catch (_) {
    if (entry && choice !== "closed") {
      api.tabs.update(tabId, { url: entry.url }).catch(() => {});
    }
  }
}

/** Looks at the focused window's active tab and tells the agent. */
async function report() {
  try {
    const win = await api.windows.getLastFocused({ populate: true });
    const focused = win && win.focused === true;
    const tab = win && win.tabs ? win.tabs.find((t) => t.active) : null;
    send(factsOf(tab, focused), tab);
  } catch (_) {
    // No window at all (the browser is closing): nothing is focused.
    send(factsOf(null, false));
  }
}

function dropped() {
  port = null;
  last = null;
  if (retry === null) {
    retry = setTimeout(() => {
      retry = null;
      if (connect()) {
        report();
      }
    }, delay);
    delay = Math.min(delay * 2, MAX_DELAY_MS);
  }
}

/** Opens the port if it is not open; false when that failed. */
function connect() {
  if (port !== null) {
    return true;
  }
  try {
    port = api.runtime.connectNative(HOST);
  } catch (e) {
    console.warn("dwell: cannot open the native-messaging port:", e && e.message);
    dropped();
    return false;
  }
  last = null;
  port.onMessage.addListener((msg) => {
    // The host answers `{"dwell": "on"}` or `{"dwell": "off"}` (no agent
    // running); either way the port stays open and the host passes facts on
    // once the agent is back.
    if (msg && (msg.dwell === "on" || msg.dwell === "off")) {
      delay = FIRST_DELAY_MS;
    }
    if (msg && msg.pause) {
      showPause(msg.pause);
    }
  });
  port.onDisconnect.addListener((p) => {
    // Why, for the extension's console (never an address): the host is not
    // installed (`dwell-agent browser install`), or it exited.
    const why = (p && p.error) || api.runtime.lastError;
    console.warn("dwell: the native-messaging port closed:", why ? why.message : "no reason given");
    dropped();
  });
  return true;
}

// The pause page asks for its words, and says what was chosen.
api.runtime.onMessage.addListener((msg, sender, sendResponse) => {
  const tabId = sender && sender.tab ? sender.tab.id : undefined;
  if (tabId === undefined || !sender.url || !sender.url.startsWith(PAUSE_PAGE)) {
    return false;
  }
  if (msg && msg.pause_page === true) {
    const entry = paused.get(tabId);
    sendResponse(entry ? entry.pause : null);
  } else if (msg && (msg.pause_choice === "continued" || msg.pause_choice === "closed")) {
    chosen(tabId, msg.pause_choice, msg.page);
    sendResponse(true);
  }
  return false;
});
api.tabs.onRemoved.addListener((id) => paused.delete(id));

api.tabs.onActivated.addListener(() => report());
api.tabs.onUpdated.addListener((id, change, tab) => {
  // A tab that left its pause page some other way: forget the address. Until
  // the pause page is there, an address change is the site's own navigation
  // finishing (a redirect, an upgrade to https) and the page still comes.
  const entry = "url" in change ? paused.get(id) : undefined;
  if (entry && change.url.startsWith(PAUSE_PAGE)) {
    entry.shown = true;
  } else if (entry && entry.shown) {
    paused.delete(id);
  }
  // A new tab's address is known only after activation; a page that becomes
  // (in)audible changes what counts through idleness.
  if (tab.active && ("url" in change || "audible" in change || change.status === "complete")) {
    report();
  }
});
api.windows.onFocusChanged.addListener(() => report());
api.idle.setDetectionInterval(60);
api.idle.onStateChanged.addListener((state) => {
  if (state === "active") {
    report();
  }
});
api.runtime.onStartup.addListener(() => report());
api.runtime.onInstalled.addListener(() => report());

report();
