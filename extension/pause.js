// dwell's pause page (no inline script: Manifest V3's policy). The background
// script opened it in this tab because dwell-agent asked for it: over the daily
// limit, a social site was opened or switched to. It shows today's time against
// the limit and one line, in the words and language the agent sent, and two
// equal buttons. "Continue" goes back to the page at once; "Close tab" closes
// the tab. Nothing is ever blocked. The page it replaced is known only to the
// background script, in memory.
"use strict";

const api = globalThis.browser ?? globalThis.chrome;

/** The page's own few words, by the language the agent chose. */
const WORDS = {
  en: { title: "A pause", today: "Social time today:", limit: "Your daily limit:" },
  fr: { title: "Une pause", today: "Médias sociaux aujourd'hui\u00a0:", limit: "Votre limite quotidienne\u00a0:" },
};

function text(id, value) {
  const el = document.getElementById(id);
  if (el) {
    el.textContent = typeof value === "string" ? value : "";
  }
}

function choose(choice) {
  for (const id of ["continue", "close"]) {
    document.getElementById(id).disabled = true;
  }
  api.runtime.sendMessage({ pause_choice: choice }).catch(() => {
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
  const lang = pause && pause.lang === "fr" ? "fr" : "en";
  const words = WORDS[lang];
  document.documentElement.lang = lang === "fr" ? "fr-CA" : "en";
  document.title = words.title;
  text("title", words.title);
  text("today-label", words.today);
  text("limit-label", words.limit);
  text("today", pause && pause.today);
  text("limit", pause && pause.limit);
  text("line", pause && pause.line);
  text("continue", (pause && pause.continue) || (lang === "fr" ? "Continuer" : "Continue"));
  text("close", (pause && pause.close) || (lang === "fr" ? "Fermer l'onglet" : "Close tab"));
  document.getElementById("continue").addEventListener("click", () => choose("continued"));
  document.getElementById("close").addEventListener("click", () => choose("closed"));
}

show();
