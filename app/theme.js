// The theme button: light or dark, remembered in localStorage ("reranker-theme"); without a saved choice the
// operating system's preference decides.

const KEY = "reranker-theme";

function applyTheme(button, theme) {
  document.documentElement.dataset.theme = theme;
  button.setAttribute("aria-pressed", String(theme === "dark"));
}

export function initTheme(button = document.getElementById("theme-toggle")) {
  let saved = null;
  try { saved = localStorage.getItem(KEY); } catch { /* storage blocked */ }
  const prefersDark = typeof matchMedia === "function" && matchMedia("(prefers-color-scheme: dark)").matches;
  applyTheme(button, saved === "dark" || saved === "light" ? saved : prefersDark ? "dark" : "light");
  button.addEventListener("click", () => {
    const next = document.documentElement.dataset.theme === "dark" ? "light" : "dark";
    applyTheme(button, next);
    try { localStorage.setItem(KEY, next); } catch { /* storage blocked */ }
  });
}
