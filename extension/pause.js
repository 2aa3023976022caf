// dwell's pause page (no inline script: Manifest V3's policy). The background
// script opened it in this tab because dwell-agent asked for it: over the daily
// limit, a social site was opened or switched to. It shows today's time against
// the limit and one line, in the words and language the agent sent, and two
// equal buttons. "Close tab" closes the tab at once; "Continue" goes back to
// the page, once a short breath has passed (`[reminders] pause_breath`, sent
// as `breath` in whole seconds; 0: at once) with a calm countdown beside it: a
// pause before going on helps more than any message. Nothing is ever blocked.
// For a site over its own limit (`site`), the figures are that site's. The
// choice goes back with the page's id (`page`, as the agent sent it), so the
// agent knows which page it was made on when several are open. The page it
// replaced is known only to the background script, in memory.
"use strict";

const api = globalThis.browser ?? globalThis.chrome;

/** The page's own few words, by the language the agent chose. */
const WORDS = {
  en: { title: "A pause", today: "Social time today:", limit: "Your daily limit:" },
  fr: { title: "Une pause", today: "Médias sociaux aujourd'hui\u00a0:", limit: "Votre limite quotidienne\u00a0:" },
};

/** The figures' labels for a site over its own limit. */
function siteWords(lang, site) {
  return lang === "fr"
    ? { today: `${site} aujourd'hui\u00a0:`, limit: "Votre limite pour ce site\u00a0:" }
    : { today: `${site} today:`, limit: "Your limit for it:" };
}

/** The breath's countdown line, `left` seconds before Continue works. */
function breathLine(lang, left) {
  return lang === "fr"
    ? `Prenez une respiration. Continuer dans ${left}\u00a0s.`
    : `Take a breath. Continue in ${left}s.`;
}

/** Continue waits `seconds` (at most a minute), counting down calmly. */
function breathe(lang, seconds) {
  const button = document.getElementById("continue");
  let left = Math.min(60, seconds);
  if (!(left > 0)) {
    return;
  }
  button.disabled = true;
  const tick = () => {
    if (left <= 0) {
      text("breath", "");
      button.disabled = false;
      return;
    }
    text("breath", breathLine(lang, left));
    left -= 1;
    setTimeout(tick, 1000);
  };
  tick();
}

function text(id, value) {
  const el = document.getElementById(id);
  if (el) {
    el.textContent = typeof value === "string" ? value : "";
  }
}

/** The id of the page shown, as the agent sent it (none from an older agent). */
let page = null;

function choose(choice) {
  for (const id of ["continue", "close"]) {
    document.getElementById(id).disabled = true;
  }
  const msg = page === null ? { pause_choice: choice } : { pause_choice: choice, page };
  api.runtime.sendMessage(msg).catch(() => {
    // The background script is gone: still never stand in the way.
    if (choice === "closed") {
      window.close();
    } else {
      history.back();
    }
  });
}

async function show() {
  let pause = null;
  try {
    pause = await api.runtime.sendMessage({ pause_page: true });
  } catch (_) {
    pause = null;
  }
  page = pause && typeof pause.page === "string" && pause.page ? pause.page : null;
  const lang = pause && pause.lang === "fr" ? "fr" : "en";
  const words = WORDS[lang];
  document.documentElement.lang = lang === "fr" ? "fr-CA" : "en";
  document.title = words.title;
  text("title", words.title);
  const site = pause && typeof pause.site === "string" && pause.site ? pause.site : "";
  const labels = site ? siteWords(lang, site) : words;
  text("today-label", labels.today);
  text("limit-label", labels.limit);
  text("today", pause && pause.today);
  text("limit", pause && pause.limit);
  text("line", pause && pause.line);
  text("continue", (pause && pause.continue) || (lang === "fr" ? "Continuer" : "Continue"));
  text("close", (pause && pause.close) || (lang === "fr" ? "Fermer l'onglet" : "Close tab"));
  document.getElementById("continue").addEventListener("click", () => choose("continued"));
  document.getElementById("close").addEventListener("click", () => choose("closed"));
  breathe(lang, parseInt((pause && pause.breath) || "0", 10));
}

show();
