"""What learner code can rely on inside the sandbox, and the signal trace it produces."""

from __future__ import annotations

import textwrap

import pytest

from tutorials.runner.limits import Limits
from tutorials.runner.process import run_cold
from tutorials.runner.testing import isolate


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path_factory):
    isolate(settings, tmp_path_factory.getbasetemp())


def run(code: str, **limits):
    return run_cold(textwrap.dedent(code), Limits(**limits) if limits else None)


def events(result, signal=None):
    return [e for e in result.trace if signal is None or e.signal == signal]


def test_stdout_and_stderr_are_merged_in_the_order_written():
    result = run(
        """
        import sys
        print("one")
        print("two", file=sys.stderr)
        print("three")
        """
    )
    assert result.text == "one\ntwo\nthree\n"
    assert [(c.stream, c.text) for c in result.output] == [
        ("stdout", "one\n"),
        ("stderr", "two\n"),
        ("stdout", "three\n"),
    ]
    assert result.exit_status == 0
    assert result.stopped is None


def test_uncaught_exception_prints_a_traceback_without_harness_frames():
    result = run(
        """
        def fail():
            raise ValueError("boom")
        print("before")
        fail()
        """
    )
    assert result.exit_status == 1
    assert result.text == (
        "before\n"
        "Traceback (most recent call last):\n"
        '  File "sample.py", line 5, in <module>\n'
        "    fail()\n"
        '  File "sample.py", line 3, in fail\n'
        '    raise ValueError("boom")\n'
        "ValueError: boom\n"
    )


def test_syntax_error_is_reported_like_python_does():
    result = run("print('ok'\n")
    assert result.exit_status == 1
    assert 'File "sample.py", line 1' in result.text
    assert "SyntaxError" in result.text
    assert "harness" not in result.text


def test_sys_exit_sets_the_exit_status():
    assert run("import sys\nsys.exit(3)").exit_status == 3
    assert run("import sys\nsys.exit()").exit_status == 0


def test_models_get_tables_without_migrations_including_relations():
    result = run(
        """
        from django.db import models
        from django.contrib.auth.models import User

        class Tag(models.Model):
            name = models.CharField(max_length=20)

        class Article(models.Model):
            title = models.CharField(max_length=100)
            author = models.ForeignKey(User, on_delete=models.CASCADE)
            tags = models.ManyToManyField(Tag)
            related = models.ManyToManyField("self")
            editor = models.ForeignKey("Editor", null=True, on_delete=models.SET_NULL)

        class Editor(models.Model):
            name = models.CharField(max_length=20)

        class Review(Article):
            stars = models.IntegerField(default=5)

        user = User.objects.create_user("ada", password="secret")
        article = Article.objects.create(title="Hi", author=user)
        article.tags.add(Tag.objects.create(name="django"))
        article.editor = Editor.objects.create(name="Bo")
        article.save()
        Review.objects.create(title="R", author=user, stars=4)
        print(Article._meta.label, Article.objects.count(), article.tags.count())
        print(user.check_password("secret"), Review.objects.get().stars)
        """
    )
    assert result.text == "playground.Article 2 1\nTrue 4\n", result.text


def test_on_commit_runs_when_the_outermost_atomic_block_commits():
    result = run(
        """
        from django.db import transaction
        transaction.on_commit(lambda: print("autocommit: at once"))
        with transaction.atomic():
            transaction.on_commit(lambda: print("outer"))
            with transaction.atomic():
                transaction.on_commit(lambda: print("inner"))
            print("still in the block")
        try:
            with transaction.atomic():
                transaction.on_commit(lambda: print("never"))
                raise RuntimeError
        except RuntimeError:
            print("rolled back")
        """
    )
    assert result.text == "autocommit: at once\nstill in the block\nouter\ninner\nrolled back\n"


def test_top_level_await_and_async_receivers_work():
    result = run(
        """
        import asyncio
        from django.contrib.auth.models import User
        from django.dispatch import Signal

        ping = Signal()

        async def on_ping(sender, **kwargs):
            await asyncio.sleep(0)
            return "pong"

        ping.connect(on_ping)
        User.objects.create(username="sync")
        await User.objects.acreate(username="async")
        responses = await ping.asend(sender=None)
        print([value for _, value in responses], await User.objects.acount())
        print(responses[0][0] is on_ping)
        """
    )
    assert result.text == "['pong'] 2\nTrue\n", result.text


def test_asyncio_run_works():
    result = run(
        """
        import asyncio
        async def main():
            await asyncio.sleep(0)
            return 42
        print(asyncio.run(main()))
        """
    )
    assert result.text == "42\n"


def without_timings(receivers):
    return [{k: v for k, v in r.items() if k != "duration_ms"} for r in receivers]


def test_trace_records_sends_receivers_results_and_errors_in_order():
    result = run(
        """
        from django.db import models
        from django.db.models.signals import post_save
        from django.dispatch import Signal, receiver

        class Article(models.Model):
            title = models.CharField(max_length=100)

        @receiver(post_save, sender=Article)
        def announce(sender, instance, created, **kwargs):
            return f"saved {instance.title}"

        order_placed = Signal()

        def audit(sender, **kwargs):
            raise ValueError("no audit today")

        def notify(sender, **kwargs):
            return "mailed"

        order_placed.connect(audit)
        order_placed.connect(notify)
        Article.objects.create(title="Hello")
        order_placed.send_robust(sender=Article, order_id=7)
        """
    )
    assert result.exit_status == 0, result.text
    (saved,) = events(result, "post_save")
    assert saved.path == "django.db.models.signals.post_save"
    assert saved.sender == "Article"
    assert saved.method == "send"
    assert saved.kwargs["created"] == "True"
    assert saved.kwargs["instance"] == "<Article: Article object (1)>"
    assert without_timings(saved.receivers) == [{"name": "announce", "result": "'saved Hello'"}]
    (placed,) = events(result, "order_placed")
    assert placed.method == "send_robust"
    assert placed.kwargs == {"order_id": "7"}
    assert without_timings(placed.receivers) == [
        {"name": "audit", "error": "ValueError('no audit today')"},
        {"name": "notify", "result": "'mailed'"},
    ]
    names = [e.signal for e in result.trace]
    assert names.index("pre_save") < names.index("post_save") < names.index("order_placed")


def test_trace_shows_nested_sends_with_their_depth():
    result = run(
        """
        from django.dispatch import Signal
        outer = Signal()
        inner = Signal()
        def relay(sender, **kwargs):
            inner.send(sender="relay")
        outer.connect(relay)
        outer.send(sender=None)
        """
    )
    outer, inner = result.trace
    assert (outer.signal, outer.depth) == ("outer", 0)
    assert (inner.signal, inner.depth, inner.parent) == ("inner", 1, outer.id)
    assert inner.sender == "'relay'"


def test_setup_signals_are_not_in_the_trace():
    result = run("print('nothing sent')")
    assert result.trace == []


def test_trace_is_capped_and_flagged():
    result = run(
        """
        from django.dispatch import Signal
        tick = Signal()
        for i in range(50):
            tick.send(sender=None, i=i)
        """,
        trace_max_events=10,
    )
    assert len(result.trace) == 10
    assert result.trace_truncated is True
    assert result.to_dict()["trace_truncated"] is True


def test_long_reprs_in_the_trace_are_trimmed():
    result = run(
        """
        from django.dispatch import Signal
        big = Signal()
        big.send(sender=None, payload="x" * 10_000)
        """
    )
    payload = result.trace[0].kwargs["payload"]
    assert len(payload) == 200
    assert payload.endswith("…")


def test_settings_are_throwaway_and_set_for_speed():
    result = run(
        """
        from django.conf import settings
        print(settings.PASSWORD_HASHERS[0].rsplit(".", 1)[-1], settings.USE_TZ)
        print(settings.DATABASES["default"]["NAME"])
        print(settings.SECRET_KEY)
        """
    )
    from django.conf import settings

    assert result.text.splitlines()[:2] == [
        "MD5PasswordHasher True",
        "file:playground?mode=memory&cache=shared",
    ]
    assert settings.SECRET_KEY not in result.text


def test_set_order_is_stable_between_runs():
    code = "print(list({'apple', 'banana', 'cherry', 'damson', 'elder'}))"
    assert run(code).text == run(code).text


def test_nothing_of_one_run_is_visible_to_the_next():
    first = run(
        """
        from django.contrib.auth.models import User
        User.objects.create(username="left-behind")
        open("/tmp/left-behind", "w").write("x")
        """
    )
    assert first.exit_status == 0
    second = run(
        """
        import os
        from django.contrib.auth.models import User
        print(User.objects.count(), os.path.exists("/tmp/left-behind"))
        """
    )
    assert second.text == "0 False\n"


def test_input_reads_end_of_file():
    result = run(
        """
        try:
            input()
        except EOFError:
            print("no input")
        """
    )
    assert result.text == "no input\n"


def test_tracebacks_never_show_the_tracing_wrappers():
    result = run(
        """
        from django.dispatch import Signal
        ping = Signal()
        def grumpy(sender, **kwargs):
            raise ValueError("nope")
        ping.connect(grumpy)
        responses = ping.send_robust(sender=None)
        print(responses[0][0] is grumpy)
        ping.send(sender=None)
        """
    )
    assert "Error calling grumpy in Signal.send_robust() (nope)" in result.text
    assert "True\n" in result.text
    assert result.text.endswith(
        '  File "sample.py", line 5, in grumpy\n    raise ValueError("nope")\nValueError: nope\n'
    )
    assert "harness" not in result.text
    assert "traced" not in result.text


def test_the_objects_set_up_before_the_code_are_out_of_the_collectors_reach():
    # Django's objects, set up before the code arrives, are frozen: a full collection
    # during the run walks only what the run made (it took ~10 ms of a 15 ms check).
    result = run(
        """
        import gc
        print(gc.get_freeze_count() > 20_000, len(gc.get_objects()) < 2_000, gc.isenabled())
        class Cycle:
            pass
        loop = Cycle()
        loop.me = loop
        del loop
        print(gc.collect() >= 1)  # the run's own garbage is still collected
        """
    )
    assert result.text == "True True True\nTrue\n", result.text
