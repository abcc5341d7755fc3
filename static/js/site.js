// Site chrome: the light / dark / auto theme toggle and the roadmap sidebar.
// theme.js has already applied the saved theme in <head>; this module only reacts.

const STORAGE_KEY = "theme";
const DARK_QUERY = window.matchMedia("(prefers-color-scheme: dark)");
const LABELS = {
  auto: "Colour theme: follows your system",
  light: "Colour theme: light",
  dark: "Colour theme: dark",
};

function systemTheme() {
  return DARK_QUERY.matches ? "dark" : "light";
}

function applyTheme(choice) {
  const root = document.documentElement;
  root.dataset.themeChoice = choice;
  root.dataset.bsTheme = choice === "auto" ? systemTheme() : choice;
  for (const button of document.querySelectorAll("[data-theme-toggle]")) {
    button.setAttribute("aria-label", LABELS[choice]);
    button.title = `${LABELS[choice]} (click to change)`;
  }
}

// auto -> the opposite of what the system shows -> the same as the system -> auto,
// so the first click always changes what the reader sees.
function nextChoice(choice) {
  const opposite = systemTheme() === "dark" ? "light" : "dark";
  if (choice === "auto") return opposite;
  if (choice === opposite) return systemTheme();
  return "auto";
}

function saveChoice(choice) {
  try {
    if (choice === "auto") localStorage.removeItem(STORAGE_KEY);
    else localStorage.setItem(STORAGE_KEY, choice);
  } catch {
    // Storage blocked: the choice lasts for this page only.
  }
}

function setupThemeToggle() {
  let choice = document.documentElement.dataset.themeChoice || "auto";
  applyTheme(choice);
  for (const button of document.querySelectorAll("[data-theme-toggle]")) {
    button.addEventListener("click", () => {
      choice = nextChoice(choice);
      saveChoice(choice);
      applyTheme(choice);
    });
  }
  DARK_QUERY.addEventListener("change", () => {
    if (choice === "auto") applyTheme("auto");
  });
  // Another tab changed the theme.
  window.addEventListener("storage", (event) => {
    if (event.key !== STORAGE_KEY) return;
    choice = event.newValue === "light" || event.newValue === "dark" ? event.newValue : "auto";
    applyTheme(choice);
  });
}

// Scroll the roadmap (not the page) so the current lesson is in view: the sticky
// sidebar on wide screens, the offcanvas menu's body on phones once it opens.
function scrollingAncestor(element) {
  for (let node = element.parentElement; node; node = node.parentElement) {
    if (node.scrollHeight > node.clientHeight + 1 && getComputedStyle(node).overflowY !== "visible") {
      return node;
    }
  }
  return null;
}

function revealCurrentLesson() {
  const current = document.querySelector('[data-roadmap-scroll] a[aria-current="page"]');
  const scroller = current && scrollingAncestor(current);
  if (!scroller || scroller === document.documentElement || scroller === document.body) return;
  const box = scroller.getBoundingClientRect();
  const item = current.getBoundingClientRect();
  if (item.top < box.top || item.bottom > box.bottom) {
    scroller.scrollTop += item.top - box.top - box.height / 3;
  }
}

setupThemeToggle();
revealCurrentLesson();
document.getElementById("roadmap-menu")?.addEventListener("shown.bs.offcanvas", revealCurrentLesson);

// Scrollable code blocks and tables must be reachable by keyboard (WCAG 2.1.1), so
// the ones that overflow become focusable; arrow keys then scroll them. Re-checked
// whenever one changes size (a phone turned sideways, a window resized).
function updateFocusable(box) {
  const scrolls = box.scrollWidth > box.clientWidth + 1;
  if (scrolls && !box.hasAttribute("tabindex")) {
    box.tabIndex = 0;
    box.dataset.scrollFocus = "";
  } else if (!scrolls && "scrollFocus" in box.dataset) {
    box.removeAttribute("tabindex");
    delete box.dataset.scrollFocus;
  }
}

const scrollers = document.querySelectorAll(".site-main pre, .lesson-body table");
const resized = new ResizeObserver((entries) => entries.forEach((entry) => updateFocusable(entry.target)));
for (const box of scrollers) {
  updateFocusable(box);
  resized.observe(box);
}

// Bootstrap's offcanvas script is only needed to open the roadmap on a narrow screen:
// it is loaded on the first press of the menu button, not by every page. Once it has
// run, its own click handler (on the document) opens the menu: press the button again.
const menuButton = document.querySelector("[data-bootstrap-js]");
let bootstrapLoaded = null;
menuButton?.addEventListener("click", (event) => {
  if (bootstrapLoaded === true) return;
  event.preventDefault();
  event.stopPropagation();
  bootstrapLoaded ??= new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = menuButton.dataset.bootstrapJs;
    script.onload = resolve;
    script.onerror = reject;
    document.head.append(script);
  }).then(() => {
    bootstrapLoaded = true;
    menuButton.click();
  });
});
