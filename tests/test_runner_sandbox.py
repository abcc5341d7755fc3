"""How the sandbox is built, and what code inside it can (not) see."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from tutorials.runner import sandbox
from tutorials.runner.limits import Limits
from tutorials.runner.process import Sandbox, run_cold
from tutorials.runner.testing import UidRecorder, isolate, live_processes

PROJECT_DIR = str(Path(django_settings.BASE_DIR).resolve())


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path_factory):
    isolate(settings, tmp_path_factory.getbasetemp())


def run(code: str, **limits):
    return run_cold(textwrap.dedent(code), Limits(**limits) if limits else None)


def test_bwrap_is_available_here():
    state = sandbox.availability()
    assert state.kind == "bwrap", state.reason
    assert state.sandboxed


def test_command_unshares_everything_and_shows_no_project_path():
    argv = ["/python/bin/python3.11", "-c", "pass"]
    for uid in (None, 61234):
        cmd = sandbox.bwrap_command(uid, Limits(), argv)
        confining = cmd[cmd.index("--unshare-all") - 1 :]
        for option in ("--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent"):
            assert option in confining
        assert "--clearenv" in confining
        # Every bind of the confining sandbox is read-only, at a neutral path.
        assert "--bind" not in confining
        assert "--dev-bind" not in confining
        targets = [confining[i + 2] for i, a in enumerate(confining) if a == "--ro-bind"]
        assert all(not t.startswith((PROJECT_DIR, "/root", "/home", "/etc")) for t in targets)
        tmp = confining.index("/tmp", confining.index("--tmpfs"))
        assert confining[tmp - 3 : tmp - 1] == ["--size", str(Limits().tmp_size_bytes)]


def test_project_directory_is_bound_nowhere_but_the_harness_file():
    sources = [source for source, _ in sandbox.layout().binds()]
    inside_project = [s for s in sources if s.startswith(PROJECT_DIR + "/")]
    site_packages = sandbox.layout().site_packages
    assert all(s.startswith(site_packages) or "/tutorials/runner/" in s for s in inside_project), (
        inside_project
    )
    assert PROJECT_DIR not in sources
    assert sandbox.layout().packages == ("django", "asgiref", "sqlparse")


def test_code_sees_no_host_files_settings_or_environment(monkeypatch):
    monkeypatch.setenv("RUNNER_TEST_SECRET", "hunter2")
    result = run(
        f"""
        import os
        print(os.getuid() != 0, sorted(os.environ))
        for path in ["/etc/passwd", "/etc/shadow", "/home", "/root", "{PROJECT_DIR}",
                     "{PROJECT_DIR}/config/settings.py", "{PROJECT_DIR}/db.sqlite3",
                     "{PROJECT_DIR}/.env", "/work"]:
            print(path, os.path.exists(path))
        print(sorted(os.listdir("/")))
        """
    )
    lines = result.text.splitlines()
    assert lines[0].startswith("True ")
    assert "RUNNER_TEST_SECRET" not in result.text
    assert "hunter2" not in result.text
    assert all(line.endswith(" False") for line in lines[1:-1]), result.text
    assert lines[-1] == (
        "['bin', 'dev', 'lib', 'lib64', 'proc', 'python', 'sandbox', 'sbin', "
        "'site-packages', 'tmp', 'usr']"
    )


def test_code_has_no_network():
    result = run(
        """
        import socket
        print(socket.if_nameindex())
        try:
            socket.create_connection(("127.0.0.1", 80), timeout=1)
        except OSError as exc:
            print(type(exc).__name__)
        """
    )
    # Only its own loopback, on which nothing listens.
    assert result.text == "[(1, 'lo')]\nConnectionRefusedError\n"


def test_resource_limits_are_set_and_cannot_be_raised():
    result = run(
        """
        import resource
        for name in ("RLIMIT_AS", "RLIMIT_FSIZE", "RLIMIT_NOFILE", "RLIMIT_NPROC", "RLIMIT_CORE"):
            print(name, *resource.getrlimit(getattr(resource, name)))
        soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
        print("cpu", hard - soft)
        try:
            resource.setrlimit(resource.RLIMIT_AS, (2**40, 2**40))
        except ValueError as exc:
            print("raise refused")
        """
    )
    limits = Limits()
    assert result.text.splitlines() == [
        f"RLIMIT_AS {limits.memory_bytes} {limits.memory_bytes}",
        f"RLIMIT_FSIZE {limits.file_size_bytes} {limits.file_size_bytes}",
        f"RLIMIT_NOFILE {limits.open_files} {limits.open_files}",
        f"RLIMIT_NPROC {limits.processes} {limits.processes}",
        "RLIMIT_CORE 0 0",
        "cpu 1",
        "raise refused",
    ]


def test_each_sandbox_runs_as_its_own_unprivileged_uid_and_leaves_nothing():
    with UidRecorder() as recorder:
        first, second = Sandbox().start(), Sandbox().start()
        first.wait_ready()
        second.wait_ready()
        assert first.lease.uid != second.lease.uid
        assert live_processes({first.lease.uid})
        first.run("print(1)")
        second.run("print(2)")
    assert len(recorder.uids) == 2
    assert live_processes(recorder.uids) == []


def test_fallback_runs_with_a_clean_environment_and_a_throwaway_directory(monkeypatch, settings):
    monkeypatch.setenv("RUNNER_TEST_SECRET", "hunter2")
    settings.RUNNER_BWRAP = ""
    settings.RUNNER_ALLOW_UNSANDBOXED = True
    box = Sandbox().start()
    assert box.kind == "fallback"
    workdir = box.workdir
    result = box.run("import os\nprint(os.getcwd())\nprint(sorted(os.environ))")
    assert result.sandbox == "fallback"
    assert result.warning == sandbox.FALLBACK_WARNING
    assert result.text.splitlines()[0] == workdir
    assert "RUNNER_TEST_SECRET" not in result.text
    assert not os.path.exists(workdir)


def test_dangerous_kernel_interfaces_are_filtered_by_seccomp():
    assert sandbox.availability().seccomp is True
    result = run(
        """
        import ctypes, errno, subprocess, threading
        libc = ctypes.CDLL(None, use_errno=True)
        for name, number in [("bpf", 321), ("io_uring_setup", 425), ("ptrace", 101),
                             ("userfaultfd", 323), ("keyctl", 250), ("perf_event_open", 298)]:
            ctypes.set_errno(0)
            print(name, libc.syscall(number, 0, 0, 0, 0, 0), errno.errorcode[ctypes.get_errno()])
        # What samples do use still works: threads, subprocesses.
        worker = threading.Thread(target=print, args=("thread ok",))
        worker.start()
        worker.join()
        print(subprocess.run(["echo", "fork ok"], capture_output=True, text=True).stdout, end="")
        """
    )
    assert result.text.splitlines() == [
        "bpf -1 EPERM",
        "io_uring_setup -1 EPERM",
        "ptrace -1 EPERM",
        "userfaultfd -1 EPERM",
        "keyctl -1 EPERM",
        "perf_event_open -1 EPERM",
        "thread ok",
        "fork ok",
    ]
