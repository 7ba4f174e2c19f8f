"""Does a variant fit a board? Model bytes vs the MODEL partition, arena vs RAM (targets.toml)."""

import contextlib
import os
import pathlib
import tomllib

import numpy as np

from .common import REPO

# What the firmware itself needs in RAM besides the arena and the stack (data, bss, buffers):
# a margin, not a measurement; the harness checks the real numbers after the build.
FIRMWARE_RAM_MARGIN = 16 * 1024


def boards():
    t = tomllib.loads((REPO / "targets.toml").read_text())
    out = []
    for b in t["board"]:
        model = next((m["size"] for m in b["memory"] if m["kind"] == "model"), 0)
        ram = next((m["size"] for m in b["memory"] if m["kind"] == "ram" and m["name"] == "RAM"), 0)
        out.append({"name": b["name"], "model": model, "ram": ram, "stack": b.get("stack_bytes", 0)})
    return out


@contextlib.contextmanager
def _quiet_stderr():
    fd = os.dup(2)
    try:
        with open(os.devnull, "w") as dn:
            os.dup2(dn.fileno(), 2)
        yield
    finally:
        os.dup2(fd, 2)
        os.close(fd)


def _allocates(path, n):
    """Does TFLite Micro's Python interpreter allocate the model in an n-byte arena?

    Probed in a forked child: for some too-small arenas the interpreter crashes (a null dereference in
    `_runtime.so`, seen with per-channel int8 FULLY_CONNECTED models) instead of raising, and a crash is a no.
    """
    from tflite_micro.python.tflite_micro import runtime

    pid = os.fork()
    if pid == 0:  # child: report through the exit status only
        code = 1
        try:
            with _quiet_stderr():
                runtime.Interpreter.from_file(str(path), arena_size=n)
            code = 0
        except BaseException:  # noqa: BLE001 - allocation failure raises
            pass
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


def tflm_arena_bytes(path):
    """Smallest arena (bytes, to 1 KiB) in which TFLite Micro's own allocator fits the model."""
    lo, hi = 0, 4 * 1024 * 1024
    if not _allocates(path, hi):
        return None
    while hi - lo > 1024:
        mid = (lo + hi) // 2 // 1024 * 1024
        if _allocates(path, mid):
            hi = mid
        else:
            lo = mid
    return hi


def planned_activation_bytes(path):
    """Greedy-by-size arena plan over activation lifetimes (like TFLM's planner), from the flatbuffer.

    Used for hybrid (DRQ) models, which TFLite Micro cannot load; adds the int8 copy of each hybrid
    op's input that desktop TFLite's hybrid kernels allocate as scratch.
    """
    import tflite

    buf = pathlib.Path(path).read_bytes()
    m = tflite.Model.GetRootAsModel(buf, 0)
    sg = m.Subgraphs(0)
    size_of = {tflite.TensorType.FLOAT32: 4, tflite.TensorType.INT8: 1, tflite.TensorType.INT32: 4,
               tflite.TensorType.UINT8: 1, tflite.TensorType.INT16: 2, tflite.TensorType.INT64: 8}

    def is_const(t):
        b = m.Buffers(sg.Tensors(t).Buffer())
        return b is not None and b.DataLength() > 0

    def nbytes(t):
        tt = sg.Tensors(t)
        return int(np.prod(tt.ShapeAsNumpy())) * size_of.get(tt.Type(), 4) if tt.ShapeLength() else size_of.get(tt.Type(), 4)

    n_ops = sg.OperatorsLength()
    first, last = {}, {}
    for t in sg.InputsAsNumpy():
        first[int(t)] = 0
        last[int(t)] = 0
    scratch = 0
    for k in range(n_ops):
        op = sg.Operators(k)
        ins = [int(t) for t in op.InputsAsNumpy() if t >= 0]
        for t in ins:
            if not is_const(t):
                first.setdefault(t, k)
                last[t] = k
        for t in op.OutputsAsNumpy():
            first.setdefault(int(t), k)
            last[int(t)] = max(last.get(int(t), k), k)
        # hybrid op: float activation input with int8 constant weights -> int8 scratch copy of the input
        if len(ins) >= 2 and not is_const(ins[0]) and is_const(ins[1]):
            if sg.Tensors(ins[0]).Type() == tflite.TensorType.FLOAT32 and sg.Tensors(ins[1]).Type() == tflite.TensorType.INT8:
                scratch = max(scratch, nbytes(ins[0]) // 4 + 64)
    for t in sg.OutputsAsNumpy():
        last[int(t)] = n_ops
    tensors = sorted(first, key=lambda t: -nbytes(t))
    placed = []  # (offset, size, first, last)
    top = 0
    for t in tensors:
        s, f, l = (nbytes(t) + 15) // 16 * 16, first[t], last[t]
        off = 0
        for o, ps, pf, pl in sorted(placed):
            if pl < f or pf > l:
                continue
            if off + s <= o:
                break
            off = max(off, o + ps)
        placed.append((off, s, f, l))
        top = max(top, off + s)
    return top + scratch


def excludes(variant, model_bytes, arena_bytes, io_bytes=0):
    """[[exclude]] entries for the boards this variant does not fit."""
    out = []
    for b in boards():
        if model_bytes + io_bytes > b["model"]:
            out.append({"board": b["name"], "variant": variant,
                        "reason": f"model {model_bytes} B does not fit the {b['model']} B MODEL partition"})
            continue
        budget = b["ram"] - b["stack"] - FIRMWARE_RAM_MARGIN
        if arena_bytes is not None and arena_bytes > budget:
            out.append({"board": b["name"], "variant": variant,
                        "reason": f"arena about {arena_bytes} B exceeds {budget} B of RAM left after "
                                  f"the {b['stack']} B stack and a {FIRMWARE_RAM_MARGIN} B firmware margin "
                                  f"(RAM {b['ram']} B)"})
    return out
