"""The built front-end files (``make codemirror``) match their sources and budgets.

The lesson page loads one script and one stylesheet bundled from the site's modules,
and the code editor is a vendored CodeMirror bundle: both are committed build output,
so these tests fail when a source changed without a rebuild, or a module was added to
base.html's scripts but not to the lesson bundle.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "tools" / "codemirror" / "bundle-sources.json"
EDITOR = ROOT / "static" / "vendor" / "codemirror" / "editor.min.js"
MAX_EDITOR_GZIP = 150 * 1024  # bytes


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_lesson_bundles_are_built_from_the_current_sources():
    recorded = json.loads(SOURCES.read_text(encoding="utf-8"))["sha256"]
    stale = [name for name, digest in recorded.items() if sha256(ROOT / name) != digest]
    assert stale == [], f"run `make codemirror`: {stale} changed since the last build"


def test_every_script_and_stylesheet_of_base_html_is_in_the_lesson_bundles():
    base = (ROOT / "templates" / "base.html").read_text(encoding="utf-8")
    block = lambda name: re.search(  # noqa: E731
        rf"{{% block {name} %}}(.*?){{% endblock %}}", base, re.S
    ).group(1)
    scripts = re.findall(r"static 'js/([\w.-]+\.js)'", block("site_js"))
    styles = re.findall(r"static 'css/([\w.-]+\.css)'", block("site_css"))
    bundles = json.loads(SOURCES.read_text(encoding="utf-8"))
    assert scripts and set(scripts) <= set(bundles["static/js/lesson.bundle.js"])
    assert styles and set(styles) <= set(bundles["static/css/lesson.bundle.css"])
    lesson = (ROOT / "templates" / "tutorials" / "lesson.html").read_text(encoding="utf-8")
    assert "js/lesson.bundle.js" in lesson and "css/lesson.bundle.css" in lesson


def test_lesson_page_loads_no_site_script_or_stylesheet_outside_the_bundles():
    """A module added to lesson.html costs requests (its imports too): bundle it instead.

    Add it to LESSON_JS / LESSON_CSS in tools/codemirror/build.mjs, run `make codemirror`.
    """
    lesson = (ROOT / "templates" / "tutorials" / "lesson.html").read_text(encoding="utf-8")
    loaded = re.findall(r"static '((?:js|css)/[\w.-]+)'", lesson)
    assert loaded == ["css/lesson.bundle.css", "js/lesson.bundle.js"]


def test_editor_bundle_is_the_built_one_self_contained_and_within_budget():
    build = (EDITOR.parent / "BUILD.txt").read_text(encoding="utf-8")
    assert f"editor.min.js sha256 {sha256(EDITOR)}" in build, "run `make codemirror`"
    code = EDITOR.read_text(encoding="utf-8")
    # One request, nothing more: no static or dynamic import of another file.
    assert not re.search(r"""(\bfrom\s*|\bimport\s*\(\s*)["'][./]""", code)
    assert code.rstrip().endswith("as createEditor};")  # an ES module exporting createEditor
    assert len(gzip.compress(EDITOR.read_bytes(), 9)) <= MAX_EDITOR_GZIP


def test_editor_is_fetched_lazily_by_a_dynamic_import_the_manifest_rewrites():
    loader = (ROOT / "static" / "js" / "editor-loader.js").read_text(encoding="utf-8")
    assert 'import("../vendor/codemirror/editor.min.js")' in loader
    bundle = (ROOT / "static" / "js" / "lesson.bundle.js").read_text(encoding="utf-8")
    assert 'import("../vendor/codemirror/editor.min.js")' in bundle
    assert "EditorView" not in bundle and "cm-content" not in bundle  # no CodeMirror in it
