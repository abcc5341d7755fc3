// The signal trace as a picture: a sequence of rows, one per signal send, with the
// receivers it reached in the order they ran, what each returned or raised, sends made
// inside a receiver indented under that receiver, the transaction commit and the
// on_commit callbacks after it, and (when the trace has timings) a time bar per row.
//
// drawTraceDiagram(events, {hidden}) -> an element (the picture and its legend). `events` is the runner's trace
// (CONTRACTS.md §2); `kind`, `start_ms`, `duration_ms`, receivers' `duration_ms` and
// `registered_in` are optional, so older traces still draw (without times). The list
// in runner.js stays the text alternative: the picture is one labelled image to
// assistive technology.

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

const isNumber = (value) => typeof value === "number" && Number.isFinite(value);

function ms(value) {
  if (!isNumber(value)) return "";
  if (value < 1) return `${value.toFixed(2)} ms`;
  if (value < 10) return `${value.toFixed(1)} ms`;
  return `${Math.round(value)} ms`;
}

// Which receiver of `parent` was running when `child` was sent: from the timings when
// the trace has them (receivers run one after another from the send's start), else the
// only receiver, else unknown (-1: drawn after the receivers).
function causingReceiver(parent, child) {
  const receivers = parent.receivers || [];
  if (receivers.length === 1) return 0;
  if (!isNumber(parent.start_ms) || !isNumber(child.start_ms)) return -1;
  let end = parent.start_ms;
  for (let i = 0; i < receivers.length; i++) {
    if (!isNumber(receivers[i].duration_ms)) return -1;
    end += receivers[i].duration_ms;
    if (child.start_ms <= end) return i;
  }
  return receivers.length - 1;
}

function timeBar(start, duration, total) {
  const track = el("span", "trace-bar-track");
  track.setAttribute("aria-hidden", "true");
  if (!isNumber(start) || !isNumber(duration) || !(total > 0)) {
    track.classList.add("trace-bar-none");
    return track;
  }
  const bar = el("span", "trace-bar");
  // CSSOM, not a style attribute: the Content-Security-Policy allows it.
  bar.style.setProperty("--trace-start", `${Math.min(100, (start / total) * 100).toFixed(2)}%`);
  bar.style.setProperty("--trace-width", `${Math.max(0.5, (duration / total) * 100).toFixed(2)}%`);
  track.append(bar);
  return track;
}

function row(className, depth) {
  const item = el("li", `trace-row ${className}`);
  item.style.setProperty("--trace-depth", String(Math.min(depth, 8)));
  return item;
}

export function drawTraceDiagram(events, options = {}) {
  const hidden = options.hidden || new Set();
  const byId = new Map(events.map((event) => [event.id, event]));
  const shown = events.filter((event) => !hidden.has(event.signal));
  const total = Math.max(
    0,
    ...events.map((event) =>
      isNumber(event.start_ms) && isNumber(event.duration_ms) ? event.start_ms + event.duration_ms : 0,
    ),
  );
  const timed = total > 0;

  // Children of each (event, receiver index); top-level events in order.
  const children = new Map();
  const roots = [];
  for (const event of shown) {
    let parent = byId.get(event.parent);
    while (parent && hidden.has(parent.signal)) parent = byId.get(parent.parent);
    if (!parent) {
      roots.push(event);
      continue;
    }
    const key = `${parent.id}:${causingReceiver(parent, event)}`;
    if (!children.has(key)) children.set(key, []);
    children.get(key).push(event);
  }

  const figure = el("div", "trace-diagram");
  figure.classList.toggle("trace-timed", timed);
  const list = el("ol", "trace-rows");
  figure.setAttribute("role", "img");
  const count = shown.filter((event) => (event.kind || "send") === "send").length;
  figure.setAttribute(
    "aria-label",
    `Diagram of ${count} signal send${count === 1 ? "" : "s"}; the list below gives the same in text.`,
  );

  function drawEvent(event, depth) {
    const kind = event.kind || "send";
    if (kind === "commit") {
      const item = row("trace-commit", depth);
      const label = el("span", "trace-label");
      label.append(el("span", "trace-commit-mark", "COMMIT"), document.createTextNode(" transaction committed"));
      if (event.sender) label.append(document.createTextNode(` (${event.sender})`));
      item.append(label, el("span", "trace-time", ms(event.duration_ms)), timeBar(event.start_ms, event.duration_ms, total));
      list.append(item);
      return;
    }
    const item = row(kind === "on_commit" ? "trace-event trace-on-commit" : "trace-event", depth);
    const label = el("span", "trace-label");
    if (kind === "on_commit") {
      label.append(el("span", "trace-kind", "on_commit"), document.createTextNode(" callback"));
      const origin = byId.get(event.registered_in);
      if (origin) label.append(el("span", "trace-note", ` registered during ${origin.signal} #${origin.id}`));
    } else {
      label.append(el("span", "trace-sender", event.sender), el("span", "trace-arrow", " → "));
      label.append(el("code", "trace-signal", event.signal));
      if (event.method && event.method !== "send") label.append(el("span", "trace-method", ` ${event.method}`));
      label.append(el("span", "trace-id", ` #${event.id}`));
    }
    item.append(label, el("span", "trace-time", ms(event.duration_ms)), timeBar(event.start_ms, event.duration_ms, total));
    list.append(item);

    const receivers = event.receivers || [];
    if (!receivers.length && kind === "send") {
      const none = row("trace-receiver trace-none", depth + 1);
      none.append(el("span", "trace-label", "no receiver"));
      list.append(none);
    }
    let start = event.start_ms;
    receivers.forEach((receiver, index) => {
      const failed = "error" in receiver;
      const line = row(failed ? "trace-receiver trace-raised" : "trace-receiver", depth + 1);
      const text = el("span", "trace-label");
      text.append(el("code", "trace-receiver-name", receiver.name));
      text.append(el("span", "trace-outcome", failed ? " raised " : " returned "));
      text.append(el("code", "trace-value", failed ? receiver.error : receiver.result));
      line.append(text, el("span", "trace-time", ms(receiver.duration_ms)), timeBar(start, receiver.duration_ms, total));
      list.append(line);
      if (isNumber(start) && isNumber(receiver.duration_ms)) start += receiver.duration_ms;
      for (const child of children.get(`${event.id}:${index}`) || []) drawEvent(child, depth + 2);
    });
    for (const child of children.get(`${event.id}:-1`) || []) drawEvent(child, depth + 1);
  }

  for (const event of roots) drawEvent(event, 0);
  if (!roots.length) list.append(el("li", "trace-row trace-none", "No signal was sent."));

  const legend = el("p", "trace-legend");
  legend.textContent = timed
    ? `Time runs left to right across ${ms(total)}; receivers run in the order shown, sends made by a receiver are indented under it.`
    : "Receivers run in the order shown; sends made by a receiver are indented under it.";
  const wrapper = el("div", "trace-diagram-wrap");
  figure.append(list);
  wrapper.append(figure, legend);
  return wrapper;
}
