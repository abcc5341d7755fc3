// Live reload for authors (development only: the server includes this module when
// DEBUG is on). Listens to the server's change stream (tutorials/livereload.py); on
// a change, fetches this page again and reloads only if what it shows differs, or if
// a stylesheet or script it uses changed. Keeps the scroll position across the
// reload. A lesson file that fails to sync shows its error in an overlay.

const script = document.querySelector("script[data-events-url]");
const SCROLL_KEY = "livereload:scroll";
let baseline = null;
let boot = null;

function here() {
  return location.pathname + location.search;
}

function restoreScroll() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(SCROLL_KEY) || "null");
    sessionStorage.removeItem(SCROLL_KEY);
    if (saved && saved.path === here()) window.scrollTo(saved.x, saved.y);
  } catch {
    /* storage disabled: the page still reloads, at the top */
  }
}

function reload() {
  try {
    sessionStorage.setItem(SCROLL_KEY, JSON.stringify({ path: here(), x: scrollX, y: scrollY }));
  } catch {
    /* see restoreScroll */
  }
  location.reload();
}

// What the page shows: its title and body as the server renders them (not the live
// DOM, which scripts have changed since).
async function rendered() {
  const response = await fetch(location.href, { cache: "no-store", credentials: "same-origin" });
  const doc = new DOMParser().parseFromString(await response.text(), "text/html");
  return `${response.status}\n${doc.title}\n${doc.body ? doc.body.innerHTML : ""}`;
}

function usesStatic(names) {
  const urls = [...document.querySelectorAll("link[href], script[src], img[src]")].map(
    (node) => new URL(node.href || node.src, location.href).pathname,
  );
  return names.some((name) => urls.some((url) => url.endsWith(`/${name}`)));
}

function showErrors(errors) {
  let overlay = document.getElementById("livereload-overlay");
  if (!errors.length) {
    overlay?.remove();
    return;
  }
  if (!overlay) {
    overlay = document.createElement("div");
    overlay.id = "livereload-overlay";
    overlay.className = "livereload-overlay";
    overlay.setAttribute("role", "alert");
    const title = document.createElement("p");
    title.className = "livereload-title";
    title.textContent = "A content file failed to sync; this page shows its last good version:";
    const list = document.createElement("pre");
    list.className = "livereload-errors";
    const close = document.createElement("button");
    close.type = "button";
    close.className = "livereload-close";
    close.textContent = "Dismiss";
    close.addEventListener("click", () => overlay.remove());
    overlay.append(title, list, close);
    document.body.append(overlay);
  }
  overlay.querySelector(".livereload-errors").textContent = errors.join("\n");
}

async function onEvent(kind, data) {
  document.documentElement.dataset.livereload = "connected"; // for authors' tools and tests
  showErrors(data.errors || []);
  const restarted = boot !== null && data.boot !== boot;
  boot = data.boot;
  if (data.static?.length && usesStatic(data.static)) {
    reload();
    return;
  }
  if (kind === "change" || restarted) {
    const now = await rendered();
    if (baseline !== null && now !== baseline) reload();
  }
}

function connect() {
  const source = new EventSource(script.dataset.eventsUrl);
  for (const kind of ["hello", "change"]) {
    source.addEventListener(kind, (event) => onEvent(kind, JSON.parse(event.data)));
  }
}

if (script) {
  restoreScroll();
  rendered()
    .then((signature) => {
      baseline = signature;
    })
    .catch(() => {});
  connect();
}
