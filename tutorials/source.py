"""The site's own source files, highlighted for the lesson that explains them."""

from functools import cache
from pathlib import Path

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

# Only these files are shown: a fixed allow-list, never a path from the request.
SOURCES = {"signals": Path(__file__).with_name("signals.py")}


@cache
def highlighted_source(name: str) -> dict[str, str]:
    path = SOURCES[name]
    code = path.read_text(encoding="utf-8")
    formatter = HtmlFormatter(cssclass="highlight", wrapcode=True, linenos=False)
    return {
        "filename": f"tutorials/{path.name}",
        "source_html": highlight(code, PythonLexer(), formatter),
    }
