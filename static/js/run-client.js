// The one client of the code runner's HTTP API, shared by runnable samples and
// exercises: CSRF token handling, the request, and the runner's status.
//
// requestRun(payload) posts `payload` (e.g. {code} or {code, exercise}) and resolves
// to {ok, status, data, retryAfter}: `data` is the run's result when ok, else an
// object with an `error` message. It never rejects for an HTTP error; it rejects
// only when the server cannot be reached.
//
// The server queues runs: a fast one is answered at once, otherwise it answers
// 202 with a URL to poll, which requestRun does (backing off to once a second)
// until the result is there. `onWait(state)`, if given, hears "queued"/"running".

const RUN_URL = document.querySelector('meta[name="runner-url"]')?.content || "/run/";
const CSRF_URL = document.querySelector('meta[name="csrf-token-url"]')?.content || "/csrf-token/";
const STATUS_URL = `${RUN_URL.replace(/\/$/, "")}/status/`;

let csrfToken = null;
let statusPromise = null;

function cookie(name) {
  const prefix = `${name}=`;
  for (const part of document.cookie.split(";")) {
    const item = part.trim();
    if (item.startsWith(prefix)) return decodeURIComponent(item.slice(prefix.length));
  }
  return null;
}

export async function getCsrfToken(refresh = false) {
  if (!refresh) {
    csrfToken = csrfToken || cookie("csrftoken");
    if (csrfToken) return csrfToken;
  }
  // Lesson pages are cached for everyone, so they cannot carry a per-visitor token.
  const response = await fetch(CSRF_URL, { credentials: "same-origin" });
  csrfToken = (await response.json()).token;
  return csrfToken;
}

export function runnerStatus() {
  // Also starts the server's warm sandboxes, so the first run is fast.
  statusPromise = statusPromise || fetch(STATUS_URL, { credentials: "same-origin" })
    .then((response) => (response.ok ? response.json() : null))
    .catch(() => null);
  return statusPromise;
}

async function post(url, payload, retry = true) {
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: {
      "Content-Type": "application/json",
      Accept: "application/json",
      "X-CSRFToken": await getCsrfToken(),
    },
    body: JSON.stringify(payload),
  });
  if (response.status === 403 && retry) {
    await getCsrfToken(true); // an expired or missing token: fetch a new one once
    return post(url, payload, false);
  }
  return response;
}

const POLL_MAX_MS = 1000;
const POLL_ATTEMPTS_OFFLINE = 5; // polls in a row that may fail before giving up

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function poll(url) {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    } catch (error) {
      if (attempt >= POLL_ATTEMPTS_OFFLINE) throw error;
      await sleep(POLL_MAX_MS); // a blip of the network: the run goes on on the server
    }
  }
}

export async function requestRun(payload, { onWait } = {}) {
  let response = await post(RUN_URL, payload);
  let data = await response.json().catch(() => ({}));
  let delay = Math.round((data.poll_after || 0.25) * 1000);
  while (response.status === 202 && data.poll) {
    if (onWait) onWait(data.status);
    await sleep(delay);
    delay = Math.min(Math.round(delay * 1.5), POLL_MAX_MS);
    response = await poll(data.poll);
    data = await response.json().catch(() => ({}));
  }
  return {
    ok: response.ok,
    status: response.status,
    data,
    retryAfter: response.headers.get("Retry-After"),
  };
}
