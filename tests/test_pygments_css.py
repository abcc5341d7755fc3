"""static/css/pygments.css: generated, scoped per colour mode, WCAG AA on its background."""

from __future__ import annotations

from tools import pygments_css


def test_stylesheet_on_disk_is_the_generated_one():
    on_disk = pygments_css.OUTPUT.read_text(encoding="utf-8")

    assert on_disk == pygments_css.stylesheet(), "run `make pygments-css`"


def test_chosen_styles_have_every_token_at_aa_contrast():
    assert pygments_css.low_contrast_tokens(pygments_css.LIGHT_STYLE) == []
    assert pygments_css.low_contrast_tokens(pygments_css.DARK_STYLE) == []


def test_a_style_under_aa_contrast_is_refused():
    failures = pygments_css.low_contrast_tokens("solarized-light")

    assert failures
    assert all("solarized-light" in line for line in failures)


def test_rules_are_scoped_to_their_colour_mode_only():
    css = pygments_css.stylesheet()
    rules = [line for line in css.splitlines() if "{" in line]

    assert rules
    assert all(
        line.startswith(('[data-bs-theme="light"] .highlight', '[data-bs-theme="dark"] .highlight'))
        for line in rules
    )
    assert '[data-bs-theme="dark"] .highlight { background: #0d1117' in css


def test_contrast_matches_the_wcag_formula():
    assert round(pygments_css.contrast("#000000", "#ffffff"), 2) == 21.0
    assert round(pygments_css.contrast("#777777", "#ffffff"), 2) == 4.48
