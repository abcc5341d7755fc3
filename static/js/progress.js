// Progress without an account: "I have finished this lesson", ticks in every roadmap
// list, "N of M lessons done" and "Continue where you left off" on the home page.
// Everything is read from and written to localStorage, never sent to the server:
// pages are cached for everyone, so nothing per-learner may be rendered there.

const STORAGE_KEY = "progress";

function load() {
  try {
    const data = JSON.parse(localStorage.getItem(STORAGE_KEY) || "{}");
    return {
      done: new Set(Array.isArray(data.done) ? data.done : []),
      last: typeof data.last === "string" ? data.last : null,
    };
  } catch {
    return { done: new Set(), last: null };
  }
}

function save(progress) {
  try {
    localStorage.setItem(
      STORAGE_KEY,
      JSON.stringify({ done: [...progress.done], last: progress.last }),
    );
  } catch {
    // Storage blocked or full: progress lasts for this page only.
  }
}

function tick(item, isDone) {
  const link = item.querySelector("a");
  item.classList.toggle("is-done", isDone);
  let mark = link?.querySelector(".lesson-tick");
  if (isDone && link && !mark) {
    mark = document.createElement("span");
    mark.className = "lesson-tick";
    mark.innerHTML = '<span aria-hidden="true">✓</span><span class="visually-hidden">(done)</span>';
    link.append(mark);
  } else if (!isDone && mark) {
    mark.remove();
  }
}

function showTicks(progress) {
  for (const item of document.querySelectorAll("[data-lesson]")) {
    tick(item, progress.done.has(item.dataset.lesson));
  }
}

// The course in reading order, from the first roadmap list on the page.
function lessonsInOrder() {
  const seen = new Map();
  for (const item of document.querySelectorAll("[data-lesson]")) {
    const link = item.querySelector("a");
    if (link && !seen.has(item.dataset.lesson)) {
      seen.set(item.dataset.lesson, {
        id: item.dataset.lesson,
        url: link.getAttribute("href"),
        title: link.firstChild?.textContent.trim() ?? link.textContent.trim(),
      });
    }
  }
  return [...seen.values()];
}

// The next lesson to read: the last one opened, or the first undone one after it.
function continueTarget(progress, lessons) {
  const index = lessons.findIndex((lesson) => lesson.id === progress.last);
  if (index < 0) return null;
  const last = lessons[index];
  if (!progress.done.has(last.id)) return last;
  return lessons.slice(index + 1).find((lesson) => !progress.done.has(lesson.id)) ?? null;
}

// Home page: "N of M lessons done" and the main button turned into "Continue". Both
// change text inside space the page already holds, so nothing below them moves.
function showSummary(progress) {
  const summary = document.querySelector("[data-progress-summary]");
  if (!summary) return;
  const lessons = lessonsInOrder();
  const total = Number(summary.dataset.total) || lessons.length;
  const done = lessons.filter((lesson) => progress.done.has(lesson.id)).length;
  const target = continueTarget(progress, lessons);
  const start = document.querySelector("[data-start-link]");

  if (done > 0) {
    const count = document.createElement("span");
    count.className = "home-progress-count";
    count.textContent = `${done} of ${total} lessons done`;
    const bar = document.createElement("progress");
    bar.className = "home-progress-bar";
    bar.max = total;
    bar.value = done;
    bar.setAttribute("aria-hidden", "true"); // the sentence says it
    summary.replaceChildren(count, bar);
  }
  if (start && target) {
    const first = start.cloneNode(true);
    start.href = target.url;
    start.textContent = `Continue where you left off: ${target.title}`;
    start.dataset.continueLink = "";
    if (lessons[0] && target.id !== lessons[0].id) {
      first.className = "home-restart";
      first.removeAttribute("data-start-link");
      first.textContent = "or start again from the first lesson";
      summary.append(first);
    }
  }
}

function setupLesson(progress) {
  const article = document.querySelector("[data-lesson-id]");
  if (!article) return;
  const id = article.dataset.lessonId;
  progress.last = id;
  save(progress);

  const panel = document.querySelector("[data-progress-done]");
  const checkbox = panel?.querySelector("[data-progress-checkbox]");
  const badge = document.querySelector("[data-progress-badge]");
  if (!panel || !checkbox) return;
  checkbox.checked = progress.done.has(id);
  if (badge) badge.hidden = !checkbox.checked;
  panel.hidden = false;
  checkbox.addEventListener("change", () => {
    const fresh = load(); // another tab may have changed it
    if (checkbox.checked) fresh.done.add(id);
    else fresh.done.delete(id);
    fresh.last = id;
    save(fresh);
    if (badge) badge.hidden = !checkbox.checked;
    showTicks(fresh);
  });
}

const progress = load();
setupLesson(progress);
showTicks(progress);
showSummary(progress);

window.addEventListener("storage", (event) => {
  if (event.key === STORAGE_KEY) showTicks(load());
});
