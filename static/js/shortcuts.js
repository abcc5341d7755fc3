// Keyboard shortcuts: "?" lists them, "[" and "]" go to the previous and next lesson.
// "/" and Ctrl/⌘+K belong to search.js. No bare arrow keys (screen readers and
// scrolling use them) and no Alt+arrows (the browser's Back and Forward). Single-key
// shortcuts can be turned off in the overlay (WCAG 2.1.4); the choice is stored in
// localStorage and mirrored on <html data-shortcuts="off"> for search.js to honour.

const STORAGE_KEY = "shortcuts";

// Built here rather than sent with every page: without this module there are no
// shortcuts to list. A native <dialog>: Esc closes it and focus returns by itself.
const OVERLAY = `
  <div class="shortcuts-header">
    <h2 id="shortcuts-title" class="h5">Keyboard shortcuts</h2>
    <button type="button" class="btn-close" data-shortcuts-close aria-label="Close keyboard shortcuts"></button>
  </div>
  <table class="shortcuts-table">
    <caption class="visually-hidden">Keys and what they do</caption>
    <tbody>
      <tr><th scope="row"><kbd>/</kbd> or <kbd>Ctrl</kbd> <kbd>K</kbd></th><td>Search the course</td></tr>
      <tr><th scope="row"><kbd>[</kbd></th><td>Previous lesson</td></tr>
      <tr><th scope="row"><kbd>]</kbd></th><td>Next lesson</td></tr>
      <tr><th scope="row"><kbd>?</kbd></th><td>Show this list</td></tr>
      <tr><th scope="row"><kbd>Esc</kbd></th><td>Close this list or the roadmap menu</td></tr>
      <tr><th scope="row"><kbd>Ctrl</kbd> <kbd>Enter</kbd> or <kbd>⌘</kbd> <kbd>Enter</kbd></th><td>Run the code sample you are editing</td></tr>
      <tr><th scope="row"><kbd>Tab</kbd></th><td>In a code sample: indent</td></tr>
      <tr><th scope="row"><kbd>Esc</kbd> then <kbd>Tab</kbd></th><td>Leave the code sample's editor (to the next control)</td></tr>
    </tbody>
  </table>
  <div class="form-check">
    <input class="form-check-input" type="checkbox" id="shortcuts-enabled" data-shortcuts-toggle checked>
    <label class="form-check-label" for="shortcuts-enabled">Single-key shortcuts (<kbd>/</kbd> <kbd>[</kbd> <kbd>]</kbd> <kbd>?</kbd>)</label>
  </div>
  <p class="shortcuts-note text-body-secondary">Turn them off if they get in the way of your screen reader or speech input. They never act while you type in a field or code editor.</p>`;

function buildOverlay() {
  const element = document.createElement("dialog");
  element.className = "shortcuts-dialog";
  element.id = "shortcuts-dialog";
  element.setAttribute("aria-labelledby", "shortcuts-title");
  element.innerHTML = OVERLAY;
  document.body.append(element);
  return element;
}

const dialog = buildOverlay();
const toggle = dialog.querySelector("[data-shortcuts-toggle]");

function enabled() {
  try {
    return localStorage.getItem(STORAGE_KEY) !== "off";
  } catch {
    return true;
  }
}

function setEnabled(on) {
  try {
    if (on) localStorage.removeItem(STORAGE_KEY);
    else localStorage.setItem(STORAGE_KEY, "off");
  } catch {
    // Storage blocked: the choice lasts for this page only.
  }
  document.documentElement.dataset.shortcuts = on ? "on" : "off";
}

// Typing in a field or the code editor must never trigger a shortcut.
function isTyping(target) {
  return (
    target instanceof Element &&
    (target.isContentEditable ||
      target.closest("input, textarea, select, [contenteditable], [role='textbox'], .runnable-editor") !== null)
  );
}

function openOverlay() {
  if (dialog.open) return;
  if (toggle) toggle.checked = enabled();
  dialog.showModal();
}

const ACTIONS = {
  "?": openOverlay,
  "[": () => document.querySelector('[data-shortcut="prev"]')?.click(),
  "]": () => document.querySelector('[data-shortcut="next"]')?.click(),
};

document.addEventListener("keydown", (event) => {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
  if (isTyping(event.target) || dialog.open || !enabled()) return;
  const action = ACTIONS[event.key];
  if (!action) return;
  event.preventDefault();
  action();
});

document.documentElement.dataset.shortcuts = enabled() ? "on" : "off";
toggle.addEventListener("change", () => setEnabled(toggle.checked));
dialog.querySelector("[data-shortcuts-close]").addEventListener("click", () => dialog.close());
// A click on the backdrop (outside the box) closes it too.
dialog.addEventListener("click", (event) => {
  if (event.target !== dialog) return;
  const box = dialog.getBoundingClientRect();
  const inside =
    event.clientX >= box.left && event.clientX <= box.right &&
    event.clientY >= box.top && event.clientY <= box.bottom;
  if (!inside) dialog.close();
});
for (const button of document.querySelectorAll("[data-shortcuts-open]")) {
  button.hidden = false;
  button.addEventListener("click", openOverlay);
}
