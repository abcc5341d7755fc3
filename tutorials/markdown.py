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

from .fences import runnable_blocks

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
    "div": {"data-runnable"},
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


class RunnableSamplePreprocessor(Preprocessor):
    """Turn ```` ```python run ```` (+ an optional ```` ```output ```` block) into HTML.

    Runs before the standard fenced-code extension, which handles every other fence.
    Which blocks are samples is decided by ``fences.runnable_blocks``, the parser the
    runner's sample check uses too.
    """

    def run(self, lines: list[str]) -> list[str]:
        out: list[str] = []
        pos = 0
        for block in runnable_blocks(lines):
            out += lines[pos : block.start]
            html = _runnable_html(block.code, block.expected_output)
            out += ["", self.md.htmlStash.store(html), ""]
            pos = block.end
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
