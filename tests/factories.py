"""Test data builders. Each call makes a new, valid object with unique slugs."""

from __future__ import annotations

import itertools
from typing import Any

from tutorials.models import Section, Tutorial

_counter = itertools.count(1)


def make_section(**fields: Any) -> Section:
    n = next(_counter)
    fields.setdefault("title", f"Section {n}")
    fields.setdefault("slug", f"section-{n}")
    fields.setdefault("order", n)
    return Section.objects.create(**fields)


def make_tutorial(section: Section | None = None, **fields: Any) -> Tutorial:
    n = next(_counter)
    fields.setdefault("title", f"Lesson {n}")
    fields.setdefault("slug", f"lesson-{n}")
    fields.setdefault("order", n)
    fields.setdefault("summary", f"What lesson {n} teaches.")
    fields.setdefault("body_markdown", f"## Part one\n\nText of lesson {n}.\n")
    return Tutorial.objects.create(section=section or make_section(), **fields)
