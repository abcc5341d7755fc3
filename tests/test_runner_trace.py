"""
The trace a timeline is drawn from (CONTRACTS.md §2): kinds, start times and
durations of sends and receivers, nesting, and commits with their on_commit
callbacks, each naming the send it was registered in.
"""

from __future__ import annotations

import textwrap

import pytest

from tutorials.runner.limits import Limits
from tutorials.runner.process import run_cold
from tutorials.runner.testing import isolate

NOISE = {"pre_init", "post_init", "class_prepared"}


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path_factory):
    isolate(settings, tmp_path_factory.getbasetemp())


def trace_of(code: str, **limits) -> list[dict]:
    result = run_cold(textwrap.dedent(code), Limits(**limits) if limits else None)
    assert result.exit_status == 0, result.text
    return [e.to_dict() for e in result.trace if e.signal not in NOISE]


NESTED_SAVE = """
    from django.db import models
    from django.db.models.signals import post_save
    from django.dispatch import receiver

    class Order(models.Model):
        number = models.IntegerField()

    class Invoice(models.Model):
        order = models.ForeignKey(Order, on_delete=models.CASCADE)

    @receiver(post_save, sender=Order)
    def make_invoice(sender, instance, created, **kwargs):
        if created:
            Invoice.objects.create(order=instance)

    Order.objects.create(number=1)
"""


def test_nested_save_shows_parent_depth_and_timings():
    trace = trace_of(NESTED_SAVE)
    assert [(e["signal"], e["sender"], e["depth"]) for e in trace] == [
        ("pre_save", "Order", 0),
        ("post_save", "Order", 0),
        ("pre_save", "Invoice", 1),
        ("post_save", "Invoice", 1),
    ]
    order_saved = trace[1]
    (make_invoice,) = order_saved["receivers"]
    assert make_invoice["name"] == "make_invoice"
    for event in trace:
        assert event["kind"] == "send"
        assert event["start_ms"] >= 0
        assert event["duration_ms"] >= 0
    for nested in trace[2:]:
        assert nested["parent"] == order_saved["id"]
        # Inside the receiver, which runs inside the send.
        assert order_saved["start_ms"] <= nested["start_ms"]
        end = nested["start_ms"] + nested["duration_ms"]
        assert end <= order_saved["start_ms"] + order_saved["duration_ms"] + 0.01
    assert 0 <= make_invoice["duration_ms"] <= order_saved["duration_ms"] + 0.01
    starts = [e["start_ms"] for e in trace]
    assert starts == sorted(starts)


def test_send_robust_with_a_failing_receiver_shows_the_error_and_each_duration():
    trace = trace_of(
        """
        import time
        from django.dispatch import Signal

        order_placed = Signal()

        def audit(sender, **kwargs):
            raise ValueError("no audit today")

        def notify(sender, **kwargs):
            time.sleep(0.02)
            return "mailed"

        order_placed.connect(audit)
        order_placed.connect(notify)
        order_placed.send_robust(sender="shop", order_id=7)
        """
    )
    (event,) = trace
    assert (event["signal"], event["method"], event["kind"]) == (
        "order_placed",
        "send_robust",
        "send",
    )
    audit, notify = event["receivers"]
    assert audit["name"] == "audit"
    assert audit["error"] == "ValueError('no audit today')"
    assert "result" not in audit
    assert notify["result"] == "'mailed'"
    assert notify["duration_ms"] >= 20
    assert event["duration_ms"] >= notify["duration_ms"]


def test_atomic_block_with_on_commit_shows_commit_then_the_callback_and_where_it_was_registered():
    trace = trace_of(
        """
        from django.db import models, transaction
        from django.db.models.signals import post_save
        from django.dispatch import receiver

        class Order(models.Model):
            number = models.IntegerField()

        def send_mail():
            print("mail sent")

        @receiver(post_save, sender=Order)
        def on_saved(sender, instance, **kwargs):
            transaction.on_commit(send_mail)

        with transaction.atomic():
            Order.objects.create(number=1)
            transaction.on_commit(lambda: None)
            print("still in the block")
        """
    )
    kinds = [(e["kind"], e["signal"]) for e in trace]
    assert kinds == [
        ("send", "pre_save"),
        ("send", "post_save"),
        ("commit", "commit"),
        ("on_commit", "on_commit"),
        ("on_commit", "on_commit"),
    ]
    post_save, commit, mail, anonymous = trace[1], trace[2], trace[3], trace[4]
    assert commit["sender"] == "default"
    assert commit["start_ms"] >= post_save["start_ms"]
    assert mail["receivers"][0]["name"] == "send_mail"
    assert mail["registered_in"] == post_save["id"]
    assert anonymous["registered_in"] is None
    # The callbacks run after the commit, not inside the send that registered them.
    assert mail["parent"] is None
    assert mail["start_ms"] >= commit["start_ms"]
    assert mail["duration_ms"] >= 0


def test_sends_inside_an_on_commit_callback_nest_under_it():
    trace = trace_of(
        """
        from django.db import transaction
        from django.dispatch import Signal

        shipped = Signal()
        shipped.connect(lambda sender, **kwargs: None)
        with transaction.atomic():
            transaction.on_commit(lambda: shipped.send(sender="warehouse"))
        """
    )
    callback = next(e for e in trace if e["kind"] == "on_commit")
    inner = next(e for e in trace if e["signal"] == "shipped")
    assert inner["parent"] == callback["id"]
    assert inner["depth"] == 1


def test_table_creation_of_the_sample_models_makes_no_commit_events():
    trace = trace_of(NESTED_SAVE)
    assert all(e["kind"] == "send" for e in trace)


def test_a_trace_of_many_commits_stays_within_its_caps():
    result = run_cold(
        textwrap.dedent(
            """
            from django.db import transaction
            for n in range(500):
                with transaction.atomic():
                    transaction.on_commit(lambda: None)
            """
        ),
        Limits(trace_max_events=50),
    )
    assert result.exit_status == 0, result.text
    assert len(result.trace) == 50
    assert result.trace_truncated
