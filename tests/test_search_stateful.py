"""Random sequences of create / edit / publish / unpublish / delete / rolled-back
changes, committed for real, checking after each step that the index kept current by
the receivers equals a fresh rebuild from the Tutorial table."""

from __future__ import annotations

import pytest
from django.db import transaction
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from tests.factories import make_section, make_tutorial
from tutorials import search
from tutorials.models import Section, Tutorial

VOCABULARY = [
    "signal", "signals", "receiver", "sender", "commit", "rollback", "cache", "profile",
    "user", "saving", "delete", "dispatch_uid", "async", "post_save", "<b>", "naïve", "日本",
    "x&y", '"quoted"',
]  # fmt: skip
text = st.lists(st.sampled_from(VOCABULARY), max_size=6).map(" ".join)
titles = st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=4).map(" ".join)
bodies = st.lists(st.tuples(st.sampled_from(["", "## ", "### "]), text), max_size=5).map(
    lambda parts: "\n\n".join(f"{prefix}{words}" for prefix, words in parts)
)


class Rollback(Exception):
    pass


class IndexMachine(RuleBasedStateMachine):
    lessons = Bundle("lessons")

    def __init__(self) -> None:
        super().__init__()
        self.section = make_section()

    def _get(self, pk: int) -> Tutorial | None:
        return Tutorial.objects.filter(pk=pk).first()

    @rule(target=lessons, title=titles, body=bodies, published=st.booleans())
    def create(self, title, body, published):
        return make_tutorial(
            section=self.section, title=title, body_markdown=body, published=published
        ).pk

    @rule(pk=lessons, title=titles, body=bodies)
    def edit(self, pk, title, body):
        if tutorial := self._get(pk):
            tutorial.title, tutorial.body_markdown = title, body
            tutorial.save()

    @rule(pk=lessons, published=st.booleans())
    def publish_or_unpublish(self, pk, published):
        if tutorial := self._get(pk):
            tutorial.published = published
            tutorial.save()

    @rule(pk=lessons)
    def delete(self, pk):
        if tutorial := self._get(pk):
            tutorial.delete()

    @rule(pk=lessons, body=bodies, delete=st.booleans())
    def rolled_back_change(self, pk, body, delete):
        tutorial = self._get(pk)
        if tutorial is None:
            return
        try:
            with transaction.atomic():
                if delete:
                    tutorial.delete()
                else:
                    tutorial.body_markdown, tutorial.published = body, not tutorial.published
                    tutorial.save()
                raise Rollback
        except Rollback:
            pass

    @invariant()
    def index_equals_a_fresh_rebuild(self):
        current = search.snapshot()
        with transaction.atomic():
            search.rebuild()
            fresh = search.snapshot()
            transaction.set_rollback(True)  # keep the index the receivers made
        assert current == fresh

    @invariant()
    def exactly_the_published_lessons_are_indexed(self):
        published = set(Tutorial.objects.published().values_list("pk", flat=True))
        assert search.backend().indexed_ids() == published

    def teardown(self) -> None:
        Tutorial.objects.all().delete()
        Section.objects.all().delete()
        search.backend().replace_all([])


@pytest.mark.django_db(transaction=True)
def test_the_index_kept_by_the_receivers_always_equals_a_fresh_rebuild():
    search.backend().replace_all([])
    IndexMachine.TestCase.settings = settings(
        max_examples=25, stateful_step_count=12, deadline=None
    )
    IndexMachine.TestCase().runTest()
