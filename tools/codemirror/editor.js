// The code editor bundle (static/vendor/codemirror/editor.min.js), loaded on demand by
// static/js/editor-loader.js. CodeMirror 6 with Python: highlighting that reuses the
// Pygments class names (so static/css/pygments.css colours it in both themes, exactly
// like the read-only code), auto-indent, bracket matching and closing, undo history,
// line numbers, Tab to indent (Esc then Tab leaves), Ctrl/Cmd+Enter to run, and a
// marked line for errors.

import { closeBrackets, closeBracketsKeymap } from "@codemirror/autocomplete";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { python } from "@codemirror/lang-python";
import { bracketMatching, indentOnInput, indentUnit, syntaxHighlighting } from "@codemirror/language";
import { EditorState, StateEffect, StateField } from "@codemirror/state";
import {
  Decoration,
  EditorView,
  drawSelection,
  highlightActiveLineGutter,
  highlightSpecialChars,
  keymap,
  lineNumbers,
} from "@codemirror/view";
import { tagHighlighter, tags as t } from "@lezer/highlight";

// Lezer's highlighting tags -> Pygments' short token classes (PythonLexer's choices).
const pygments = tagHighlighter([
  { tag: [t.keyword, t.controlKeyword, t.definitionKeyword], class: "k" },
  { tag: t.moduleKeyword, class: "kn" },
  { tag: t.operatorKeyword, class: "ow" },
  { tag: [t.bool, t.null], class: "kc" },
  { tag: t.self, class: "bp" },
  { tag: [t.string, t.special(t.string)], class: "s2" },
  { tag: t.escape, class: "se" },
  { tag: t.docString, class: "sd" },
  { tag: [t.comment, t.lineComment], class: "c1" },
  { tag: t.number, class: "mi" },
  { tag: [t.operator, t.compareOperator, t.arithmeticOperator, t.logicOperator, t.bitwiseOperator, t.updateOperator], class: "o" },
  { tag: [t.punctuation, t.paren, t.brace, t.squareBracket, t.separator, t.derefOperator], class: "p" },
  { tag: t.function(t.definition(t.variableName)), class: "nf" },
  { tag: t.definition(t.className), class: "nc" },
  { tag: t.meta, class: "nd" },
  { tag: t.standard(t.variableName), class: "nb" },
  { tag: t.invalid, class: "err" },
]);

// The marked (failing) line: set by markLine(n), cleared by markLine(null) or any edit.
const setMarkedLine = StateEffect.define();
const markedLine = StateField.define({
  create: () => Decoration.none,
  update(marks, transaction) {
    if (transaction.docChanged) marks = Decoration.none;
    for (const effect of transaction.effects) {
      if (!effect.is(setMarkedLine)) continue;
      const number = effect.value;
      if (!number || number < 1 || number > transaction.state.doc.lines) return Decoration.none;
      const line = transaction.state.doc.line(number);
      marks = Decoration.set([Decoration.line({ class: "cm-marked-line" }).range(line.from)]);
    }
    return marks;
  },
  provide: (field) => EditorView.decorations.from(field),
});

/**
 * Create an editor in `parent`.
 *
 * options: doc (text), label (accessible name), describedBy (id of a hint), onRun()
 * (Ctrl/Cmd+Enter), onChange(text). Returns {view, getValue, setValue, markLine, focus}.
 */
export function createEditor(parent, options) {
  const runKey = {
    key: "Mod-Enter",
    preventDefault: true,
    run: () => {
      options.onRun?.();
      return true;
    },
  };
  const attributes = {
    "aria-label": options.label,
    "aria-roledescription": "code editor",
  };
  if (options.describedBy) attributes["aria-describedby"] = options.describedBy;
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: options.doc || "",
      extensions: [
        lineNumbers(),
        highlightActiveLineGutter(),
        highlightSpecialChars(),
        history(),
        drawSelection(),
        indentOnInput(),
        indentUnit.of("    "),
        bracketMatching(),
        closeBrackets(),
        python(),
        syntaxHighlighting(pygments),
        markedLine,
        keymap.of([runKey, ...closeBracketsKeymap, ...defaultKeymap, ...historyKeymap, indentWithTab]),
        EditorView.contentAttributes.of(attributes),
        EditorView.updateListener.of((update) => {
          if (update.docChanged) options.onChange?.(update.state.doc.toString());
        }),
      ],
    }),
  });
  return {
    view,
    getValue: () => view.state.doc.toString(),
    setValue(text) {
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
    },
    markLine(number) {
      const effects = setMarkedLine.of(number || null);
      if (number && number >= 1 && number <= view.state.doc.lines) {
        const line = view.state.doc.line(number);
        view.dispatch({ effects: [effects, EditorView.scrollIntoView(line.from, { y: "nearest" })] });
      } else {
        view.dispatch({ effects });
      }
    },
    focus: () => view.focus(),
  };
}
