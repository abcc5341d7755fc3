// The code editor, loaded only when needed. attachEditor() returns at once a handle
// backed by what is already on the page (a <textarea>, or the highlighted code of a
// runnable sample); the CodeMirror bundle (static/vendor/codemirror/, ~125 KB
// compressed, `make codemirror`) is fetched on the learner's first focus, click or key
// in it, and then replaces that element. A lesson nobody edits never downloads it.
//
//   const editor = attachEditor(element, {label, onRun, onChange, describedBy, value});
//   editor.getValue(); editor.setValue(text); editor.markLine(n); editor.focus();
//   editor.load() -> Promise (resolves when the real editor is in place)
//
// Keys: Tab indents; Esc then Tab moves focus on (so keyboard users are never
// trapped); Ctrl/Cmd+Enter calls onRun.

let bundle = null;

/** The editor bundle (one request, cached immutably under its hashed name). */
export function loadEditorBundle() {
  bundle = bundle || import("../vendor/codemirror/editor.min.js");
  return bundle;
}

// The offset in `element`'s text under the pointer, so a click lands the cursor there.
function offsetAt(element, event) {
  let node = null;
  let offset = 0;
  if (document.caretPositionFromPoint) {
    const position = document.caretPositionFromPoint(event.clientX, event.clientY);
    if (position) ({ offsetNode: node, offset } = position);
  } else if (document.caretRangeFromPoint) {
    const range = document.caretRangeFromPoint(event.clientX, event.clientY);
    if (range) ({ startContainer: node, startOffset: offset } = range);
  }
  if (!node || !element.contains(node)) return null;
  const range = document.createRange();
  range.setStart(element, 0);
  range.setEnd(node, offset);
  return range.toString().length;
}

export function attachEditor(source, options = {}) {
  const isField = source instanceof HTMLTextAreaElement;
  let text = options.value ?? (isField ? source.value : source.textContent.replace(/\n$/, ""));
  let editor = null;
  let loading = null;
  let marked = null;
  let cursor = null;

  const host = document.createElement("div");
  host.className = "code-editor highlight";
  host.hidden = true;
  source.after(host);

  if (!isField) {
    // Until the bundle arrives the highlighted code stands in for the editor: same
    // name, same place in the tab order.
    source.tabIndex = 0;
    delete source.dataset.scrollFocus; // site.js must not take this tabindex away
    source.setAttribute("role", "textbox");
    source.setAttribute("aria-multiline", "true");
    source.setAttribute("aria-roledescription", "code editor");
    if (options.label) source.setAttribute("aria-label", options.label);
    if (options.describedBy) source.setAttribute("aria-describedby", options.describedBy);
    source.classList.add("code-editor-standin");
  }

  function load(focus = false) {
    loading =
      loading ||
      loadEditorBundle().then((module) => {
        if (isField) text = source.value;
        editor = module.createEditor(host, {
          doc: text,
          label: options.label,
          describedBy: options.describedBy,
          onRun: options.onRun,
          onChange(value) {
            text = value;
            if (isField) source.value = value;
            options.onChange?.(value);
          },
        });
        const hadFocus = source.contains(document.activeElement);
        host.hidden = false;
        source.hidden = true;
        source.classList.add("code-editor-replaced");
        if (marked) editor.markLine(marked);
        if (hadFocus || focus) {
          editor.focus();
          if (cursor !== null && cursor <= text.length) {
            editor.view.dispatch({ selection: { anchor: cursor } });
          }
        }
        return editor;
      });
    return loading;
  }

  source.addEventListener("pointerdown", (event) => {
    if (!isField) cursor = offsetAt(source, event);
    load(true);
  });
  source.addEventListener("focus", () => load(true));
  source.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      options.onRun?.();
    }
  });
  if (isField) {
    source.addEventListener("input", () => {
      text = source.value;
      options.onChange?.(text);
    });
  }

  return {
    host,
    load,
    get loaded() {
      return editor !== null;
    },
    getValue: () => (editor ? editor.getValue() : isField ? source.value : text),
    setValue(value) {
      text = value;
      if (isField) source.value = value;
      if (editor) editor.setValue(value);
    },
    markLine(number) {
      marked = number || null;
      if (editor) editor.markLine(marked);
      else if (marked) load(false);
    },
    focus() {
      if (editor) editor.focus();
      else load(true);
    },
  };
}
