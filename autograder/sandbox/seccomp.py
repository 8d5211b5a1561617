"""The system-call filter of the sandbox: a seccomp BPF program that bubblewrap installs
(``--seccomp FD``) in the sandbox's first process, so it holds for the zygote and every
child it forks, before any student code runs.

It denies, with ``EPERM``, at least what Docker's default seccomp profile denies: what
namespaces leave shared (the kernel keyrings), what reaches into other processes or the
kernel (ptrace, bpf, perf events, userfaultfd, modules, kexec, io_uring), new mounts and
namespaces (``clone`` with a ``CLONE_NEW*`` flag, ``unshare``, ``setns``), and the
machine's clock, swap, quotas and accounting. ``clone3`` answers ``ENOSYS``, as under
Docker, so that the C library falls back to ``clone``, whose flags the filter can see.

The program is compiled by libseccomp (Debian's ``libseccomp2``, found with ctypes: the
Python bindings need the system Python or a compiler). Where it cannot be had,
:func:`compile_filter` raises :class:`SeccompUnavailable` and the grader says so loudly.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os

DENIED = (
    # kernel keyrings: bubblewrap's namespaces do not separate them
    "add_key",
    "keyctl",
    "request_key",
    # other processes, the kernel's tracing and memory machinery
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "kcmp",
    "pidfd_getfd",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "lookup_dcookie",
    "fanotify_init",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    # file systems, mounts and namespaces
    "mount",
    "umount",
    "umount2",
    "pivot_root",
    "chroot",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "move_mount",
    "open_tree",
    "mount_setattr",
    "name_to_handle_at",
    "open_by_handle_at",
    "unshare",
    "setns",
    "quotactl",
    "quotactl_fd",
    "nfsservctl",
    "sysfs",
    "ustat",
    "_sysctl",
    # modules, kexec, the machine
    "init_module",
    "finit_module",
    "delete_module",
    "create_module",
    "get_kernel_syms",
    "query_module",
    "kexec_load",
    "kexec_file_load",
    "reboot",
    "swapon",
    "swapoff",
    "acct",
    "syslog",
    "vhangup",
    "iopl",
    "ioperm",
    "uselib",
    "vm86",
    "vm86old",
    "clock_adjtime",
    "clock_settime",
    "settimeofday",
    "stime",
    "afs_syscall",
)
CLONE_NAMESPACES = {
    "CLONE_NEWNS": 0x00020000,
    "CLONE_NEWCGROUP": 0x02000000,
    "CLONE_NEWUTS": 0x04000000,
    "CLONE_NEWIPC": 0x08000000,
    "CLONE_NEWUSER": 0x10000000,
    "CLONE_NEWPID": 0x20000000,
    "CLONE_NEWNET": 0x40000000,
}
PERSONALITY_QUERY = 0xFFFFFFFF  # personality(0xffffffff) reads it; anything else is denied

SCMP_ACT_ALLOW = 0x7FFF0000
SCMP_CMP_NE, SCMP_CMP_MASKED_EQ = 1, 7


def SCMP_ACT_ERRNO(code: int) -> int:  # noqa: N802 - libseccomp's name
    return 0x00050000 | (code & 0xFFFF)


class SeccompUnavailable(Exception):
    """libseccomp cannot be loaded, or it refused the filter."""


class _ArgCmp(ctypes.Structure):  # struct scmp_arg_cmp
    _fields_ = [
        ("arg", ctypes.c_uint),
        ("op", ctypes.c_int),
        ("datum_a", ctypes.c_uint64),
        ("datum_b", ctypes.c_uint64),
    ]


def _library():
    name = ctypes.util.find_library("seccomp") or "libseccomp.so.2"
    try:
        lib = ctypes.CDLL(name, use_errno=True)
    except OSError as exc:
        raise SeccompUnavailable(
            f"libseccomp is not installed ({exc}); Debian: apt-get install libseccomp2"
        ) from exc
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_syscall_resolve_name.restype = ctypes.c_int
    lib.seccomp_rule_add_array.argtypes = [
        ctypes.c_void_p,
        ctypes.c_uint32,
        ctypes.c_int,
        ctypes.c_uint,
        ctypes.POINTER(_ArgCmp),
    ]
    lib.seccomp_export_bpf.argtypes = [ctypes.c_void_p, ctypes.c_int]
    return lib


def syscall_number(name: str) -> int | None:
    """This architecture's number of a system call, None if it has none."""
    nr = _library().seccomp_syscall_resolve_name(name.encode())
    return nr if nr >= 0 else None


_compiled: bytes | None = None


def compile_filter() -> bytes:
    """The filter as a BPF program (``struct sock_filter`` array) for ``bwrap --seccomp``;
    compiled once per process. Raises SeccompUnavailable."""
    global _compiled
    if _compiled is None:
        _compiled = _compile()
    return _compiled


def _compile() -> bytes:
    lib = _library()
    ctx = lib.seccomp_init(SCMP_ACT_ALLOW)
    if not ctx:
        raise SeccompUnavailable("seccomp_init failed")
    try:

        def rule(action, name, *conditions):
            nr = lib.seccomp_syscall_resolve_name(name.encode())
            if nr < 0:  # not a system call on this architecture
                return
            array = (_ArgCmp * max(len(conditions), 1))(*conditions)
            code = lib.seccomp_rule_add_array(ctx, action, nr, len(conditions), array)
            if code < 0:
                raise SeccompUnavailable(f"libseccomp refused the rule for {name} ({code})")

        eperm = SCMP_ACT_ERRNO(errno.EPERM)
        for name in DENIED:
            rule(eperm, name)
        for flag in CLONE_NAMESPACES.values():
            rule(eperm, "clone", _ArgCmp(0, SCMP_CMP_MASKED_EQ, flag, flag))
        rule(SCMP_ACT_ERRNO(errno.ENOSYS), "clone3")
        rule(eperm, "personality", _ArgCmp(0, SCMP_CMP_NE, PERSONALITY_QUERY, 0))
        fd = os.memfd_create("autograder-seccomp-export", os.MFD_CLOEXEC)
        try:
            if lib.seccomp_export_bpf(ctx, fd) < 0:
                raise SeccompUnavailable("seccomp_export_bpf failed")
            size = os.lseek(fd, 0, os.SEEK_CUR)
            return os.pread(fd, size, 0)
        finally:
            os.close(fd)
    finally:
        lib.seccomp_release(ctx)


def program_fd(program: bytes) -> int:
    """A file descriptor from which bubblewrap reads ``program`` (a memfd, at offset 0)."""
    fd = os.memfd_create("autograder-seccomp", os.MFD_CLOEXEC)
    os.write(fd, program)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd
