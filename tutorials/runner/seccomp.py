"""
A seccomp filter for the sandbox, handed to bwrap with ``--seccomp FD``.

Defence in depth: the namespaces and rlimits already confine the code, but the
kernel interfaces below have been the way out of many sandboxes and no sample
needs them, so they fail with EPERM. The filter is a classic BPF program built
here (no libseccomp needed); on an architecture it does not know, bwrap runs
without it.
"""

import errno
import os
import platform
import struct

# Classic BPF opcodes and seccomp return values (linux/filter.h, linux/seccomp.h).
LD_W_ABS = 0x20
JEQ_K = 0x15
JGE_K = 0x35
JSET_K = 0x45
RET_K = 0x06
RET_ALLOW = 0x7FFF0000
RET_ERRNO = 0x00050000
RET_KILL_PROCESS = 0x80000000
AUDIT_ARCH_X86_64 = 0xC000003E
X32_SYSCALL_BIT = 0x40000000

# x86_64 syscall numbers (arch/x86/entry/syscalls/syscall_64.tbl).
BLOCKED_X86_64 = {
    "acct": 163,
    "add_key": 248,
    "bpf": 321,
    "delete_module": 176,
    "finit_module": 313,
    "init_module": 175,
    "io_uring_enter": 426,
    "io_uring_register": 427,
    "io_uring_setup": 425,
    "kexec_file_load": 320,
    "kexec_load": 246,
    "keyctl": 250,
    "mount": 165,
    "move_mount": 429,
    "name_to_handle_at": 303,
    "open_by_handle_at": 304,
    "open_tree": 428,
    "perf_event_open": 298,
    "pivot_root": 155,
    "process_vm_readv": 310,
    "process_vm_writev": 311,
    "ptrace": 101,
    "reboot": 169,
    "request_key": 249,
    "setns": 308,
    "swapoff": 168,
    "swapon": 167,
    "umount2": 166,
    "unshare": 272,
    "userfaultfd": 323,
}
CLONE3_X86_64 = 435  # ENOSYS: the C library falls back to clone()

# Refused too when a run has no cgroup of its own: then a run is one process (and
# its threads), bounded by its address space, and nothing holds memory outside it.
SINGLE_PROCESS_X86_64 = {
    "fork": 57,
    "vfork": 58,
    "memfd_create": 319,
    "memfd_secret": 447,
    "shmget": 29,
}
CLONE_X86_64 = 56
CLONE_THREAD = 0x00010000
ARG0_LOW = 16  # offsetof(struct seccomp_data, args[0]), little-endian low word


def _instruction(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def program(single_process: bool = False) -> bytes | None:
    """
    The filter as bwrap reads it (an array of sock_filter), or None if unsupported.
    ``single_process`` also refuses new processes (threads are fine) and memory
    that lives outside the address space (memfd, System V shared memory).
    """
    if platform.machine() != "x86_64":
        return None
    eperm = RET_ERRNO | errno.EPERM
    code = [
        _instruction(LD_W_ABS, 0, 0, 4),  # seccomp_data.arch
        _instruction(JEQ_K, 1, 0, AUDIT_ARCH_X86_64),
        _instruction(RET_K, 0, 0, RET_KILL_PROCESS),
        _instruction(LD_W_ABS, 0, 0, 0),  # seccomp_data.nr
        _instruction(JGE_K, 0, 1, X32_SYSCALL_BIT),  # the x32 ABI: refused whole
        _instruction(RET_K, 0, 0, eperm),
        _instruction(JEQ_K, 0, 1, CLONE3_X86_64),
        _instruction(RET_K, 0, 0, RET_ERRNO | errno.ENOSYS),
    ]
    blocked = dict(BLOCKED_X86_64)
    if single_process:
        blocked.update(SINGLE_PROCESS_X86_64)
    for number in sorted(blocked.values()):
        code += [_instruction(JEQ_K, 0, 1, number), _instruction(RET_K, 0, 0, eperm)]
    if single_process:
        # clone() is allowed for threads only.
        code += [
            _instruction(JEQ_K, 0, 3, CLONE_X86_64),
            _instruction(LD_W_ABS, 0, 0, ARG0_LOW),
            _instruction(JSET_K, 1, 0, CLONE_THREAD),
            _instruction(RET_K, 0, 0, eperm),
        ]
    code.append(_instruction(RET_K, 0, 0, RET_ALLOW))
    return b"".join(code)


def filter_fd(single_process: bool = False) -> int | None:
    """A readable fd holding the filter (the caller passes it on and closes it)."""
    data = program(single_process)
    if data is None:
        return None
    read_fd, write_fd = os.pipe()
    try:
        os.write(write_fd, data)  # a few hundred bytes: fits in the pipe at once
    finally:
        os.close(write_fd)
    return read_fd
