// Applies the saved colour theme before the page paints. Loaded as a classic,
// render-blocking script in <head> on purpose: the Content-Security-Policy forbids
// inline scripts, and a deferred one would let a dark-mode reader see a flash of the
// light theme. Kept tiny; the toggle button itself lives in site.js.
(function () {
  var choice = "auto";
  try {
    var stored = localStorage.getItem("theme");
    if (stored === "light" || stored === "dark") choice = stored;
  } catch (e) { /* storage blocked: follow the system */ }
  var dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
  var root = document.documentElement;
  root.setAttribute("data-theme-choice", choice);
  root.setAttribute("data-bs-theme", choice === "auto" ? (dark ? "dark" : "light") : choice);
})();
