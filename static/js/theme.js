// Applies the saved colour theme before the page paints (loaded in <head>, not deferred),
// so a dark-mode reader never sees a flash of the light theme. The toggle lives in site.js.
(function () {
  var stored = null;
  try { stored = localStorage.getItem("theme"); } catch (e) { /* storage blocked */ }
  var dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
  var theme = stored === "light" || stored === "dark" ? stored : (dark ? "dark" : "light");
  document.documentElement.setAttribute("data-bs-theme", theme);
  document.documentElement.setAttribute("data-theme-choice", stored || "auto");
})();
