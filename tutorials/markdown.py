"""
Lesson Markdown to sanitized HTML.

Pure functions: ``render(text, resolve_link)`` returns the HTML body, the table of
contents and a few facts about the text. It is called when a lesson is saved, never
while serving a page. Everything it returns has gone through nh3, so a lesson's raw
HTML or ``javascript:`` links cannot inject script, while Pygments markup, tables,
admonitions, heading anchors and runnable samples survive.
"""

from __future__ import annotations

import html
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import django
import markdown
import nh3
from markdown.extensions import Extension
from markdown.preprocessors import Preprocessor
from markdown.treeprocessors import Treeprocessor
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

from .fences import (
    ExerciseBlock,
    exercise_blocks,
    fences,
    is_secret_info,
    parse_prediction,
    runnable_blocks,
)

WORDS_PER_MINUTE = 200  # a comfortable reading pace for technical prose

# A link resolver maps a relative ``.md`` path (as written in the lesson) to the
# lesson's URL, or returns None when no such lesson exists.
LinkResolver = Callable[[str], str | None]

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "div", "dl",
    "dt", "em", "figcaption", "figure", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img",
    "ins", "kbd", "li", "mark", "ol", "p", "pre", "s", "small", "span", "strong", "sub",
    "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "*": {"class", "id", "title"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height", "loading"},
    "th": {"align"},
    "td": {"align"},
    "div": {"data-runnable", "data-exercise", "data-prediction"},
    "ol": {"start"},
}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}


@dataclass
class Rendered:
    """The result of rendering one lesson."""

    html: str
    toc: list[dict[str, Any]] = field(default_factory=list)
    reading_minutes: int = 1
    broken_links: list[str] = field(default_factory=list)


def _formatter() -> HtmlFormatter:
    return HtmlFormatter(cssclass="highlight", wrapcode=True)


def _runnable_html(code: str, expected: str | None) -> str:
    """HTML for a ``python run`` sample: highlighted code, expected output, version."""
    parts = [
        '<div class="runnable" data-runnable>',
        '<div class="runnable-code">',
        highlight(code, PythonLexer(), _formatter()),
        "</div>",
    ]
    if expected is not None:
        parts += [
            '<div class="runnable-expected"><p class="runnable-label">Expected output</p>',
            f"<pre><code>{html.escape(expected)}</code></pre></div>",
        ]
    parts.append(f'<p class="runnable-verified">Verified with Django {django.get_version()}</p>')
    parts.append("</div>")
    return "".join(parts)


def _hint_html(hint: str) -> str:
    return markdown.markdown(
        hint,
        extensions=["fenced_code", "codehilite"],
        extension_configs={"codehilite": {"css_class": "highlight", "guess_lang": False}},
    )


def _exercise_html(block: ExerciseBlock) -> str:
    """
    A "write the code" exercise: its starter code and hint, readable without
    JavaScript (the hint in a closed <details>); exercises.js adds the editor and
    the Check button. The check and solution blocks are never part of the page.
    """
    usable = block.id is not None and not block.problems
    attribute = f' data-exercise="{block.id}"' if usable else ""
    parts = [
        f'<div class="exercise"{attribute}>',
        '<p class="exercise-label">Your code</p>',
        '<div class="exercise-code">',
        highlight(block.starter or "\n", PythonLexer(), _formatter()),
        "</div>",
    ]
    if block.hint is not None:
        parts += [
            '<details class="exercise-hint"><summary>Show hint</summary>',
            f'<div class="exercise-hint-body">{_hint_html(block.hint)}</div></details>',
        ]
    if usable:
        parts.append(
            '<p class="exercise-offline">Copy the code into a project to try it, or turn on '
            "JavaScript to check it here.</p>"
        )
    else:
        parts.append('<p class="exercise-broken">This exercise cannot be checked yet.</p>')
    parts.append("</div>")
    return "".join(parts)


def _prediction_html(code: str, expected: str, predict: str, number: int) -> str:
    """
    A "predict the output" sample: the code, the question and the choices; the
    expected output waits in a closed <details> (exercises.js asks first, then runs).
    """
    try:
        prediction = parse_prediction(predict, number)
    except ValueError:
        return _runnable_html(code, expected)
    parts = [
        f'<div class="prediction" data-prediction="{prediction.id}">',
        '<p class="exercise-label">Predict the output</p>',
        '<div class="prediction-code">',
        highlight(code, PythonLexer(), _formatter()),
        "</div>",
        f'<p class="prediction-question">{html.escape(prediction.question)}</p>',
    ]
    if prediction.choices:
        parts.append('<ul class="prediction-choices">')
        parts += [f"<li><code>{html.escape(c)}</code></li>" for c in prediction.choices]
        parts.append("</ul>")
    parts += [
        '<details class="prediction-answer"><summary>Show the answer</summary>',
        f"<pre><code>{html.escape(expected)}</code></pre></details>",
        f'<p class="runnable-verified">Verified with Django {django.get_version()}</p>',
        "</div>",
    ]
    return "".join(parts)


class RunnableSamplePreprocessor(Preprocessor):
    """Turn ```` ```python run ```` (+ an optional ```` ```output ```` block) into HTML,
    and exercises and prediction questions too.

    Runs before the standard fenced-code extension, which handles every other fence.
    Which blocks are samples and exercises is decided by ``fences.py``, the parser the
    runner's sample check and the exercise store use too. A check or solution fence
    that belongs to no exercise is dropped, never shown.
    """

    def run(self, lines: list[str]) -> list[str]:
        replacements: list[tuple[int, int, str]] = []
        predictions = 0
        for block in runnable_blocks(lines):
            if block.predict is not None and block.expected_output is not None:
                predictions += 1
                html = _prediction_html(
                    block.code, block.expected_output, block.predict, predictions
                )
            else:
                html = _runnable_html(block.code, block.expected_output)
            replacements.append((block.start, block.end, html))
        for block in exercise_blocks(lines):
            replacements.append((block.start, block.end, _exercise_html(block)))
        claimed = [(start, end) for start, end, _ in replacements]
        for fence in fences(lines):
            stray = is_secret_info(fence.info) or fence.info.split()[:1] in (["hint"], ["predict"])
            if stray and not any(start <= fence.start < end for start, end in claimed):
                replacements.append((fence.start, fence.end, ""))
        out: list[str] = []
        pos = 0
        for start, end, html in sorted(replacements):
            out += lines[pos:start]
            if html:
                out += ["", self.md.htmlStash.store(html), ""]
            pos = end
        return out + lines[pos:]


class LessonLinkTreeprocessor(Treeprocessor):
    """Rewrite relative links to ``.md`` files into lesson URLs."""

    def __init__(self, md: markdown.Markdown, resolve_link: LinkResolver | None) -> None:
        super().__init__(md)
        self.resolve_link = resolve_link
        self.broken: list[str] = []

    def run(self, root: Any) -> None:
        for element in root.iter("a"):
            href = element.get("href", "")
            path, _, anchor = href.partition("#")
            if "://" in path or not path.endswith(".md"):
                continue
            url = self.resolve_link(path) if self.resolve_link else None
            if url is None:
                self.broken.append(href)
                continue
            element.set("href", url + (f"#{anchor}" if anchor else ""))


class LessonExtension(Extension):
    def __init__(self, resolve_link: LinkResolver | None = None) -> None:
        super().__init__()
        self.resolve_link = resolve_link
        self.links: LessonLinkTreeprocessor | None = None

    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 (Markdown's API)
        md.preprocessors.register(RunnableSamplePreprocessor(md), "runnable_samples", 30)
        self.links = LessonLinkTreeprocessor(md, self.resolve_link)
        md.treeprocessors.register(self.links, "lesson_links", 5)


def sanitize(raw_html: str) -> str:
    """Strip everything that is not on the allow-list (scripts, handlers, bad URLs)."""
    return nh3.clean(
        raw_html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer",
    )


def _clean_toc(tokens: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"id": t["id"], "name": html.unescape(t["name"]), "children": _clean_toc(t["children"])}
        for t in tokens
    ]


def render(text: str, resolve_link: LinkResolver | None = None) -> Rendered:
    """Render lesson Markdown to sanitized HTML plus its table of contents."""
    extension = LessonExtension(resolve_link)
    md = markdown.Markdown(
        extensions=[
            extension,
            "fenced_code",
            "codehilite",
            "tables",
            "admonition",
            "def_list",
            "attr_list",
            "sane_lists",
            "toc",
        ],
        extension_configs={
            "codehilite": {"css_class": "highlight", "guess_lang": False, "wrapcode": True},
            "tables": {"use_align_attribute": True},
            "toc": {
                "permalink": "#",
                "permalink_title": "Link to this section",
                "toc_depth": "2-3",
            },
        },
        output_format="html",
    )
    body = md.convert(text)
    words = len(re.findall(r"\w+", text))
    return Rendered(
        html=sanitize(body),
        toc=_clean_toc(md.toc_tokens),
        reading_minutes=max(1, round(words / WORDS_PER_MINUTE)),
        broken_links=list(extension.links.broken if extension.links else []),
    )


def resolve_relative(base_path: str, href: str) -> str:
    """Join a lesson's own path (``section/lesson.md``) with a relative link."""
    return posixpath.normpath(posixpath.join(posixpath.dirname(base_path), href))
