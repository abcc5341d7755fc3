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


def _instruction(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def program() -> bytes | None:
    """The filter as bwrap reads it (an array of sock_filter), or None if unsupported."""
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
    for number in sorted(BLOCKED_X86_64.values()):
        code += [_instruction(JEQ_K, 0, 1, number), _instruction(RET_K, 0, 0, eperm)]
    code.append(_instruction(RET_K, 0, 0, RET_ALLOW))
    return b"".join(code)


def filter_fd() -> int | None:
    """A readable fd holding the filter (the caller passes it on and closes it)."""
    data = program()
    if data is None:
        return None
    read_fd, write_fd = os.pipe()
    try:
        os.write(write_fd, data)  # a few hundred bytes: fits in the pipe at once
    finally:
        os.close(write_fd)
    return read_fd
