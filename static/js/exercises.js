// Exercises in lessons: "write the code" (an editor and a Check button; the server
// runs the hidden checks after the learner's code) and "predict the output" (answer
// first, then the sample runs and the answer is revealed beside the real output).
//
// Progress is kept in this browser only (localStorage "exercises"): solved
// exercises get a tick in the lesson and the roadmap, the home page says
// "n of N exercises solved" and offers a reset. Nothing about a learner is sent to
// the server beyond the code of a run. Without this module the task, the starter
// code and the hint stay readable (the hint and a prediction's answer in <details>).

import { getCsrfToken, requestRun, runnerStatus } from "./run-client.js";

const STORAGE_KEY = "exercises";
const SOLUTION_AFTER_FAILURES = 3; // failed checks before the solution is offered freely
const EXERCISES_URL = document.querySelector('meta[name="exercises-url"]')?.content || "/exercises/";
const NOISY_SIGNALS = new Set(["pre_init", "post_init", "class_prepared"]);
const IS_MAC = /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);

// Progress ------------------------------------------------------------------------

function load() {
  try {
    const data = JSON.parse(localStorage.getItem(STORAGE_KEY) || "{}");
    return {
      solved: new Set(Array.isArray(data.solved) ? data.solved : []),
      failures: data.failures && typeof data.failures === "object" ? data.failures : {},
    };
  } catch {
    return { solved: new Set(), failures: {} };
  }
}

function save(state) {
  try {
    localStorage.setItem(
      STORAGE_KEY,
      JSON.stringify({ solved: [...state.solved], failures: state.failures }),
    );
  } catch {
    // Storage blocked or full: progress lasts for this page only.
  }
  showProgress(state);
}

function update(change) {
  const state = load(); // another tab may have changed it
  change(state);
  save(state);
  return state;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function button(text, className) {
  const node = el("button", `btn btn-sm ${className}`, text);
  node.type = "button";
  return node;
}

// Ticks: each roadmap entry with exercises says how many are solved; the home
// page says how many of the course's exercises are.
function showProgress(state = load()) {
  for (const item of document.querySelectorAll("[data-exercises]")) {
    const ids = item.dataset.exercises.split(" ").filter(Boolean);
    const solved = ids.filter((id) => state.solved.has(id)).length;
    const link = item.querySelector("a");
    let badge = link?.querySelector(".exercise-tick");
    if (!solved) {
      badge?.remove();
      continue;
    }
    if (!badge && link) {
      badge = el("span", "exercise-tick");
      link.append(badge);
    }
    if (!badge) continue;
    badge.classList.toggle("is-complete", solved === ids.length);
    badge.replaceChildren(
      el("span", null, `${solved === ids.length ? "★" : "☆"} ${solved}/${ids.length}`),
      el("span", "visually-hidden", ` (${solved} of ${ids.length} exercises solved)`),
    );
    badge.firstChild.setAttribute("aria-hidden", "true");
  }
  for (const box of document.querySelectorAll("[data-exercise-status]")) {
    const solved = state.solved.has(box.dataset.exerciseStatus);
    box.hidden = !solved;
  }
  const summary = document.querySelector("[data-exercise-summary]");
  if (summary) {
    const total = Number(summary.dataset.total) || 0;
    const count = summary.querySelector(".home-exercises-count");
    const known = new Set(
      [...document.querySelectorAll("[data-exercises]")].flatMap((item) =>
        item.dataset.exercises.split(" ").filter(Boolean)),
    );
    const solved = [...state.solved].filter((id) => !known.size || known.has(id)).length;
    count.textContent = `${Math.min(solved, total)} of ${total} exercises solved`;
    summary.querySelector(".home-exercises-reset").hidden = !state.solved.size;
  }
}

function setupSummary() {
  const summary = document.querySelector("[data-exercise-summary]");
  if (!summary || !Number(summary.dataset.total)) return;
  const count = el("span", "home-exercises-count");
  const reset = button("Reset exercise progress", "btn-link home-exercises-reset");
  const confirm = el("span", "home-exercises-confirm");
  confirm.hidden = true;
  const yes = button("Yes, forget my solved exercises", "btn-outline-secondary");
  const no = button("Keep them", "btn-outline-secondary");
  confirm.append(el("span", null, "Forget every solved exercise in this browser? "), yes, " ", no);
  const said = el("span", "visually-hidden");
  said.setAttribute("role", "status");
  said.setAttribute("aria-live", "polite");
  summary.replaceChildren(count, " ", reset, confirm, said);
  summary.hidden = false;
  reset.addEventListener("click", () => {
    confirm.hidden = false;
    reset.hidden = true;
    yes.focus();
  });
  no.addEventListener("click", () => {
    confirm.hidden = true;
    reset.hidden = false;
    reset.focus();
  });
  yes.addEventListener("click", () => {
    save({ solved: new Set(), failures: {} });
    confirm.hidden = true;
    said.textContent = "Exercise progress reset.";
    count.tabIndex = -1;
    count.focus();
  });
}

// Run results ------------------------------------------------------------------------

function describeFailure(response) {
  const data = response.data || {};
  if (response.status === 429) {
    return `${data.error || "The runner is busy."} Try again in ${response.retryAfter || "a few"} s.`;
  }
  return data.error || `The run failed (HTTP ${response.status}).`;
}

function renderOutput(pre, data) {
  pre.replaceChildren();
  for (const chunk of data.output || []) {
    const span = el("span", chunk.stream === "stderr" ? "runner-stderr" : "runner-stdout");
    span.append(document.createTextNode(chunk.text));
    pre.append(span);
  }
  if (!(data.output || []).length) pre.append(el("span", "runner-empty", "(no output)"));
}

function renderTrace(list, events) {
  list.replaceChildren();
  for (const event of (events || []).filter((e) => !NOISY_SIGNALS.has(e.signal))) {
    const item = el("li", `runner-event runner-depth-${Math.min(event.depth || 0, 5)}`);
    const head = el("p", "runner-event-head");
    head.append(el("code", "runner-signal", event.signal), ` sent by ${event.sender}`);
    item.append(head);
    const receivers = el("ul", "runner-receivers");
    for (const receiver of event.receivers || []) {
      const failed = "error" in receiver;
      const line = el("li", failed ? "runner-receiver runner-raised" : "runner-receiver");
      line.append(el("code", null, receiver.name), failed ? " raised " : " returned ");
      line.append(el("code", null, failed ? receiver.error : receiver.result));
      receivers.append(line);
    }
    if (!(event.receivers || []).length) receivers.append(el("li", "runner-receiver", "no receiver"));
    item.append(receivers);
    list.append(item);
  }
  if (!list.children.length) list.append(el("li", "runner-empty", "No signal was sent."));
}

// The output and trace panel shared by both kinds of exercise.
function resultPanel(label) {
  const section = el("section", "exercise-result runner-result");
  section.hidden = true;
  section.setAttribute("aria-label", label);
  const output = el("pre", "runner-output");
  output.tabIndex = 0;
  const trace = el("ol", "runner-trace");
  section.append(el("h4", "runner-heading", "Output"), output);
  section.append(el("h4", "runner-heading", "Signals, in the order they were sent"), trace);
  return { section, output, trace };
}

// "Write the code" ----------------------------------------------------------------------

function draftKey(id) {
  return `exercise:${id}`;
}

function enhanceExercise(block, lessonSlug, index) {
  const key = block.dataset.exercise;
  const id = `${lessonSlug}/${key}`;
  const number = index + 1;
  const domId = `exercise-${key}`;
  const view = block.querySelector(".exercise-code");
  // The code only: copy.js may have added its "Copy" button beside the <pre> already.
  const starter = (view.querySelector("pre") || view).textContent.replace(/\n+$/, "");
  block.querySelector(".exercise-offline")?.remove();
  block.id = block.id || domId;

  const label = el("label", "visually-hidden", `Your code for exercise ${number}, editable`);
  label.htmlFor = `${domId}-code`;
  const textarea = el("textarea", "runner-textarea exercise-textarea");
  textarea.id = `${domId}-code`;
  textarea.spellcheck = false;
  textarea.setAttribute("autocapitalize", "off");
  textarea.setAttribute("autocomplete", "off");
  textarea.setAttribute("wrap", "off");
  textarea.setAttribute("aria-describedby", `${domId}-keys`);
  try {
    textarea.value = sessionStorage.getItem(draftKey(id)) ?? starter;
  } catch {
    textarea.value = starter;
  }
  textarea.rows = Math.min(Math.max(starter.split("\n").length + 2, 5), 30);
  const editor = el("div", "runner-editor");
  editor.append(label, textarea);

  const toolbar = el("div", "runner-toolbar exercise-toolbar");
  toolbar.setAttribute("role", "group");
  toolbar.setAttribute("aria-label", `Exercise ${number}`);
  const check = button("Check", "btn-primary exercise-check");
  check.setAttribute("aria-keyshortcuts", IS_MAC ? "Meta+Enter" : "Control+Enter");
  const reset = button("Reset", "btn-outline-secondary exercise-reset");
  const show = button("Show solution", "btn-outline-secondary exercise-show-solution");
  const keys = el("span", "runner-hint", `${IS_MAC ? "⌘" : "Ctrl"}+Enter checks the code`);
  keys.id = `${domId}-keys`;
  const solvedBadge = el("span", "exercise-solved", "✓ Solved");
  solvedBadge.dataset.exerciseStatus = id;
  solvedBadge.hidden = true;
  toolbar.append(check, reset, show, keys, solvedBadge);

  const status = el("p", "runner-status exercise-status");
  status.setAttribute("role", "status");
  status.setAttribute("aria-live", "polite");

  const checksList = el("ul", "exercise-checks");
  checksList.setAttribute("aria-label", "Checks");
  checksList.hidden = true;
  const panel = resultPanel(`Result of exercise ${number}`);

  const confirm = el("div", "exercise-confirm");
  confirm.hidden = true;
  const confirmText = el("p", null, "You have not solved this exercise yet. Show the solution anyway?");
  confirmText.id = `${domId}-confirm`;
  const yes = button("Yes, show me", "btn-outline-secondary exercise-confirm-yes");
  const no = button("Keep trying", "btn-outline-secondary exercise-confirm-no");
  yes.setAttribute("aria-describedby", confirmText.id);
  confirm.append(confirmText, yes, " ", no);

  const solution = el("section", "exercise-solution");
  solution.hidden = true;
  const solutionHeading = el("h4", "runner-heading", "Solution");
  solutionHeading.tabIndex = -1;
  const solutionCode = el("pre", "exercise-solution-code");
  solutionCode.tabIndex = 0;
  const checksHeading = el("h4", "runner-heading", "The checks it passes");
  const checksCode = el("pre", "exercise-solution-checks");
  checksCode.tabIndex = 0;
  const useIt = button("Put the solution in the editor", "btn-outline-secondary");
  solution.setAttribute("aria-label", `Solution of exercise ${number}`);
  solution.append(solutionHeading, solutionCode, checksHeading, checksCode, useIt);

  view.classList.add("runner-enhanced");
  view.after(editor, toolbar, status, checksList, panel.section, confirm, solution);
  showProgress();

  let running = false;
  textarea.addEventListener("input", () => {
    try {
      if (textarea.value === starter) sessionStorage.removeItem(draftKey(id));
      else sessionStorage.setItem(draftKey(id), textarea.value);
    } catch {
      /* storage blocked: the draft lasts for this page */
    }
  });
  textarea.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      runChecks();
    }
  });
  textarea.addEventListener("focus", runnerStatus, { once: true });
  check.addEventListener("click", runChecks);
  reset.addEventListener("click", () => {
    textarea.value = starter;
    textarea.dispatchEvent(new Event("input"));
    status.textContent = "Back to the starter code.";
    textarea.focus();
  });
  show.addEventListener("click", () => {
    const state = load();
    const earned = state.solved.has(id) || (state.failures[id] || 0) >= SOLUTION_AFTER_FAILURES;
    if (earned) {
      revealSolution();
    } else {
      confirm.hidden = false;
      yes.focus();
    }
  });
  no.addEventListener("click", () => {
    confirm.hidden = true;
    textarea.focus();
  });
  yes.addEventListener("click", () => {
    confirm.hidden = true;
    revealSolution();
  });
  useIt.addEventListener("click", () => {
    textarea.value = solutionCode.textContent.replace(/\n+$/, "");
    textarea.dispatchEvent(new Event("input"));
    textarea.focus();
  });

  async function revealSolution() {
    status.textContent = "Fetching the solution…";
    try {
      const response = await fetch(`${EXERCISES_URL}${lessonSlug}/${key}/solution/`, {
        method: "POST",
        credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": await getCsrfToken() },
      });
      const data = await response.json().catch(() => ({}));
      if (!response.ok) {
        status.textContent = data.error || `Could not fetch the solution (HTTP ${response.status}).`;
        return;
      }
      solutionCode.textContent = data.solution;
      checksCode.textContent = data.checks;
      solution.hidden = false;
      status.textContent = "The solution is shown below the editor.";
      solutionHeading.focus();
    } catch {
      status.textContent = "Could not reach the server. Check your connection and try again.";
    }
  }

  async function runChecks() {
    if (running) return;
    running = true;
    check.disabled = true;
    block.classList.add("runner-busy");
    status.textContent = "Checking…";
    try {
      const response = await requestRun({ code: textarea.value, exercise: id });
      if (!response.ok) {
        status.textContent = describeFailure(response);
        return;
      }
      const data = response.data;
      const checks = data.checks || [];
      checksList.replaceChildren();
      for (const item of checks) {
        const line = el("li", item.passed ? "exercise-check-passed" : "exercise-check-failed");
        line.append(el("span", "exercise-check-mark", item.passed ? "✓" : "✗"));
        line.firstChild.setAttribute("aria-hidden", "true");
        line.append(el("span", "visually-hidden", item.passed ? "Passed: " : "Failed: "));
        line.append(el("span", "exercise-check-name", item.name));
        if (!item.passed && item.message && item.message !== item.name) {
          line.append(el("span", "exercise-check-message", item.message));
        }
        checksList.append(line);
      }
      checksList.hidden = !checks.length;
      renderOutput(panel.output, data);
      renderTrace(panel.trace, data.trace);
      panel.section.hidden = false;
      const passed = checks.filter((item) => item.passed).length;
      const solved = checks.length > 0 && passed === checks.length;
      block.classList.toggle("exercise-is-solved", solved);
      if (solved) {
        update((state) => state.solved.add(id));
        status.textContent = `All ${checks.length} checks passed. Exercise solved!`;
      } else {
        const state = update((s) => {
          s.failures[id] = (s.failures[id] || 0) + 1;
        });
        const failed = checks.length - passed;
        const parts = [checks.length
          ? `${failed} of ${checks.length} check${checks.length === 1 ? "" : "s"} failed.`
          : data.error || data.message || "The checks did not run."];
        if ((state.failures[id] || 0) >= SOLUTION_AFTER_FAILURES && !state.solved.has(id)) {
          parts.push("The solution is available if you want it.");
        }
        status.textContent = parts.join(" ");
      }
    } catch {
      status.textContent = "Could not reach the code runner. Check your connection and try again.";
    } finally {
      running = false;
      check.disabled = false;
      block.classList.remove("runner-busy");
    }
  }
}

// "Predict the output" -----------------------------------------------------------------

function normalize(text) {
  const lines = text.split("\n").map((line) => line.replace(/\s+$/, ""));
  while (lines.length && !lines[lines.length - 1]) lines.pop();
  return lines.join("\n");
}

function enhancePrediction(block, lessonSlug, index) {
  const key = block.dataset.prediction;
  const id = `${lessonSlug}/${key}`;
  const number = index + 1;
  const domId = `prediction-${key}`;
  const code = block.querySelector(".prediction-code pre")?.textContent.replace(/\n$/, "") ?? "";
  const answer = block.querySelector(".prediction-answer");
  const expected = answer?.querySelector("pre")?.textContent ?? "";
  const question = block.querySelector(".prediction-question");
  const listed = block.querySelector(".prediction-choices");
  const choices = listed ? [...listed.querySelectorAll("li")].map((li) => li.textContent) : [];

  const form = el("form", "prediction-form");
  form.noValidate = true;
  const fieldset = el("fieldset");
  const legend = el("legend", "prediction-legend", question.textContent);
  fieldset.append(legend);
  question.hidden = true;
  let text = null;
  if (choices.length) {
    listed.hidden = true;
    choices.forEach((choice, position) => {
      const wrap = el("div", "prediction-choice");
      const input = el("input", "prediction-radio");
      input.type = "radio";
      input.name = `${domId}-choice`;
      input.id = `${domId}-choice-${position}`;
      input.value = choice;
      const label = el("label", "prediction-choice-label");
      label.htmlFor = input.id;
      label.append(el("code", null, choice));
      wrap.append(input, label);
      fieldset.append(wrap);
    });
  } else {
    const label = el("label", "form-label", "Your answer (what the code prints)");
    label.htmlFor = `${domId}-text`;
    text = el("textarea", "form-control prediction-text");
    text.id = `${domId}-text`;
    text.rows = Math.min(Math.max(expected.split("\n").length, 2), 10);
    text.spellcheck = false;
    fieldset.append(label, text);
  }
  const submit = el("button", "btn btn-sm btn-primary prediction-submit", "Answer and run");
  submit.type = "submit";
  const again = button("Try another answer", "btn-outline-secondary prediction-again");
  again.hidden = true;
  const actions = el("div", "prediction-actions");
  actions.append(submit, " ", again);
  form.append(fieldset, actions);
  const status = el("p", "runner-status prediction-status");
  status.setAttribute("role", "status");
  status.setAttribute("aria-live", "polite");
  const verdict = el("p", "prediction-verdict");
  verdict.tabIndex = -1;
  verdict.hidden = true;
  const panel = resultPanel(`Result of prediction ${number}`);
  const solvedBadge = el("span", "exercise-solved", "✓ Predicted");
  solvedBadge.dataset.exerciseStatus = id;
  solvedBadge.hidden = true;
  block.querySelector(".exercise-label")?.append(" ", solvedBadge);
  question.after(form, status, verdict, panel.section);
  answer.classList.add("prediction-answer-waiting");
  showProgress();

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const given = choices.length
      ? form.querySelector("input[type=radio]:checked")?.value
      : text.value;
    if (given === undefined || !normalize(given)) {
      status.textContent = choices.length ? "Pick an answer first." : "Type your answer first.";
      return;
    }
    submit.disabled = true;
    status.textContent = "Running the code…";
    try {
      const response = await requestRun({ code, exercise: id, answer: given });
      if (!response.ok) {
        status.textContent = describeFailure(response);
        submit.disabled = false;
        return;
      }
      const right = normalize(given) === normalize(expected);
      if (right) update((state) => state.solved.add(id));
      renderOutput(panel.output, response.data);
      renderTrace(panel.trace, response.data.trace);
      panel.section.hidden = false;
      answer.classList.remove("prediction-answer-waiting");
      answer.open = true;
      for (const input of fieldset.querySelectorAll("input, textarea")) input.disabled = true;
      verdict.textContent = right
        ? "Right: that is what it prints."
        : "Not quite: compare the expected output with what the code printed.";
      verdict.className = `prediction-verdict ${right ? "is-right" : "is-wrong"}`;
      verdict.hidden = false;
      status.textContent = "";
      again.hidden = right;
      verdict.focus();
    } catch {
      status.textContent = "Could not reach the code runner. Check your connection and try again.";
      submit.disabled = false;
    }
  });
  again.addEventListener("click", () => {
    for (const input of fieldset.querySelectorAll("input, textarea")) input.disabled = false;
    submit.disabled = false;
    verdict.hidden = true;
    again.hidden = true;
    panel.section.hidden = true;
    answer.open = false;
    answer.classList.add("prediction-answer-waiting");
    fieldset.querySelector("input, textarea")?.focus();
  });
}

function init() {
  const article = document.querySelector("[data-lesson-id]");
  const lessonSlug = article?.dataset.lessonId.split("/").pop();
  if (lessonSlug) {
    document.querySelectorAll(".exercise[data-exercise]").forEach((block, index) => {
      enhanceExercise(block, lessonSlug, index);
    });
    document.querySelectorAll(".prediction[data-prediction]").forEach((block, index) => {
      enhancePrediction(block, lessonSlug, index);
    });
  }
  setupSummary();
  showProgress();
  window.addEventListener("storage", (event) => {
    if (event.key === STORAGE_KEY) showProgress();
  });
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
else init();
