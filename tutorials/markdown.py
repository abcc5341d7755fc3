"""
Lesson Markdown to sanitized HTML.

Pure functions: ``render(text, resolve_link)`` returns the HTML body, the table of
contents and a few facts about the text. It is called when a lesson is saved, never
while serving a page. Everything it returns has gone through nh3, so a lesson's raw
HTML or ``javascript:`` links cannot inject script, while Pygments markup, tables,
admonitions, heading anchors and runnable samples survive.

It is also the one link parser: the links it finds (``Rendered.links`` and
``Rendered.broken_links``) are what the content check reports and what the link
table records, so a link in code is never a link and a reference-style link always
is. A text that is too deep or too big to render in bounded time raises
``RenderError`` (with its line) instead of running for minutes or overflowing the stack.
"""

from __future__ import annotations

import html
import posixpath
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import Element

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

# Bounds that keep one hostile file from stalling a sync or the development server:
# Python-Markdown recurses once per nesting level (a list nested 1,000 deep runs for
# half a minute, then overflows the stack) and backtracks on deep brackets.
MAX_TEXT_LENGTH = 300_000  # characters; the longest lesson today is ~15,000
MAX_NESTING = 20  # list / block quote levels; lessons use three at most
MAX_INLINE_NESTING = 32  # unclosed ( and [ on one line, outside code
RENDER_TIME_LIMIT = 2.0  # seconds, enforced where a timer signal can be used

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


class RenderError(Exception):
    """The text cannot be rendered within the bounds above (or Markdown failed on it)."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line  # 1-based line of the text, when known


@dataclass
class Rendered:
    """The result of rendering one lesson.

    ``links`` are the relative ``.md`` links that resolved (as written, without
    the anchor) and ``link_urls`` what each resolved to; ``broken_links`` are those
    that did not, each rendered as plain text.
    """

    html: str
    toc: list[dict[str, Any]] = field(default_factory=list)
    reading_minutes: int = 1
    links: list[str] = field(default_factory=list)
    link_urls: dict[str, str] = field(default_factory=dict)
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


def is_lesson_link(href: str) -> bool:
    """A relative link to another lesson's file (``other.md``, ``../s/x.md#part``)."""
    path = href.partition("#")[0]
    return path.endswith(".md") and ":" not in path and not path.startswith("/")


class LessonLinkTreeprocessor(Treeprocessor):
    """Rewrite relative links to ``.md`` files into lesson URLs.

    It sees the parsed tree, so inline and reference-style links alike, and never a
    link-like text inside code. A link that does not resolve becomes a plain
    ``<span>``: a learner never follows a link to a missing or draft lesson.
    """

    def __init__(self, md: markdown.Markdown, resolve_link: LinkResolver | None) -> None:
        super().__init__(md)
        self.resolve_link = resolve_link
        self.links: list[str] = []
        self.urls: dict[str, str] = {}
        self.broken: list[str] = []

    def run(self, root: Element) -> None:
        for element in root.iter("a"):
            href = element.get("href", "")
            if not is_lesson_link(href):
                continue
            path, _, anchor = href.partition("#")
            url = self.resolve_link(path) if self.resolve_link else None
            if url is None:
                self.broken.append(href)
                element.tag = "span"
                element.attrib.clear()
                element.set("class", "broken-link")
                continue
            self.links.append(path)
            self.urls[path] = url
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


def check_bounds(text: str) -> None:
    """Raise ``RenderError`` for a text too big or too deeply nested to render safely.

    Lines inside fenced code are not Markdown and are not counted.
    """
    if len(text) > MAX_TEXT_LENGTH:
        raise RenderError(f"too long: {len(text):,} characters (at most {MAX_TEXT_LENGTH:,})")
    for number, depth, inline, _length in _nesting(text):
        if depth > MAX_NESTING:
            raise RenderError(
                f"nested {depth} levels deep (lists or quotes; at most {MAX_NESTING})", number
            )
        if inline > MAX_INLINE_NESTING:
            raise RenderError(
                f"{inline} brackets open at once (at most {MAX_INLINE_NESTING})", number
            )


def _nesting(text: str) -> Iterator[tuple[int, int, int, int]]:
    """(line number, block depth, bracket depth, length) of each Markdown line outside code."""
    lines = text.splitlines()
    in_code = set()
    for fence in fences(lines):
        in_code.update(range(fence.start, fence.end))
    for number, line in enumerate(lines, 1):
        if number - 1 in in_code or not line.strip():
            continue
        expanded = line.expandtabs(4)
        stripped = expanded.lstrip(" ")
        markers = len(_BLOCK_MARKER.findall(_BLOCK_MARKERS.match(stripped)[0]))
        depth = (len(expanded) - len(stripped)) // 4 + markers
        yield number, depth, _inline_depth(re.sub(r"`[^`]*`", "", line)), len(line)


def _deepest_line(text: str) -> int | None:
    """The line nested deepest (else the longest): where a recursion error most likely
    comes from."""
    deepest = max(_nesting(text), key=lambda item: (item[1] + item[2], item[3]), default=None)
    return deepest[0] if deepest else None


# Block quote and list markers at the start of a line: each opens one more level.
_BLOCK_MARKER = re.compile(r">|(?:[-*+]|\d{1,9}[.)])(?=\s|$)")
_BLOCK_MARKERS = re.compile(r"(?:(?:>|(?:[-*+]|\d{1,9}[.)])(?=\s|$))\s*)*")


def _inline_depth(line: str) -> int:
    depth = deepest = 0
    for char in line:
        if char in "([":
            depth += 1
            deepest = max(deepest, depth)
        elif char in ")]" and depth:
            depth -= 1
    return deepest


class _Timeout(BaseException):
    """Raised by the timer inside Markdown; BaseException so no ``except Exception`` eats it."""


@contextmanager
def _time_limit(seconds: float):
    """Interrupt the block after ``seconds`` where a timer signal can be used (the main
    thread: sync_content, the development server's reloader, a gunicorn worker)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(
        signal, "setitimer"
    ):
        yield
        return

    def interrupt(signum, frame):
        raise _Timeout

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def render(text: str, resolve_link: LinkResolver | None = None) -> Rendered:
    """Render lesson Markdown to sanitized HTML plus its table of contents.

    Raises ``RenderError`` when the text is out of bounds, Markdown fails on it
    (a ``RecursionError`` included) or it takes longer than ``RENDER_TIME_LIMIT``.
    """
    check_bounds(text)
    started = time.monotonic()
    try:
        with _time_limit(RENDER_TIME_LIMIT):
            return _render(text, resolve_link)
    except _Timeout:
        raise RenderError(f"took longer than {RENDER_TIME_LIMIT:g} s to render") from None
    except RecursionError:
        raise RenderError("nested too deeply to render", _deepest_line(text)) from None
    except RenderError:
        raise
    except Exception as exc:
        elapsed = time.monotonic() - started
        raise RenderError(
            f"cannot be rendered ({type(exc).__name__}: {exc}; after {elapsed:.1f} s)"
        ) from exc


def _render(text: str, resolve_link: LinkResolver | None) -> Rendered:
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
        links=list(extension.links.links if extension.links else []),
        link_urls=dict(extension.links.urls if extension.links else {}),
        broken_links=list(extension.links.broken if extension.links else []),
    )


def resolve_relative(base_path: str, href: str) -> str:
    """Join a lesson's own path (``section/lesson.md``) with a relative link."""
    return posixpath.normpath(posixpath.join(posixpath.dirname(base_path), href))
