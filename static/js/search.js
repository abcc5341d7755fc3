// The top-bar search box as an ARIA 1.2 combobox: results appear as you type
// (debounced, fetched from /search.json), the arrow keys move through them, Enter
// opens the chosen lesson (or, with none chosen, the full results page), Escape
// closes the list. "/" (a single-key shortcut, off when <html data-shortcuts="off">)
// and Ctrl/⌘+K focus the box. Without this module the form submits to /search/.

import { remember } from "./search-highlight.js";

const DEBOUNCE_MS = 150; // wait for a pause in typing before asking the server
const MIN_LENGTH = 2; // characters before results are fetched

const form = document.querySelector("[data-search]");
const input = form?.querySelector("[data-search-input]");
const popup = form?.querySelector("[data-search-popup]");
const listbox = popup?.querySelector("[role='listbox']");
const allLink = popup?.querySelector("[data-search-all]");
const status = form?.querySelector("[data-search-status]");

let options = [];
let active = -1;
let timer = 0;
let controller = null;
let lastQuery = null;

// Build "text <mark>match</mark> <code>code</code>" from [text, isMatch, isCode?]
// segments, as text nodes:
// the server's strings are never parsed as HTML.
function highlighted(segments, className) {
  const element = document.createElement("span");
  element.className = className;
  for (const [text, isMatch, isCode] of segments) {
    let piece = text;
    if (isMatch) {
      piece = document.createElement("mark");
      piece.textContent = text;
    }
    if (isCode) {
      // Code stays recognisable in a snippet: the server marks it (third element).
      const code = document.createElement("code");
      code.append(piece);
      piece = code;
    }
    element.append(piece);
  }
  return element;
}

function option(hit, index) {
  const item = document.createElement("li");
  item.id = `site-search-option-${index}`;
  item.className = "site-search-option";
  item.setAttribute("role", "option");
  item.setAttribute("aria-selected", "false");
  item.dataset.url = hit.url;
  const section = document.createElement("span");
  section.className = "site-search-section";
  section.textContent = hit.section;
  item.append(section, highlighted(hit.title, "site-search-title"));
  if (hit.heading.length) item.append(highlighted(hit.heading, "site-search-heading"));
  if (hit.snippet.length) item.append(highlighted(hit.snippet, "site-search-snippet"));
  // mousedown, not click: the input's blur must not close the list first.
  item.dataset.words = JSON.stringify(
    [hit.title, hit.heading, hit.snippet].flat().filter(([, isMatch]) => isMatch).map(([text]) => text),
  );
  item.addEventListener("mousedown", (event) => {
    event.preventDefault();
    follow(item);
  });
  return item;
}

// Open a result, remembering its matched words for search-highlight.js.
function follow(item) {
  remember(item.dataset.url, [...JSON.parse(item.dataset.words || "[]"), ...(lastQuery || "").split(/[^\p{L}\p{N}_]+/u)]);
  window.location.assign(item.dataset.url);
}

function setActive(index) {
  if (active >= 0) options[active]?.setAttribute("aria-selected", "false");
  active = index;
  if (active >= 0) {
    const chosen = options[active];
    chosen.setAttribute("aria-selected", "true");
    chosen.scrollIntoView({ block: "nearest" });
    input.setAttribute("aria-activedescendant", chosen.id);
  } else {
    input.removeAttribute("aria-activedescendant");
  }
}

function open() {
  popup.hidden = false;
  input.setAttribute("aria-expanded", "true");
}

function close() {
  setActive(-1);
  popup.hidden = true;
  input.setAttribute("aria-expanded", "false");
}

function show(query, data) {
  options = data.results.map(option);
  active = -1;
  input.removeAttribute("aria-activedescendant");
  listbox.replaceChildren(...options);
  // "Did you mean …?": the results are the suggestion's (see tutorials/search).
  let note = popup.querySelector(".site-search-suggestion");
  if (!note) {
    note = document.createElement("p");
    note.className = "site-search-suggestion";
    listbox.before(note);
  }
  note.hidden = !(data.suggestion && options.length);
  note.textContent = note.hidden ? "" : `Did you mean “${data.suggestion}”?`;
  const url = `${form.getAttribute("action")}?q=${encodeURIComponent(query)}`;
  allLink.href = url;
  if (options.length) {
    allLink.textContent = `All results for “${query}”`;
  } else {
    const empty = document.createElement("li");
    empty.className = "site-search-empty";
    empty.textContent = data.error || `No lessons found for “${query}”.`;
    listbox.append(empty);
    allLink.textContent = "Search tips and the roadmap";
  }
  const suggestion = data.suggestion && options.length ? ` Did you mean ${data.suggestion}?` : "";
  status.textContent = data.error
    ? data.error
    : `${options.length || "No"} lesson${options.length === 1 ? "" : "s"} found.${suggestion}`;
  open();
}

async function fetchResults() {
  const query = input.value.trim();
  if (query.length < MIN_LENGTH) {
    lastQuery = null;
    close();
    return;
  }
  if (query === lastQuery) {
    open();
    return;
  }
  controller?.abort(); // only the newest query's answer is shown
  controller = new AbortController();
  try {
    const response = await fetch(`${form.dataset.searchEndpoint}?q=${encodeURIComponent(query)}`, {
      headers: { Accept: "application/json" },
      signal: controller.signal,
    });
    if (!response.ok && response.status !== 400) throw new Error(`HTTP ${response.status}`);
    const data = await response.json();
    lastQuery = query;
    if (document.activeElement === input) show(query, data);
  } catch (error) {
    if (error.name !== "AbortError") close(); // offline or failing: the form still works
  }
}

function onKeydown(event) {
  const isOpen = !popup.hidden;
  if (event.key === "ArrowDown" || event.key === "ArrowUp") {
    if (!isOpen) {
      if (lastQuery !== null) open();
      return;
    }
    if (!options.length) return;
    event.preventDefault();
    const step = event.key === "ArrowDown" ? 1 : -1;
    // Past either end, back to the input (-1), as in the APG combobox example.
    const next = active + step;
    setActive(next < -1 ? options.length - 1 : next >= options.length ? -1 : next);
  } else if (event.key === "Enter" && isOpen && active >= 0) {
    event.preventDefault();
    follow(options[active]);
  } else if (event.key === "Escape" && isOpen) {
    event.preventDefault(); // closes the list, not the search text or anything else
    close();
  }
}

function isTyping(target) {
  return (
    target instanceof Element &&
    (target.isContentEditable ||
      target.closest("input, textarea, select, [contenteditable], [role='textbox'], .runnable-editor") !== null)
  );
}

function onGlobalKeydown(event) {
  if (event.defaultPrevented || event.altKey) return;
  const commandK = (event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "k";
  const slash =
    event.key === "/" && !event.ctrlKey && !event.metaKey &&
    document.documentElement.dataset.shortcuts !== "off" && !isTyping(event.target) &&
    !document.querySelector("dialog[open]");
  if (!commandK && !slash) return;
  event.preventDefault();
  input.focus();
  input.select();
}

if (form && input && popup && listbox) {
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(fetchResults, DEBOUNCE_MS);
  });
  input.addEventListener("focus", () => {
    if (input.value.trim().length >= MIN_LENGTH) fetchResults();
  });
  input.addEventListener("keydown", onKeydown);
  input.addEventListener("blur", () => setTimeout(close, 0));
  allLink.addEventListener("mousedown", (event) => {
    event.preventDefault();
    window.location.assign(allLink.href);
  });
  document.addEventListener("keydown", onGlobalKeydown);
}
