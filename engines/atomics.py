"""Atomic loads and stores on int64 array elements, and the CPU's spin-wait hint, for numba.

Two native threads that share arrays without a lock (`engines.ring`) need two guarantees numba
does not give on its own: a load in a waiting loop is done again on every turn (a plain load may
be hoisted out of the loop), and the writes made before a store are seen by a thread that loads
the stored value. `load_acquire` and `store_release` give both; they compile to LLVM's atomic
load and store with acquire and release ordering (on x86-64, plain moves that the compiler keeps
in order). `spin_pause` is LLVM's `llvm.x86.sse2.pause` where there is one: it tells the core
that this is a spin-wait, which is then cheaper for the other thread on a shared core.
"""

from __future__ import annotations

import platform

from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

_X86 = platform.machine().lower() in ("x86_64", "amd64", "i386", "i686")


def _int64_element(signature, context, builder, args):
    array_type = signature.args[0]
    view = context.make_array(array_type)(context, builder, args[0])
    return cgutils.get_item_pointer(context, builder, array_type, view, [args[1]],
                                    wraparound=False)  # fmt: skip


def _is_int64_array(array, index) -> bool:
    return (isinstance(array, types.Array) and array.dtype == types.int64 and array.ndim == 1
            and isinstance(index, types.Integer))  # fmt: skip


@intrinsic
def load_acquire(typingctx, array, index):
    """`array[index]`, loaded again on every call; writes released before it are visible."""
    if not _is_int64_array(array, index):
        return None

    def codegen(context, builder, signature, args):
        pointer = _int64_element(signature, context, builder, args)
        return builder.load_atomic(pointer, "acquire", 8)

    return types.int64(array, index), codegen


@intrinsic
def store_release(typingctx, array, index, value):
    """`array[index] = value`, after every write before it (a thread that loads it sees them)."""
    if not _is_int64_array(array, index) or not isinstance(value, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        pointer = _int64_element(signature, context, builder, args)
        stored = context.cast(builder, args[2], signature.args[2], types.int64)
        builder.store_atomic(stored, pointer, "release", 8)
        return context.get_dummy_value()

    return types.void(array, index, value), codegen


@intrinsic
def spin_pause(typingctx):
    """One turn of a spin-wait: the `pause` instruction on x86, nothing elsewhere."""

    def codegen(context, builder, signature, args):
        if _X86:
            function = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(ir.VoidType(), []), "llvm.x86.sse2.pause"
            )
            builder.call(function, [])
        return context.get_dummy_value()

    return types.void(), codegen
