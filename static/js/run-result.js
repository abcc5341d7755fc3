// What a run's result says to a learner: the status line (naming the exception and its
// line), the output with the frames of Django and the runner folded away, and a compact
// line diff against the sample's expected output. Pure DOM building, no requests;
// runner.js calls these.

const SAMPLE_FILE = "sample.py"; // the harness's name for the learner's code
const FRAME = /^ {2}File "([^"]*)", line (\d+)/;
const EXCEPTION = /^([A-Za-z_][\w.]*(?:Error|Exception|Warning|Exit|Interrupt|Iteration|Group)?)(?::\s?(.*))?$/;

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Output as the expected-output check compares it (trailing spaces and blank lines dropped). */
export function normalize(text) {
  const lines = text.split("\n").map((line) => line.replace(/\s+$/, ""));
  while (lines.length && !lines[lines.length - 1]) lines.pop();
  return lines.join("\n");
}

export function outputText(data, stream = null) {
  return (data.output || [])
    .filter((chunk) => !stream || chunk.stream === stream)
    .map((chunk) => chunk.text)
    .join("");
}

/**
 * The last uncaught exception in `stderr`: {type, message, line} or null. `line` is the
 * learner's line (the innermost frame in sample.py), or null when none is known.
 */
export function lastError(stderr) {
  const start = stderr.lastIndexOf("Traceback (most recent call last):");
  const syntax = /^ {2}File "sample\.py", line \d+\n(?:.*\n)*?(\w*Error): .*/m;
  let block = start >= 0 ? stderr.slice(start) : null;
  if (block === null) {
    const match = syntax.exec(stderr);
    if (!match) return null;
    block = stderr.slice(match.index);
  }
  const lines = block.split("\n");
  let line = null;
  let error = null;
  for (const text of lines) {
    const frame = FRAME.exec(text);
    if (frame) {
      if (frame[1] === SAMPLE_FILE) line = Number(frame[2]);
      continue;
    }
    if (/^\s/.test(text) || !text || text.startsWith("Traceback")) continue;
    if (text.startsWith("During handling") || text.startsWith("The above exception")) continue;
    const match = EXCEPTION.exec(text);
    if (match) error = { type: match[1], message: match[2] || "" };
  }
  return error ? { ...error, line } : null;
}

/** The status line: how the run ended, naming the error and the learner's line. */
export function describeRun(data) {
  if (data.error && !data.reason) return data.error;
  const parts = [];
  const error = data.exit_status ? lastError(outputText(data, "stderr")) : null;
  if (data.stopped) parts.push(data.message || `Stopped (${data.reason}).`);
  else if (data.exit_status === 0) parts.push("Finished.");
  else if (error) {
    const where = error.line ? ` (line ${error.line})` : "";
    parts.push(`${error.type}${error.message ? `: ${error.message}` : ""}${where}.`);
  } else parts.push(`Exited with status ${data.exit_status}.`);
  if (data.signal && data.reason === "signal") parts.push(`Killed by ${data.signal}.`);
  if (data.truncated) parts.push("Output cut at the size limit.");
  parts.push(`${Math.round(data.duration_ms)} ms.`);
  return parts.join(" ");
}

// Split a stderr text into runs of plain lines and frames; a frame is its `File` line
// with the indented lines (source, carets) under it.
function segments(text) {
  const lines = text.split(/(?<=\n)/);
  const result = [];
  let frame = null;
  for (const line of lines) {
    const match = FRAME.exec(line);
    if (match) {
      frame = { own: match[1] === SAMPLE_FILE, text: line };
      result.push(frame);
    } else if (frame && /^ {4}/.test(line)) {
      frame.text += line;
    } else {
      frame = null;
      const last = result[result.length - 1];
      if (last && last.own === undefined) last.text += line;
      else result.push({ text: line });
    }
  }
  return result;
}

// stderr with each run of frames outside sample.py folded into a <details>.
function renderStderr(parent, text) {
  const parts = segments(text);
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    if (part.own !== false) {
      parent.append(el("span", part.own ? "runner-frame-own" : null, part.text));
      continue;
    }
    const hidden = [part];
    while (parts[i + 1] && parts[i + 1].own === false) hidden.push(parts[++i]);
    const details = el("details", "runner-frames");
    const count = hidden.length;
    details.append(
      el("summary", null, `${count} frame${count === 1 ? "" : "s"} from Django and the runner`),
      el("span", "runner-frames-body", hidden.map((frame) => frame.text).join("")),
    );
    parent.append(details);
  }
}

/** Fill `container` with the run's stdout and stderr, in the order they were written. */
export function renderOutput(container, data) {
  container.replaceChildren();
  let previous = null;
  for (const chunk of data.output) {
    const span = el("span", chunk.stream === "stderr" ? "runner-stderr" : "runner-stdout");
    if (chunk.stream !== previous && chunk.stream === "stderr") {
      span.append(el("span", "visually-hidden", "Standard error: "));
    }
    if (chunk.stream === "stderr") renderStderr(span, chunk.text);
    else span.append(document.createTextNode(chunk.text));
    container.append(span);
    previous = chunk.stream;
  }
  if (!data.output.length) container.append(el("span", "runner-empty", "(no output)"));
}

// Longest-common-subsequence line diff: [{op: " " | "-" | "+", text}].
export function lineDiff(expected, actual) {
  const a = expected.split("\n");
  const b = actual.split("\n");
  if (a.length * b.length > 250000) {
    // Too long to compare line by line here: show both whole.
    return [...a.map((text) => ({ op: "-", text })), ...b.map((text) => ({ op: "+", text }))];
  }
  const table = Array.from({ length: a.length + 1 }, () => new Uint32Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      table[i][j] = a[i] === b[j] ? table[i + 1][j + 1] + 1 : Math.max(table[i + 1][j], table[i][j + 1]);
    }
  }
  const ops = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      ops.push({ op: " ", text: a[i++], line: j++ + 1 });
    } else if (j < b.length && (i >= a.length || table[i][j + 1] >= table[i + 1][j])) {
      ops.push({ op: "+", text: b[j++], line: j });
    } else {
      ops.push({ op: "-", text: a[i++], line: j + 1 });
    }
  }
  return ops;
}

/**
 * Show in `container` where `actual` differs from `expected` (changed lines with one
 * line of context), or hide it when they match. Returns whether they matched.
 */
export function renderDiff(container, expected, actual) {
  const want = normalize(expected);
  const got = normalize(actual);
  container.replaceChildren();
  container.hidden = want === got;
  if (want === got) return true;
  const ops = lineDiff(want, got);
  const first = ops.findIndex((item) => item.op !== " ");
  container.append(
    el("p", "runner-diff-title", `Your output differs from the expected output from line ${ops[first].line}:`),
  );
  const pre = el("pre", "runner-diff-lines");
  const keep = ops.map((item, index) =>
    [index - 1, index, index + 1].some((k) => ops[k] && ops[k].op !== " "),
  );
  ops.forEach((item, index) => {
    if (!keep[index]) {
      if (keep[index - 1]) pre.append(el("span", "runner-diff-gap", "…\n"));
      return;
    }
    if (item.op === " ") pre.append(el("span", "runner-diff-same", `  ${item.text}\n`));
    else {
      const node = el(item.op === "-" ? "del" : "ins", null);
      node.append(
        el("span", "visually-hidden", item.op === "-" ? "expected: " : "yours: "),
        el("span", "runner-diff-sign", `${item.op} `),
        document.createTextNode(`${item.text}\n`),
      );
      pre.append(node);
    }
  });
  container.append(pre);
  return false;
}
