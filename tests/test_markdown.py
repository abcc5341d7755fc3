"""Rendering lesson Markdown: highlighting, anchors, sanitizing, samples, links."""

import django

from tutorials.markdown import render


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
