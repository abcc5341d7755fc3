// Search hits land on the words: following a search result (the as-you-type list
// or the results page) opens the lesson at the matching section with the words
// highlighted, and a "Clear highlights" button takes them away.
//
// The words travel in sessionStorage, not in the URL: lesson pages are cached
// whole (page cache and shared HTTP cache), so a ?highlight= would make a cache
// entry per query. The lesson's own URL (and its #section) is unchanged.

const KEY = "search-highlight";
const MAX_AGE_MS = 60_000; // a stale entry (the tab wandered off) is ignored
const MIN_LENGTH = 3; // shorter words would light up half the page

// Called by search.js (and by the results page below) just before navigating.
export function remember(url, words) {
  try {
    const path = new URL(url, window.location.href).pathname;
    const unique = [...new Set(words.map((w) => w.trim().toLowerCase()).filter((w) => w.length >= MIN_LENGTH))];
    sessionStorage.setItem(KEY, JSON.stringify({ path, words: unique, at: Date.now() }));
  } catch {
    // storage off (private mode): the link still opens the right section
  }
}

function take() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(KEY) || "null");
    sessionStorage.removeItem(KEY);
    if (!saved || saved.path !== window.location.pathname || Date.now() - saved.at > MAX_AGE_MS) return [];
    return Array.isArray(saved.words) ? saved.words : [];
  } catch {
    return [];
  }
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

// Wrap each occurrence of a word (or a longer word it starts: "receiver" in
// "receivers") in <mark class="search-highlight">, in text nodes only.
function highlight(root, words) {
  const pattern = new RegExp(`(${words.map(escapeRegExp).join("|")})[\\w]*`, "giu");
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
    acceptNode(node) {
      const parent = node.parentElement;
      if (!parent || parent.closest("script, style, button, .headerlink, mark")) return NodeFilter.FILTER_REJECT;
      pattern.lastIndex = 0;
      return pattern.test(node.data) ? NodeFilter.FILTER_ACCEPT : NodeFilter.FILTER_REJECT;
    },
  });
  const nodes = [];
  while (walker.nextNode()) nodes.push(walker.currentNode);
  const marks = [];
  for (const node of nodes) {
    const fragment = document.createDocumentFragment();
    let last = 0;
    pattern.lastIndex = 0;
    for (const match of node.data.matchAll(pattern)) {
      fragment.append(node.data.slice(last, match.index));
      const mark = document.createElement("mark");
      mark.className = "search-highlight";
      mark.textContent = match[0];
      fragment.append(mark);
      marks.push(mark);
      last = match.index + match[0].length;
    }
    fragment.append(node.data.slice(last));
    node.replaceWith(fragment);
  }
  return marks;
}

function clear(marks, bar) {
  for (const mark of marks) {
    const parent = mark.parentNode;
    if (!parent) continue;
    mark.replaceWith(document.createTextNode(mark.textContent));
    parent.normalize();
  }
  bar.remove();
}

function clearBar(words, marks) {
  const bar = document.createElement("div");
  bar.className = "search-highlight-bar";
  bar.setAttribute("role", "status");
  const label = document.createElement("span");
  label.textContent = `Highlighted: ${words.join(", ")} (${marks.length})`;
  const button = document.createElement("button");
  button.type = "button";
  button.className = "btn btn-sm btn-outline-secondary";
  button.textContent = "Clear highlights";
  button.dataset.searchHighlightClear = "";
  button.addEventListener("click", () => clear(marks, bar));
  bar.append(label, " ", button);
  return bar;
}

function onLesson() {
  const body = document.querySelector(".lesson-body");
  if (!body) return;
  const words = take();
  if (!words.length) return;
  const marks = highlight(body, words);
  if (!marks.length) return;
  body.before(clearBar(words, marks));
  // The section in the URL's #fragment is where the browser scrolled; without one,
  // bring the first highlighted word into view.
  if (!window.location.hash) marks[0].scrollIntoView({ block: "center" });
}

// The results page: remember the words of the result that is followed.
function onResultsPage() {
  const list = document.querySelector(".search-results");
  if (!list) return;
  const query = new URLSearchParams(window.location.search).get("q") || "";
  list.addEventListener("click", (event) => {
    const link = event.target.closest(".search-result a[href]");
    const result = link?.closest(".search-result");
    if (!result || link.closest(".search-result-section")) return;
    const marked = [...result.querySelectorAll("mark")].map((m) => m.textContent);
    remember(link.href, [...marked, ...query.split(/[^\p{L}\p{N}_]+/u)]);
  });
}

onLesson();
onResultsPage();
