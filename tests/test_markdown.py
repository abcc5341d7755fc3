"""Rendering lesson Markdown: highlighting, anchors, sanitizing, samples, links."""

import time

import django
import pytest

from tutorials.markdown import RenderError, render


def test_python_code_is_highlighted_by_pygments():
    html = render("```python\nfrom django.dispatch import Signal\n```\n").html
    assert '<div class="highlight">' in html
    assert '<span class="kn">from</span>' in html


def test_headings_get_linkable_anchors_and_a_toc():
    result = render("## Connecting receivers\n\ntext\n\n### With a decorator\n")
    assert '<h2 id="connecting-receivers">' in result.html
    assert 'href="#connecting-receivers"' in result.html
    assert result.toc == [
        {
            "id": "connecting-receivers",
            "name": "Connecting receivers",
            "children": [{"id": "with-a-decorator", "name": "With a decorator", "children": []}],
        }
    ]


def test_tables_render_with_alignment_but_no_inline_style():
    html = render("| a | b |\n|:--|--:|\n| 1 | 2 |\n").html
    assert "<table>" in html
    assert '<td align="right">2</td>' in html
    assert "style=" not in html


def test_admonitions_render_as_styled_blocks():
    html = render('!!! warning "Careful"\n    Receivers run synchronously.\n').html
    assert '<div class="admonition warning">' in html
    assert '<p class="admonition-title">Careful</p>' in html


def test_raw_script_tags_are_removed():
    html = render("Hello <script>alert(1)</script> world\n").html
    assert "<script" not in html
    assert "alert(1)" not in html


def test_javascript_links_are_neutralised():
    html = render("[click](javascript:alert(1))\n").html
    assert "javascript:" not in html


def test_event_handler_attributes_are_stripped():
    html = render(
        '<img src="x.png" onerror="alert(1)">\n\n<a href="/x" onclick="evil()">x</a>\n'
    ).html
    assert "onerror" not in html
    assert "onclick" not in html
    assert "<img" in html


def test_iframes_styles_and_forms_are_stripped():
    html = render(
        '<iframe src="https://evil.example"></iframe><style>body{}</style>'
        '<form action="/x"><input name="a"></form><p style="color:red">hi</p>\n'
    ).html
    for bad in ("<iframe", "<style", "<form", "<input", "style="):
        assert bad not in html


def test_attr_list_cannot_add_event_handlers():
    html = render('## Title {: onclick="alert(1)" }\n').html
    assert "onclick" not in html


def test_runnable_sample_renders_code_expected_output_and_version():
    text = "```python run\nprint('hi')\n```\n\n```output\nhi <b>\n```\n"
    html = render(text).html
    assert '<div class="runnable" data-runnable="">' in html
    assert '<div class="runnable-code">' in html
    assert '<span class="nb">print</span>' in html
    assert "Expected output" in html
    assert "hi &lt;b&gt;" in html
    assert f"Verified with Django {django.get_version()}" in html


def test_runnable_sample_without_expected_output_has_no_output_block():
    html = render("```python run\nprint('hi')\n```\n\nAfter.\n").html
    assert "runnable-expected" not in html
    assert "<p>After.</p>" in html


def test_plain_code_next_to_a_runnable_sample_stays_plain():
    text = "```python\nx = 1\n```\n\n```python run\ny = 2\n```\n"
    html = render(text).html
    assert html.count("data-runnable") == 1
    assert html.count('class="highlight"') == 2


def test_md_links_are_resolved_to_lesson_urls():
    def resolve(href):
        return {"custom-signals.md": "/django-signals/custom-signals/"}.get(href)

    result = render("See [custom signals](custom-signals.md#send).\n", resolve)
    assert 'href="/django-signals/custom-signals/#send"' in result.html
    assert result.broken_links == []


def test_unresolvable_md_links_are_reported():
    result = render("See [gone](gone.md).\n", lambda href: None)
    assert result.broken_links == ["gone.md"]


def test_external_links_get_noopener():
    html = render("[docs](https://docs.djangoproject.com/)\n").html
    assert 'rel="noopener noreferrer"' in html


def test_reading_time_grows_with_length():
    assert render("word " * 100).reading_minutes == 1
    assert render("word " * 2000).reading_minutes == 10


def test_page_and_sample_check_agree_on_every_lesson_in_content():
    """The renderer and the runner's check share one parser: same samples, same outputs."""
    from django.conf import settings

    from tutorials.content import load
    from tutorials.runner.samples import extract_samples

    lessons = load(settings.CONTENT_DIR).lessons
    assert lessons
    for lesson in lessons:
        html = render(lesson.body).html
        samples = extract_samples(lesson.body)
        # A prediction question is a sample too, shown with its answer hidden.
        predictions = html.count('class="prediction"')
        assert html.count('class="runnable"') + predictions == len(samples), lesson.path
        with_output = [s for s in samples if s.expected_output is not None]
        shown = html.count('class="runnable-expected"') + predictions
        assert shown == len(with_output), lesson.path


# -- one link parser: the tree processor -----------------------------------------------------


def test_link_text_inside_code_is_not_a_link():
    text = "Write `[x](gone.md)`.\n\n```markdown\n[x](gone.md)\n```\n\n    [x](gone.md)\n"
    result = render(text, lambda href: None)
    assert result.links == [] and result.broken_links == []


def test_reference_style_links_are_resolved_and_recorded():
    def resolve(href):
        return {"custom.md": "/s/custom/"}.get(href)

    result = render("See [it][c] and [gone][g].\n\n[c]: custom.md#send\n[g]: gone.md\n", resolve)
    assert 'href="/s/custom/#send"' in result.html
    assert result.links == ["custom.md"]
    assert result.broken_links == ["gone.md"]


def test_an_unresolved_link_is_rendered_as_text_never_as_a_dead_href():
    html = render("See [gone](gone.md).\n", lambda href: None).html
    assert "gone.md" not in html
    assert '<span class="broken-link">gone</span>' in html


# -- bounded depth, size and time ------------------------------------------------------------

HOSTILE = {
    "nested list": "- " * 1000 + "x\n",
    "nested quote": ">" * 1000 + " x\n",
    "indented list": "".join("    " * depth + "- x\n" for depth in range(30)),
    "open brackets": "[" * 5000 + "x\n",
    "too long": "word " * 70_000,
}


@pytest.mark.parametrize("case", HOSTILE, ids=list(HOSTILE))
def test_hostile_text_is_refused_quickly_with_a_render_error(case):
    started = time.monotonic()
    with pytest.raises(RenderError):
        render(HOSTILE[case])
    assert time.monotonic() - started < 1.0


def test_nesting_error_names_the_line():
    with pytest.raises(RenderError) as error:
        render("Fine.\n\n" + "- " * 50 + "x\n")
    assert error.value.line == 3
    assert "nested 50 levels deep" in error.value.message


def test_deep_code_inside_a_fence_is_not_counted():
    code = "".join("    " * depth + "f(\n" for depth in range(40))
    assert "highlight" in render(f"```python\n{code}```\n").html


def test_recursion_error_inside_markdown_becomes_a_render_error(monkeypatch):
    def recurse(text, resolve_link):
        return recurse(text, resolve_link)

    monkeypatch.setattr("tutorials.markdown._render", recurse)
    with pytest.raises(RenderError, match="nested too deeply"):
        render("x\n")


def test_rendering_longer_than_the_time_limit_is_stopped(monkeypatch):
    monkeypatch.setattr("tutorials.markdown.RENDER_TIME_LIMIT", 0.2)

    def forever(text, resolve_link):
        while True:
            pass

    monkeypatch.setattr("tutorials.markdown._render", forever)
    started = time.monotonic()
    with pytest.raises(RenderError, match="took longer than 0.2 s"):
        render("x\n")
    assert time.monotonic() - started < 1.0


def test_a_real_recursion_error_in_markdown_names_the_deepest_line():
    # Not caught by the bounds: 5,000 nested emphasis markers overflow Python-Markdown.
    with pytest.raises(RenderError) as error:
        render("Fine.\n\n" + "*" * 5000 + "x" + "*" * 5000 + "\n")
    assert error.value.message == "nested too deeply to render"
    assert error.value.line == 3
