"""
A run is bounded as a whole: memory and process count for all its processes
together (a cgroup per run), or, where the host has no cgroup to give, a single
process whose address space is the bound. Reproduces the attacks of issue 11.
"""

from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path

import pytest

from tutorials.runner import cgroups
from tutorials.runner.limits import MIB, Limits
from tutorials.runner.process import Sandbox, run_cold
from tutorials.runner.testing import isolate

BOUND = 256 * MIB


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path_factory):
    isolate(settings, tmp_path_factory.getbasetemp())
    cgroups._support.cache_clear()
    yield
    cgroups._support.cache_clear()


def run(code: str, **limits):
    """Run ``code`` cold; the run's own cgroup must be gone when it returns (warm
    sandboxes of this process, waiting in their pool with their cgroups, are not it)."""
    limits.setdefault("cpu_seconds", 5)
    limits.setdefault("wall_timeout", 20)
    before = set(run_dirs())
    result = run_cold(textwrap.dedent(code), Limits(**limits))
    result.leftover_cgroups = sorted(set(run_dirs()) - before)
    return result


def run_dirs() -> list[str]:
    """This process's run cgroups (``run-<pid>-<n>``): another test worker's runs, going
    on at the same time, are not this test's leftovers."""
    state = cgroups.support()
    mine = f"run-{os.getpid()}-"
    found = []
    for parent in (state.memory_dir, state.pids_dir):
        if parent and os.path.isdir(parent):
            found += [name for name in os.listdir(parent) if name.startswith(mine)]
    return found


FORKED_ALLOCATORS = """
    import os, time
    children = []
    for _ in range(8):
        pid = os.fork()
        if pid == 0:
            block = b"x" * ({size} * 1024 * 1024)  # resident: every page written
            time.sleep(30)
            os._exit(0)
        children.append(pid)
    for pid in children:
        os.waitpid(pid, 0)
    print("all children ended")
"""


def test_this_host_gives_each_run_a_cgroup():
    state = cgroups.support()
    assert state.available, state.reason
    assert state.version in (1, 2)


def test_eight_forked_allocators_are_stopped_for_memory_within_the_run_bound():
    # Each child stays far below the per-process limit; together they are 3x the bound.
    result = run(FORKED_ALLOCATORS.format(size=96), run_memory_bytes=BOUND)
    assert result.stopped == "memory", (result.stopped, result.text)
    assert result.to_dict()["reason"] == "memory"
    assert "all children ended" not in result.text
    assert result.memory_peak_bytes is not None
    assert result.memory_peak_bytes <= BOUND
    assert result.leftover_cgroups == []


def test_the_production_bound_holds_against_the_reported_3_gb_of_children():
    limits = Limits()
    result = run(FORKED_ALLOCATORS.format(size=380))
    assert result.stopped == "memory", (result.stopped, result.text)
    assert result.memory_peak_bytes <= limits.run_memory_bytes


def test_memory_held_in_a_memfd_counts_against_the_run_and_stops_it():
    result = run(
        """
        import os
        # Many memfds, each under the file size limit: memory outside RLIMIT_AS.
        chunk = b"m" * (1024 * 1024)
        held = []
        for megabytes in range(1, 960):
            if megabytes % 4 == 1:
                held.append(os.memfd_create("outside-the-address-space"))
            os.write(held[-1], chunk)
        print("held", megabytes, "MiB")
        """,
        run_memory_bytes=BOUND,
    )
    assert result.stopped == "memory", (result.stopped, result.text)
    assert "held" not in result.text
    assert result.memory_peak_bytes <= BOUND
    assert result.leftover_cgroups == []


def test_a_fork_bomb_meets_the_process_count_of_the_whole_run():
    result = run(
        """
        import os, time
        made = 0
        try:
            while True:
                if os.fork() == 0:
                    time.sleep(30)
                    os._exit(0)
                made += 1
        except OSError as exc:
            print("refused after", made, type(exc).__name__)
        """,
        processes=20,
    )
    # bwrap's own processes and the harness count too.
    words = result.text.split()
    assert words[:2] == ["refused", "after"], result.text
    assert int(words[2]) < 20
    assert result.leftover_cgroups == []


def test_each_run_cgroup_is_removed_after_a_warm_sandbox_is_closed_unused():
    sandbox = Sandbox(Limits()).start()
    assert sandbox.cgroup is not None
    paths = list(sandbox.cgroup.dirs)
    assert all(os.path.isdir(path) for path in paths)
    assert sandbox.wait_ready()
    assert sandbox.cgroup.pids(), "the sandbox runs inside its cgroup"
    sandbox.close()
    assert not any(os.path.exists(path) for path in paths)


def test_the_run_cgroup_has_the_limits_of_the_run():
    sandbox = Sandbox(Limits(run_memory_bytes=BOUND, processes=33))
    sandbox.cgroup = cgroups.RunCgroup.create(sandbox.limits)
    try:
        memory, *rest = sandbox.cgroup.dirs
        if sandbox.cgroup.version == 1:
            assert Path(memory, "memory.limit_in_bytes").read_text().strip() == str(BOUND)
            assert Path(rest[0], "pids.max").read_text().strip() == "33"
        else:
            assert Path(memory, "memory.max").read_text().strip() == str(BOUND)
            assert Path(memory, "pids.max").read_text().strip() == "33"
    finally:
        sandbox.cgroup.remove()


# Without a cgroup: one process, bounded by its address space.


@pytest.fixture
def no_cgroups(settings):
    settings.RUNNER_CGROUPS = False
    cgroups._support.cache_clear()
    assert not cgroups.support().available


def test_without_cgroups_a_run_cannot_fork_but_threads_work(no_cgroups):
    result = run(
        """
        import os, threading
        try:
            os.fork()
        except OSError as exc:
            print("fork:", type(exc).__name__)
        done = []
        worker = threading.Thread(target=lambda: done.append(1))
        worker.start(); worker.join()
        print("thread ran:", done == [1])
        """
    )
    assert result.text == "fork: PermissionError\nthread ran: True\n", result.text
    assert result.exit_status == 0


def test_without_cgroups_memfd_and_shared_memory_are_refused(no_cgroups):
    result = run(
        """
        import os, subprocess
        try:
            os.memfd_create("x")
        except OSError as exc:
            print("memfd:", type(exc).__name__)
        try:
            subprocess.run(["true"])
        except OSError as exc:
            print("subprocess:", type(exc).__name__)
        """
    )
    assert result.text == "memfd: PermissionError\nsubprocess: PermissionError\n", result.text


def test_without_cgroups_the_address_space_is_the_run_bound(no_cgroups):
    result = run(
        """
        import resource
        print(resource.getrlimit(resource.RLIMIT_AS)[0] // 2**20)
        block = b"x" * (300 * 1024 * 1024)
        """,
        run_memory_bytes=BOUND,
    )
    assert result.text.splitlines()[0] == str(BOUND // MIB)
    assert result.stopped == "memory"
    assert result.text.endswith("MemoryError\n")


# cgroup v2 (a production host), on a fake hierarchy: what is written where.


def test_cgroup_v2_subtree_is_found_and_each_run_gets_its_limits(tmp_path):
    root = tmp_path / "cgroup2"
    service = root / "system.slice" / "site.service"
    service.mkdir(parents=True)
    (service / "cgroup.controllers").write_text("cpu memory pids\n")
    (service / "cgroup.subtree_control").write_text("")
    mountinfo = f"30 25 0:26 / {root} rw,nosuid - cgroup2 cgroup2 rw\n"
    state = cgroups.probe(mountinfo, "0::/system.slice/site.service\n", None)
    assert (state.version, state.memory_dir) == (2, str(service / "tutorials-runner"))
    assert (service / "cgroup.subtree_control").read_text() == "+memory +pids"

    run_cgroup = cgroups.RunCgroup(state, BOUND, 40)
    (directory,) = run_cgroup.dirs
    values = {name: Path(directory, name).read_text() for name in os.listdir(directory)}
    assert values["memory.max"] == str(BOUND)
    assert values["pids.max"] == "40"
    assert values["memory.oom.group"] == "1"
    assert values["memory.swap.max"] == "0"
    assert run_cgroup.oom_kills() == 0
    Path(directory, "memory.events").write_text("low 0\nhigh 0\nmax 9\noom 1\noom_kill 1\n")
    assert run_cgroup.oom_kills() == 1
    assert cgroups.join_command(run_cgroup, ["python"])[-1] == "python"


def test_cgroup_v1_probe_uses_the_servers_own_memory_and_pids_cgroups(tmp_path):
    memory = tmp_path / "memory" / "server"
    pids = tmp_path / "pids"
    memory.mkdir(parents=True)
    pids.mkdir()
    mountinfo = (
        f"31 25 0:27 / {tmp_path / 'memory'} rw - cgroup cgroup rw,memory\n"
        f"32 25 0:28 / {pids} rw - cgroup cgroup rw,pids\n"
    )
    state = cgroups.probe(mountinfo, "4:memory:/server\n8:pids:/\n", None)
    assert state.version == 1
    assert state.memory_dir == str(memory / "tutorials-runner")
    assert state.pids_dir == str(pids / "tutorials-runner")


def test_no_cgroup_hierarchy_gives_a_reason():
    state = cgroups.probe("", "", None)
    assert not state.available
    assert "memory" in state.reason


def test_a_check_says_when_runs_have_no_cgroup(no_cgroups):
    from tutorials.runner.checks import check_run_bounds

    (message,) = check_run_bounds()
    assert message.id == "runner.I001"
    assert "RUNNER_CGROUPS" in message.msg


def test_run_cgroups_left_by_a_dead_server_process_are_swept():
    state = cgroups.support()
    dead = _dead_pid()
    parents = [path for path in (state.memory_dir, state.pids_dir) if path]
    stale = [os.path.join(parent, f"run-{dead}-1") for parent in parents]
    for path in stale:
        os.mkdir(path)
    cgroups._support.cache_clear()
    cgroups.support()
    assert not any(os.path.exists(path) for path in stale)


def test_a_run_gets_its_cgroup_after_another_process_removed_the_empty_group(monkeypatch):
    # Each server process removes the empty group directory as it exits; a process
    # still running must make it again for its next run, not run without a cgroup.
    monkeypatch.setattr(cgroups, "GROUP_NAME", f"tutorials-runner-test-{os.getpid()}")
    cgroups._support.cache_clear()
    state = cgroups.support()
    assert state.available, state.reason
    cgroups._remove_groups(state)  # what another process does at its exit
    assert not os.path.exists(state.memory_dir)
    run_cgroup = cgroups.RunCgroup.create(Limits())
    try:
        assert run_cgroup is not None
        assert all(os.path.isdir(path) for path in run_cgroup.dirs)
    finally:
        if run_cgroup is not None:
            run_cgroup.remove()
        cgroups._remove_groups(cgroups.support())


def _dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid
