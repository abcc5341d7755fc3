"""The check phase in the sandbox (harness/checks.py) and its wording (check_phase.py)."""

from __future__ import annotations

import pytest

from tutorials.runner import check_phase
from tutorials.runner.process import run_cold
from tutorials.runner.testing import isolate

CODE = """\
from django.db import models

class Order(models.Model):
    number = models.IntegerField()
"""


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path_factory):
    isolate(settings, tmp_path_factory.getbasetemp())


def checks(*sources: str) -> list[dict]:
    return [{"name": f"check {n}", "source": source} for n, source in enumerate(sources, 1)]


def test_what_the_checks_print_or_write_to_fds_is_discarded():
    result = run_cold(
        CODE + 'print("learner")\n',
        checks=checks(
            'import os, sys\nprint("from check")\nsys.stderr.write("err")\n'
            'os.write(1, b"raw")\nos.write(2, b"raw2")\nassert True, "check 1"'
        ),
    )
    assert result.text == "learner\n"
    assert [c.passed for c in result.checks] == [True]


def test_checks_share_the_learners_namespace_and_run_in_order():
    result = run_cold(
        CODE,
        checks=checks(
            "first = Order.objects.create(number=1)\nassert first.pk == 1, 'check 1'",
            "assert Order.objects.count() == 1, 'check 2'",
            "assert first.number == 2, 'check 3'",
        ),
    )
    assert [c.passed for c in result.checks] == [True, True, False]
    assert result.checks[2].message == "check 3"


def test_a_check_that_does_not_compile_is_reported_by_type():
    result = run_cold(CODE, checks=checks("assert (, 'check 1'"))
    assert result.checks[0].message == "The check raised SyntaxError."


def test_learner_code_patching_compile_exec_and_assertionerror_does_not_change_the_checks():
    code = CODE + (
        "import builtins\n"
        "builtins.compile = lambda *a, **k: compile('x = 1', 'f', 'exec')\n"
        "builtins.exec = lambda *a, **k: None\n"
        "builtins.AssertionError = ZeroDivisionError\n"
    )
    result = run_cold(code, checks=checks("assert False, 'check 1'", "assert True, 'check 2'"))
    assert [(c.passed, c.message) for c in result.checks] == [(False, "check 1"), (True, None)]


def test_without_checks_the_run_has_no_check_phase():
    result = run_cold(CODE + "print('ok')\n")
    assert result.checks is None
    assert "checks" not in result.to_dict()


@pytest.mark.parametrize(
    ("entry", "passed", "message"),
    [
        ({"passed": True}, True, None),
        ({"passed": False}, False, "name"),
        ({"passed": True, "extra": "x"}, False, "name"),
        ({"passed": False, "error": "KeyError"}, False, "The check raised KeyError."),
        ({"passed": False, "error": "Leaked source text"}, False, "The check raised an exception."),
        (
            {"passed": False, "skipped": True},
            False,
            "Not run: the setup of an earlier check failed.",
        ),
        ("garbage", False, check_phase.NOT_REPORTED),
        ({"passed": "yes"}, False, check_phase.NOT_REPORTED),
    ],
)
def test_report_entries_are_worded_by_the_server(entry, passed, message):
    [result] = check_phase.results([{"name": "name", "source": ""}], [entry])
    assert (result.passed, result.message) == (passed, message)


def test_a_report_of_the_wrong_length_fails_every_check():
    results = check_phase.results(checks("a", "b"), [{"passed": True}], "Not run: stopped.")
    assert [(r.passed, r.message) for r in results] == [(False, "Not run: stopped.")] * 2


def test_a_sandbox_that_fails_to_start_still_answers_every_check(monkeypatch):
    from tutorials.runner.process import Sandbox

    monkeypatch.setattr(Sandbox, "wait_ready", lambda self, timeout=None: False)
    result = Sandbox().run(CODE, checks=checks("assert True, 'check 1'"))
    assert result.error
    assert [(c.passed, c.message) for c in result.checks] == [
        (False, "Not run: The sandbox failed; the code may not have run.")
    ]


def test_a_check_report_counts_only_after_the_checks_were_all_sent_with_their_nonce():
    import os

    from tutorials.runner.process import _ChecksState

    state = _ChecksState(checks("assert True, 'check 1'"))
    ready = {"t": "checks_ready"}
    assert not state.should_start(ready, code_sent=False)  # the code is still arriving
    assert state.should_start(ready, code_sent=True)
    state.started = True
    forged = {"t": "checks", "nonce": state.nonce, "results": [{"passed": True}]}
    state.receive(forged)  # before the checks were sent: learner code, not the checks
    assert state.reported is None
    read_end, write_end = os.pipe()
    try:
        assert state.feed(write_end) and state.sent
        assert os.read(read_end, 65536) == check_phase.encode(state.checks, state.nonce)
    finally:
        os.close(read_end)
        os.close(write_end)
    state.receive({"t": "checks", "nonce": "guessed", "results": [{"passed": True}]})
    assert state.reported is None
    state.receive({"t": "checks", "nonce": state.nonce, "results": [{"passed": False}]})
    state.receive(forged)  # a later report does not replace the first
    assert state.reported == [{"passed": False}]
