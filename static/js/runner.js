// Runnable code samples: gives each `[data-runnable]` block (rendered from a
// ```python run fence) Run / Reset, a code editor (editor-loader.js: fetched on the
// first focus or edit), an output panel right under the code (run-result.js) and the
// signals the code sent, as a diagram (trace-diagram.js) and as a list. Without this
// module the page still shows the highlighted code and its expected output.
//
// Strict CSP: no inline styles or scripts; everything is built with
// createElement/textContent, and state is shown by toggling classes.

import { attachEditor } from "./editor-loader.js";
import { requestRun, runnerStatus } from "./run-client.js";
import { describeRun, lastError, outputText, renderDiff, renderOutput } from "./run-result.js";
import { drawTraceDiagram } from "./trace-diagram.js";

// Signals Django sends for every model instance and class: hidden unless asked for.
const NOISY_SIGNALS = new Set(["pre_init", "post_init", "class_prepared"]);
const IS_MAC = /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
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

function renderTrace(list, summary, events, showAll, truncated) {
  list.replaceChildren();
  const shown = events.filter((event) => showAll || !NOISY_SIGNALS.has(event.signal));
  for (const event of shown) {
    const item = el("li", `runner-event runner-depth-${Math.min(event.depth, 5)}`);
    const head = el("p", "runner-event-head");
    const kind = event.kind || "send";
    if (kind === "commit") head.append(el("strong", null, "Transaction committed"));
    else if (kind === "on_commit") head.append(el("code", "runner-signal", "on_commit"), " callback ran");
    else {
      head.append(el("code", "runner-signal", event.signal));
      head.append(document.createTextNode(` sent by ${event.sender}`));
    }
    if (typeof event.duration_ms === "number") head.append(` (${event.duration_ms.toFixed(2)} ms)`);
    if (kind === "send" && event.method && event.method !== "send") head.append(el("span", "runner-method", ` (${event.method})`));
    item.append(head);
    const kwargs = Object.entries(event.kwargs || {});
    if (kwargs.length) {
      const args = el("dl", "runner-kwargs");
      for (const [name, value] of kwargs) {
        args.append(el("dt", null, name), el("dd", null, value));
      }
      item.append(args);
    }
    const receivers = el("ul", "runner-receivers");
    for (const receiver of event.receivers || []) {
      const failed = "error" in receiver;
      const line = el("li", failed ? "runner-receiver runner-raised" : "runner-receiver");
      line.append(el("code", null, receiver.name));
      line.append(document.createTextNode(failed ? " raised " : " returned "));
      line.append(el("code", null, failed ? receiver.error : receiver.result));
      if (typeof receiver.duration_ms === "number") line.append(` in ${receiver.duration_ms.toFixed(2)} ms`);
      receivers.append(line);
    }
    if (!(event.receivers || []).length && kind === "send") receivers.append(el("li", "runner-receiver", "no receiver"));
    item.append(receivers);
    list.append(item);
  }
  const hidden = events.length - shown.length;
  const sends = events.filter((event) => (event.kind || "send") === "send").length;
  const words = [`${sends} signal${sends === 1 ? "" : "s"} sent`];
  if (hidden) words.push(`${hidden} model init/class signals hidden`);
  if (truncated) words.push("trace cut at its limit");
  summary.textContent = events.length ? `${words.join(", ")}.` : "No signal was sent.";
}

// The sample's name for screen readers: the heading it sits under.
function sampleName(block, number) {
  let node = block;
  while (node && node !== document.body) {
    let sibling = node.previousElementSibling;
    while (sibling) {
      if (/^H[2-4]$/.test(sibling.tagName)) {
        const heading = sibling.cloneNode(true);
        heading.querySelectorAll(".headerlink").forEach((link) => link.remove());
        return `example ${number}, ${heading.textContent.trim()}`;
      }
      sibling = sibling.previousElementSibling;
    }
    node = node.parentElement;
  }
  return `example ${number}`;
}

function enhance(block, index) {
  const pre = block.querySelector(".runnable-code pre");
  if (!pre || block.dataset.runnerReady) return;
  block.dataset.runnerReady = "true";
  const original = pre.textContent.replace(/\n$/, "");
  const expectedBlock = block.querySelector(".runnable-expected");
  const expected = expectedBlock?.querySelector("pre")?.textContent;
  const number = index + 1;
  const id = `runnable-${number}`;
  const name = sampleName(block, number);

  const toolbar = el("div", "runner-toolbar");
  toolbar.setAttribute("role", "group");
  toolbar.setAttribute("aria-label", `Example ${number}`);
  const run = el("button", "btn btn-sm btn-primary runner-run", "Run");
  run.type = "button";
  run.setAttribute("aria-keyshortcuts", IS_MAC ? "Meta+Enter" : "Control+Enter");
  const reset = el("button", "btn btn-sm btn-outline-secondary runner-reset", "Reset");
  reset.type = "button";
  // Keyboard hints: hidden on touch-only devices by runner.css (pointer: coarse).
  const hint = el("span", "runner-hint");
  hint.id = `${id}-hint`;
  hint.append(
    el("kbd", null, IS_MAC ? "⌘" : "Ctrl"), "+", el("kbd", null, "Enter"), " runs. ",
    el("kbd", null, "Tab"), " indents; ", el("kbd", null, "Esc"), " then ", el("kbd", null, "Tab"), " leaves the editor.",
  );
  const edited = el("span", "runner-edited", "Edited");
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
  const output = el("div", "runner-output");
  const diff = el("div", "runner-diff");
  diff.hidden = true;
  result.append(warning, outputHeading, output, diff);

  // The signals go below the expected output, so output and expected sit together.
  const signals = el("section", "runner-signals");
  signals.hidden = true;
  signals.setAttribute("aria-label", `Signals sent by example ${number}`);
  const traceHeading = el("h3", "runner-heading", "Signals, in the order they were sent");
  const traceSummary = el("p", "runner-trace-summary");
  const diagramSlot = el("div", "runner-diagram");
  const listDetails = el("details", "runner-trace-details");
  const listSummary = el("summary", null, "The signals as a list, with their arguments");
  const showAllLabel = el("label", "runner-toggle");
  const showAll = el("input");
  showAll.type = "checkbox";
  showAllLabel.append(showAll, document.createTextNode(" Show pre_init, post_init and class_prepared"));
  const trace = el("ol", "runner-trace");
  listDetails.append(listSummary, trace);
  signals.append(traceHeading, traceSummary, showAllLabel, diagramSlot, listDetails);

  const view = block.querySelector(".runnable-code");
  view.classList.add("runner-enhanced");
  view.after(toolbar, status, result);
  (expectedBlock || result).after(signals);

  const editor = attachEditor(pre, {
    label: `Code editor, ${name}`,
    describedBy: hint.id,
    value: load(index) ?? original,
    onRun: runCode,
    onChange(code) {
      save(index, code, original);
      edited.hidden = code === original;
    },
  });
  edited.hidden = editor.getValue() === original;
  // Edits kept from an earlier visit: show them, which needs the editor now.
  if (!edited.hidden) editor.load();

  let lastTrace = null;
  let running = false;

  pre.addEventListener("focus", runnerStatus, { once: true });
  run.addEventListener("click", runCode);
  reset.addEventListener("click", () => {
    editor.setValue(original);
    save(index, original, original);
    editor.markLine(null);
    edited.hidden = true;
    result.hidden = true;
    signals.hidden = true;
    status.textContent = "Back to the original example.";
    editor.focus();
  });
  function drawTrace() {
    if (!lastTrace) return;
    renderTrace(trace, traceSummary, lastTrace.events, showAll.checked, lastTrace.cut);
    const hidden = showAll.checked ? new Set() : NOISY_SIGNALS;
    diagramSlot.replaceChildren(drawTraceDiagram(lastTrace.events, { hidden }));
  }
  showAll.addEventListener("change", drawTrace);

  async function runCode() {
    if (running) return;
    running = true;
    run.disabled = true;
    block.classList.add("runner-busy");
    status.textContent = "Running…";
    const code = editor.getValue();
    try {
      const response = await requestRun(
        { code },
        { onWait: (state) => { status.textContent = state === "queued" ? "Waiting for a free runner…" : "Running…"; } },
      );
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
      lastTrace = { events: data.trace || [], cut: data.trace_truncated };
      drawTrace();
      warning.textContent = data.warning || "";
      warning.hidden = !data.warning;
      result.hidden = false;
      signals.hidden = false;
      const failed = Boolean(data.stopped || data.exit_status);
      result.classList.toggle("runner-failed", failed);
      const error = data.exit_status ? lastError(outputText(data, "stderr")) : null;
      editor.markLine(error?.line ?? null);
      let summary = describeRun(data);
      diff.hidden = true;
      if (expected !== undefined && !data.stopped) {
        const same = renderDiff(diff, expected, outputText(data));
        if (same) summary += " Matches the expected output.";
        else summary += " Differs from the expected output.";
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
