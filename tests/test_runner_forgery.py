"""
The answer comes from the supervisor, not the learner's code: code that writes
forged messages to the harness's channel cannot fake its exit status, break the
caps, or make one run's JSON answer larger than 256 KB.
"""

from __future__ import annotations

import json
import textwrap

import pytest
from django.test import Client

from tutorials.runner.limits import ANSWER_MAX_BYTES, KIB, TRACE_REPR_CHARS
from tutorials.runner.result import RunResult, TraceBuilder
from tutorials.runner.testing import isolate, run_url

# What the learner can do: find the channel in its own command line and write to it.
FORGER = """
import json, os, re
_cmdline = open("/proc/self/cmdline", "rb").read()
CHANNEL = int(re.search(rb'"channel_fd": (\\d+)', _cmdline).group(1))

def forge(message):
    data = (json.dumps(message) + "\\n").encode()
    while data:
        data = data[os.write(CHANNEL, data):]
"""


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path_factory):
    isolate(settings, tmp_path_factory.getbasetemp())
    settings.RUNNER_POOL_SIZE = 0
    settings.RUNNER_WALL_TIMEOUT = 10


def post(settings, code: str):
    response = Client().post(
        run_url(settings),
        {"code": FORGER + textwrap.dedent(code)},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return response


def text(data) -> str:
    return "".join(chunk["text"] for chunk in data["output"])


def test_the_forger_really_reaches_the_channel(settings):
    # Proof that the attack is live: a forged "out" message shows up as output.
    data = post(settings, 'forge({"t": "out", "s": "stdout", "d": "via the channel\\n"})').json()
    assert text(data) == "via the channel\n"


def test_a_forged_done_does_not_fake_the_exit_status(settings):
    data = post(
        settings,
        """
        forge({"t": "done", "status": 0, "stopped": None, "trace_dropped": 0})
        raise SystemExit(3)
        """,
    ).json()
    assert data["exit_status"] == 3
    assert data["stopped"] is False


def test_a_forged_done_before_an_error_still_reports_the_error(settings):
    data = post(
        settings,
        """
        forge({"t": "out", "s": "stdout", "d": "All checks passed.\\n"})
        forge({"t": "done", "status": 0, "stopped": None, "trace_dropped": 0})
        print("still running")
        1 / 0
        """,
    ).json()
    assert data["exit_status"] == 1
    assert "still running" in text(data)
    assert "ZeroDivisionError" in text(data)


def test_a_forged_done_does_not_end_a_run_that_goes_on(settings):
    settings.RUNNER_WALL_TIMEOUT = 2
    data = post(
        settings,
        """
        import time
        forge({"t": "done", "status": 0, "stopped": None, "trace_dropped": 0})
        time.sleep(60)
        """,
    ).json()
    assert data["reason"] == "wall"
    assert data["exit_status"] is None


def test_the_reported_11_mb_answer_of_199_forged_events_stays_under_the_limit(settings):
    response = post(
        settings,
        """
        for number in range(1, 200):
            forge({"t": "sig", "id": number, "parent": None, "signal": "x" * 60_000})
        print("forged")
        """,
    )
    assert len(response.content) <= ANSWER_MAX_BYTES


def test_forged_trace_events_are_cut_to_the_trace_caps(settings):
    response = post(
        settings,
        """
        big = "S" * 1000
        for number in range(1, 200):
            forge({"t": "sig", "id": number, "parent": None, "signal": big, "path": big,
                   "method": big, "sender": big,
                   "kwargs": {f"k{i}{big}": big for i in range(3)}})
            for _ in range(3):
                forge({"t": "rcv", "id": number, "name": big, "result": big})
        print("forged")
        """,
    )
    assert len(response.content) <= ANSWER_MAX_BYTES
    data = response.json()
    assert text(data) == "forged\n"
    assert data["trace_truncated"] is True
    assert data["trace"], "forged events are kept, cut, as the learner's own"
    for event in data["trace"]:
        for value in (event["signal"], event["path"], event["sender"], *event["kwargs"]):
            assert len(value) <= TRACE_REPR_CHARS
        assert event["method"] == "send"
        for receiver in event["receivers"]:
            assert len(receiver["name"]) <= TRACE_REPR_CHARS


def test_megabytes_of_forged_output_are_cut_at_the_output_limit(settings):
    response = post(
        settings,
        """
        for _ in range(200):
            forge({"t": "out", "s": "stdout", "d": "F" * 50_000})
        """,
    )
    assert len(response.content) <= ANSWER_MAX_BYTES
    data = response.json()
    assert data["truncated"] is True
    assert data["reason"] == "output"
    assert len(text(data)) == 64 * KIB


def test_output_that_escapes_to_six_times_its_size_still_fits_the_answer(settings):
    response = post(settings, 'import sys\nsys.stdout.write("\\x01" * 65536)')
    assert len(response.content) <= ANSWER_MAX_BYTES
    assert response.json()["truncated"] is True


def test_malformed_and_out_of_order_messages_are_ignored(settings):
    data = post(
        settings,
        """
        for message in [
            {"t": "sig", "id": "one"}, {"t": "sig"}, {"t": "rcv", "id": 12345, "name": "x"},
            {"t": "sig", "id": 5, "parent": 99, "signal": "orphan"},
            {"t": "sig", "id": 6, "parent": None, "signal": "real", "kind": "weird"},
            {"t": "sig", "id": 7, "parent": None, "signal": "kept", "at": float("nan")},
            {"t": "sig", "id": 7, "parent": None, "signal": "same id again"},
            {"t": "sig", "id": 3, "parent": None, "signal": "going back"},
            {"t": "end", "id": 7, "ms": -5}, ["not", "a", "dict"], "text",
        ]:
            forge(message)
        os.write(CHANNEL, b"{not json\\n\\xff\\xfe\\n")
        print("done")
        """,
    ).json()
    assert text(data) == "done\n"
    assert [event["signal"] for event in data["trace"]] == ["kept"]
    assert data["trace"][0]["start_ms"] is None
    assert data["trace"][0]["duration_ms"] is None


def test_trace_builder_keeps_its_byte_budget():
    builder = TraceBuilder(max_events=1000, max_receivers=1000, repr_limit=200, max_bytes=8 * KIB)
    for number in range(1, 500):
        builder.add({"t": "sig", "id": number, "parent": None, "signal": "s" * 500})
    assert builder.truncated
    assert len(json.dumps([e.to_dict() for e in builder.build()])) <= 8 * KIB + 500


def test_fit_cuts_the_trace_before_the_output():
    builder = TraceBuilder(max_events=1000, max_receivers=30, max_bytes=10**9)
    for number in range(1, 1000):
        builder.add({"t": "sig", "id": number, "parent": None, "signal": "s" * 200})
    result = RunResult(trace=builder.build())
    result.add_output("stdout", "kept\n")
    result.fit(64 * KIB)
    assert len(json.dumps(result.to_dict())) <= 64 * KIB
    assert result.trace_truncated and result.trace
    assert result.text == "kept\n"


def test_the_exit_status_travels_on_a_channel_the_code_cannot_reach(settings):
    # bwrap's status fd (which reports the exit code) is not among the code's fds:
    # only stdin, stdout, stderr and the message channel are.
    data = post(
        settings,
        """
        fds = sorted(int(fd) for fd in os.listdir("/proc/self/fd"))
        others = [fd for fd in fds if fd > 2 and fd != CHANNEL]
        print([fd for fd in others if os.path.exists(f"/proc/self/fd/{fd}")])
        """,
    ).json()
    assert text(data) == "[]\n"
