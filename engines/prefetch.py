"""`prefetch(array, index)`: ask the CPU to start loading an array element it will need soon.

It compiles to LLVM's `llvm.prefetch` intrinsic, which numba does not offer itself: a hint, with
no effect on any result, that lets a load that would miss the caches overlap the work before it.
The compiled engine gives it the order-table slot of a record a few records ahead, so that the
miss on a large table is paid while the records before it are processed.
"""

from __future__ import annotations

from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

_I32 = ir.IntType(32)
_READ, _KEEP_IN_ALL_LEVELS, _DATA = 0, 3, 1  # llvm.prefetch's rw, locality and cache type


@intrinsic
def prefetch(typingctx, array, index):
    """Prefetch the element `array[index]` (a one-dimensional array, an in-range index)."""
    if not isinstance(array, types.Array) or array.ndim != 1:
        return None
    if not isinstance(index, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        view = context.make_array(array_type)(context, builder, args[0])
        address = cgutils.get_item_pointer(
            context, builder, array_type, view, [args[1]], wraparound=False
        )
        byte_pointer = ir.IntType(8).as_pointer()
        function = cgutils.get_or_insert_function(
            builder.module,
            ir.FunctionType(ir.VoidType(), [byte_pointer, _I32, _I32, _I32]),
            # The intrinsic is named for its pointer type: "p0" opaque (LLVM 15+), "p0i8" typed.
            "llvm.prefetch.p0" if str(byte_pointer) == "ptr" else "llvm.prefetch.p0i8",
        )
        builder.call(
            function,
            [builder.bitcast(address, byte_pointer), _I32(_READ), _I32(_KEEP_IN_ALL_LEVELS),
             _I32(_DATA)],
        )  # fmt: skip
        return context.get_dummy_value()

    return types.void(array, index), codegen
