"""Telling Callgrind where a pass starts and ends, from inside the process it counts.

Valgrind's client requests are a sequence of instructions that does nothing on a real CPU (four
rotations of rdi that add up to a whole turn, then `xchg rbx, rbx`) and that Valgrind's JIT
recognises: rax points at the request and its five arguments, rdx holds the default answer and
receives the reply (see valgrind.h). `request` emits that sequence through LLVM inline
assembly, compiled by numba, so that a Python process run under
`valgrind --tool=callgrind --instr-atstart=no` switches instrumentation on at the start of a
pass and off at its end: interpreter start-up, imports and numba's compilation run
uninstrumented (fast) and uncounted. Outside Valgrind it returns the default, 0, and changes
nothing. amd64 only, where `AVAILABLE` is True.
"""

from __future__ import annotations

import platform

import numba
import numpy as np
from llvmlite import binding, ir
from numba.core import types
from numba.extending import intrinsic

# Callgrind's requests: its tool base ('C', 'T') << 16, then in order DUMP_STATS, ZERO_STATS,
# TOGGLE_COLLECT, DUMP_STATS_AT, START_INSTRUMENTATION, STOP_INSTRUMENTATION.
_BASE = (ord("C") << 24) | (ord("T") << 16)
ZERO_STATS = _BASE + 1
START_INSTRUMENTATION = _BASE + 4
STOP_INSTRUMENTATION = _BASE + 5
AVAILABLE = platform.machine() in ("x86_64", "AMD64") and not numba.config.DISABLE_JIT

binding.initialize_native_asmparser()  # numba leaves it out: inline assembly needs it
_PREAMBLE = "rolq $$3, %rdi ; rolq $$13, %rdi\n\trolq $$61, %rdi ; rolq $$51, %rdi\n\t"


@intrinsic
def _client_request(typingctx, address):
    """rdx = Valgrind's answer to the request whose six words start at `address` (else 0)."""
    sig = types.uint64(types.uintp)

    def codegen(context, builder, signature, args):
        word = ir.IntType(64)
        asm = ir.InlineAsm(ir.FunctionType(word, [word, word]),
                           _PREAMBLE + "xchgq %rbx, %rbx",
                           "={rdx},{rax},0,~{cc},~{memory}", side_effect=True)  # fmt: skip
        return builder.call(asm, [args[0], ir.Constant(word, 0)])

    return sig, codegen


@numba.njit(cache=True)
def request(code: int) -> int:
    """Send Callgrind a request without arguments; its answer (0 outside Valgrind)."""
    words = np.zeros(6, np.uint64)
    words[0] = code
    return _client_request(words.ctypes.data)


def start() -> None:
    """Count from here: instrumentation on, counts so far (none) zeroed."""
    if AVAILABLE:
        request(START_INSTRUMENTATION)
        request(ZERO_STATS)


def stop() -> None:
    """Stop counting here."""
    if AVAILABLE:
        request(STOP_INSTRUMENTATION)
