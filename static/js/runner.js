// Runnable code samples: turns each `[data-runnable]` block (rendered from a
// ```python run fence) into an editor with Run / Reset, an output panel and a
// timeline of the signals the code sent. Without this module the page still
// shows the highlighted code and its expected output.
//
// Strict CSP: no inline styles or scripts; everything is built with
// createElement/textContent, and state is shown by toggling classes.

import { requestRun, runnerStatus } from "./run-client.js";

// Signals Django sends for every model instance and class: hidden unless asked for.
const NOISY_SIGNALS = new Set(["pre_init", "post_init", "class_prepared"]);
const IS_MAC = /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// Output as the expected-output check compares it.
function normalize(text) {
  const lines = text.split("\n").map((line) => line.replace(/\s+$/, ""));
  while (lines.length && !lines[lines.length - 1]) lines.pop();
  return lines.join("\n");
}

function storageKey(index) {
  return `runner:${location.pathname}:${index}`;
}

function load(index) {
  try {
    return sessionStorage.getItem(storageKey(index));
  } catch {
    return null; // storage disabled: editing still works, it just is not kept
  }
}

function save(index, code, original) {
  try {
    if (code === original) sessionStorage.removeItem(storageKey(index));
    else sessionStorage.setItem(storageKey(index), code);
  } catch {
    /* quota or privacy mode */
  }
}

function describeStop(data) {
  if (data.error && !data.reason) return data.error;
  const parts = [];
  if (data.stopped) parts.push(data.message || `Stopped (${data.reason}).`);
  else if (data.exit_status === 0) parts.push("Finished.");
  else parts.push(`Exited with status ${data.exit_status}.`);
  if (data.signal && data.reason === "signal") parts.push(`Killed by ${data.signal}.`);
  if (data.truncated) parts.push("Output cut at the size limit.");
  parts.push(`${Math.round(data.duration_ms)} ms.`);
  return parts.join(" ");
}

function renderOutput(pre, data) {
  pre.replaceChildren();
  let previous = null;
  for (const chunk of data.output) {
    const span = el("span", chunk.stream === "stderr" ? "runner-stderr" : "runner-stdout");
    if (chunk.stream !== previous && chunk.stream === "stderr") {
      span.append(el("span", "visually-hidden", "Standard error: "));
    }
    span.append(document.createTextNode(chunk.text));
    pre.append(span);
    previous = chunk.stream;
  }
  if (!data.output.length) pre.append(el("span", "runner-empty", "(no output)"));
}

function renderTrace(list, summary, events, showAll, truncated) {
  list.replaceChildren();
  const shown = events.filter((event) => showAll || !NOISY_SIGNALS.has(event.signal));
  for (const event of shown) {
    const item = el("li", `runner-event runner-depth-${Math.min(event.depth, 5)}`);
    const head = el("p", "runner-event-head");
    head.append(el("code", "runner-signal", event.signal));
    head.append(document.createTextNode(` sent by ${event.sender}`));
    if (event.method !== "send") head.append(el("span", "runner-method", ` (${event.method})`));
    item.append(head);
    const kwargs = Object.entries(event.kwargs);
    if (kwargs.length) {
      const args = el("dl", "runner-kwargs");
      for (const [name, value] of kwargs) {
        args.append(el("dt", null, name), el("dd", null, value));
      }
      item.append(args);
    }
    const receivers = el("ul", "runner-receivers");
    for (const receiver of event.receivers) {
      const failed = "error" in receiver;
      const line = el("li", failed ? "runner-receiver runner-raised" : "runner-receiver");
      line.append(el("code", null, receiver.name));
      line.append(document.createTextNode(failed ? " raised " : " returned "));
      line.append(el("code", null, failed ? receiver.error : receiver.result));
      receivers.append(line);
    }
    if (!event.receivers.length) receivers.append(el("li", "runner-receiver", "no receiver"));
    item.append(receivers);
    list.append(item);
  }
  const hidden = events.length - shown.length;
  const words = [`${events.length} signal${events.length === 1 ? "" : "s"} sent`];
  if (hidden) words.push(`${hidden} model init/class signals hidden`);
  if (truncated) words.push("trace cut at its limit");
  summary.textContent = events.length ? `${words.join(", ")}.` : "No signal was sent.";
}

function enhance(block, index) {
  const pre = block.querySelector(".runnable-code pre");
  if (!pre || block.dataset.runnerReady) return;
  block.dataset.runnerReady = "true";
  const original = pre.textContent.replace(/\n$/, "");
  const expected = block.querySelector(".runnable-expected pre")?.textContent;
  const number = index + 1;
  const id = `runnable-${number}`;

  const editor = el("div", "runner-editor");
  const label = el("label", "visually-hidden", `Code of example ${number}, editable`);
  label.htmlFor = `${id}-code`;
  const textarea = el("textarea", "runner-textarea");
  textarea.id = `${id}-code`;
  textarea.spellcheck = false;
  textarea.setAttribute("autocapitalize", "off");
  textarea.setAttribute("autocomplete", "off");
  textarea.setAttribute("wrap", "off");
  textarea.setAttribute("aria-describedby", `${id}-hint`);
  textarea.value = load(index) ?? original;
  textarea.rows = Math.min(Math.max(original.split("\n").length, 3), 30);
  editor.append(label, textarea);

  const toolbar = el("div", "runner-toolbar");
  toolbar.setAttribute("role", "group");
  toolbar.setAttribute("aria-label", `Example ${number}`);
  const run = el("button", "btn btn-sm btn-primary runner-run", "Run");
  run.type = "button";
  run.setAttribute("aria-keyshortcuts", IS_MAC ? "Meta+Enter" : "Control+Enter");
  const reset = el("button", "btn btn-sm btn-outline-secondary runner-reset", "Reset");
  reset.type = "button";
  const hint = el("span", "runner-hint", `${IS_MAC ? "⌘" : "Ctrl"}+Enter runs the code`);
  hint.id = `${id}-hint`;
  const edited = el("span", "runner-edited", "Edited");
  edited.hidden = textarea.value === original;
  toolbar.append(run, reset, hint, edited);

  const status = el("p", "runner-status");
  status.setAttribute("role", "status");
  status.setAttribute("aria-live", "polite");

  const result = el("section", "runner-result");
  result.hidden = true;
  result.setAttribute("aria-label", `Result of example ${number}`);
  const warning = el("p", "runner-warning");
  warning.hidden = true;
  const outputHeading = el("h3", "runner-heading", "Output");
  const output = el("pre", "runner-output");
  output.tabIndex = 0;
  const traceHeading = el("h3", "runner-heading", "Signals, in the order they were sent");
  const traceSummary = el("p", "runner-trace-summary");
  const showAllLabel = el("label", "runner-toggle");
  const showAll = el("input");
  showAll.type = "checkbox";
  showAllLabel.append(showAll, document.createTextNode(" Show pre_init, post_init and class_prepared"));
  const trace = el("ol", "runner-trace");
  result.append(warning, outputHeading, output, traceHeading, traceSummary, showAllLabel, trace);

  const view = block.querySelector(".runnable-code");
  view.classList.add("runner-enhanced");
  view.after(editor, toolbar, status, result);

  let lastTrace = null;
  let running = false;

  textarea.addEventListener("input", () => {
    save(index, textarea.value, original);
    edited.hidden = textarea.value === original;
  });
  textarea.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      runCode();
    }
  });
  textarea.addEventListener("focus", runnerStatus, { once: true });
  run.addEventListener("click", runCode);
  reset.addEventListener("click", () => {
    textarea.value = original;
    save(index, original, original);
    edited.hidden = true;
    result.hidden = true;
    status.textContent = "Back to the original example.";
    textarea.focus();
  });
  showAll.addEventListener("change", () => {
    if (lastTrace) renderTrace(trace, traceSummary, lastTrace.events, showAll.checked, lastTrace.cut);
  });

  async function runCode() {
    if (running) return;
    running = true;
    run.disabled = true;
    block.classList.add("runner-busy");
    status.textContent = "Running…";
    try {
      const response = await requestRun({ code: textarea.value });
      const data = response.data;
      if (response.status === 429) {
        const wait = response.retryAfter || "a few";
        status.textContent = `${data.error || "The runner is busy."} Try again in ${wait} s.`;
        return;
      }
      if (!response.ok) {
        status.textContent = data.error || `The run failed (HTTP ${response.status}).`;
        return;
      }
      renderOutput(output, data);
      lastTrace = { events: data.trace, cut: data.trace_truncated };
      renderTrace(trace, traceSummary, data.trace, showAll.checked, data.trace_truncated);
      warning.textContent = data.warning || "";
      warning.hidden = !data.warning;
      result.hidden = false;
      result.classList.toggle("runner-failed", Boolean(data.stopped || data.exit_status));
      let summary = describeStop(data);
      if (expected !== undefined && textarea.value === original) {
        const text = data.output.map((chunk) => chunk.text).join("");
        const same = normalize(text) === normalize(expected);
        summary += same ? " Matches the expected output." : " Differs from the expected output.";
      }
      status.textContent = summary;
    } catch {
      status.textContent = "Could not reach the code runner. Check your connection and try again.";
    } finally {
      running = false;
      run.disabled = false;
      block.classList.remove("runner-busy");
    }
  }
}

function init() {
  const blocks = document.querySelectorAll("[data-runnable]");
  blocks.forEach(enhance);
  if (blocks.length) {
    runnerStatus().then((state) => {
      if (state && !state.available) {
        for (const button of document.querySelectorAll(".runner-run")) {
          button.disabled = true;
        }
        // The server says why and how to fix it (e.g. install bubblewrap).
        const reason = state.reason || "Running code is unavailable on this server right now.";
        for (const status of document.querySelectorAll(".runner-status")) {
          status.textContent = reason;
        }
      }
    });
  }
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
else init();
