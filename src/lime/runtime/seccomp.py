"""A seccomp filter that refuses the ioctls which type into a terminal (TIOCSTI) or drive the
Linux console (TIOCLINUX), for commands run in the shell sandbox.

The sandbox already leaves commands without a controlling terminal and without the user's
terminal devices; this filter also covers a terminal file descriptor that reaches a command some
other way. It is a classic BPF program (the form ``bwrap --seccomp FD`` reads), built here with
``struct``: on x86-64 (with i386 and x32 calls), arm64 and riscv64. Elsewhere there is none.
"""

from __future__ import annotations

import errno
import platform
import struct

_LD_ABS_W, _JEQ, _JSET, _RET = 0x20, 0x15, 0x45, 0x06
_RET_ALLOW, _RET_ERRNO = 0x7FFF0000, 0x00050000
_TIOCSTI, _TIOCLINUX = 0x5412, 0x541C
_X32_BIT = 0x40000000
_OFF_NR, _OFF_ARCH, _OFF_ARG1 = 0, 4, 24  # struct seccomp_data, little-endian low word of args[1]

# (audit arch, ioctl syscall number, refuse x32 calls) per machine lime may run on.
_ARCHES: dict[str, list[tuple[int, int, bool]]] = {
    "x86_64": [(0xC000003E, 16, True), (0x40000003, 54, False)],
    "aarch64": [(0xC00000B7, 29, False)],
    "riscv64": [(0xC00000F3, 29, False)],
}

Insn = tuple[int, int | str, int | str, int]


def _program(arches: list[tuple[int, int, bool]]) -> list[Insn]:
    """Instructions with symbolic jump targets ("allow", "deny", "next")."""
    code: list[Insn] = [(_LD_ABS_W, 0, 0, _OFF_ARCH)]
    for arch, ioctl, x32 in arches:
        block: list[Insn] = [(_LD_ABS_W, 0, 0, _OFF_NR)]
        if x32:
            block.append((_JSET, "deny", 0, _X32_BIT))
        block += [
            (_JEQ, 0, "allow", ioctl),
            (_LD_ABS_W, 0, 0, _OFF_ARG1),
            (_JEQ, "deny", 0, _TIOCSTI),
            (_JEQ, "deny", "allow", _TIOCLINUX),
        ]
        code.append((_JEQ, 0, len(block), arch))  # another arch: skip this block
        code += block
    return code


def tty_filter(machine: str | None = None) -> bytes | None:
    """The compiled filter (``struct sock_filter[]``), or None on a machine it does not know."""
    arches = _ARCHES.get(machine or platform.machine())
    if not arches:
        return None
    code = _program(arches)
    allow, deny = len(code), len(code) + 1
    out = bytearray()
    for i, (op, jt, jf, k) in enumerate(code):
        def rel(target: int | str, i: int = i) -> int:
            if isinstance(target, int):
                return target
            return (allow if target == "allow" else deny) - i - 1
        out += struct.pack("<HBBI", op, rel(jt), rel(jf), k)
    out += struct.pack("<HBBI", _RET, 0, 0, _RET_ALLOW)
    out += struct.pack("<HBBI", _RET, 0, 0, _RET_ERRNO | errno.EPERM)
    return bytes(out)
