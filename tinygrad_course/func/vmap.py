"""`vmap`: a function of one sample mapped over a batch, by batching rules (see batching.py).

``vmap(f)(x)`` calls f once, with x wrapped as a `BatchedTensor` whose logical shape is one
sample's; each op inside runs once on the whole batch by its rule, and the result's batch dim
is moved to `out_dims`. Nested vmaps add a batch dim each (one *level* per vmap, outermost
first). When f needs the values of a batched tensor as one array (``.item()``, ``bool(x)``, a
numpy shortcut), vmap falls back to calling f sample by sample and stacking, with a one-time
warning; ``randomness='different'`` always runs that loop (independent draws per sample).
"""

from __future__ import annotations

import functools
import inspect
import itertools
import warnings
from collections.abc import Callable
from typing import Any

from tinygrad_course.autograd.grad_mode import mode
from tinygrad_course.func import batching  # noqa: F401  (installs the batching rules)
from tinygrad_course.tensor import Tensor, cat, random, stack
from tinygrad_course.tensor.batched import BatchedTensor, NeedsLoop, levels_of, physical, vmap_arguments

_levels = itertools.count(1)  # a new level per batched vmap call: inner vmaps get larger ones
_warned: set[Any] = set()  # the functions already warned about (their code objects)


def vmap(func: Callable[..., Any], in_dims: Any = 0, out_dims: Any = 0, randomness: str = "error",
         *, chunk_size: int | None = None) -> Callable[..., Any]:
    """func mapped over a batch dim of its inputs: vmap(f)(x)[b] = f(x[b]), vectorised by per-op batching rules.

    `in_dims`: an int (every argument mapped along that dim), None (not mapped), or a tuple with
    one entry per positional argument (an entry may itself be a tuple/list/dict matching that
    argument's structure); `out_dims` the same for the outputs. ``randomness='error'`` refuses
    random ops inside, 'same' draws once for the whole batch, 'different' draws independently per
    sample. `chunk_size` maps that many samples at a time (less memory, same result).
    """
    if randomness not in ("error", "different", "same"):
        raise ValueError(f"vmap: randomness must be 'error', 'different' or 'same', got {randomness!r}")
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size < 1):
        raise ValueError(f"vmap: chunk_size must be None or a positive int, got {chunk_size!r}")

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        dims = in_dims if isinstance(in_dims, tuple) else (in_dims,) * len(args)
        if len(dims) != len(args):
            raise ValueError(f"vmap(f, in_dims={in_dims!r})(*args): in_dims has {len(dims)} entries "
                             f"for {len(args)} positional arguments")
        pairs = [(t, d, f"argument {k}{where}") for k, (a, dk) in enumerate(zip(args, dims))
                 for t, d, where in _flatten(a, dk, f"vmap(f, in_dims={in_dims!r})", k)]
        size = _batch_size(pairs)
        if randomness == "different":
            return _loop(func, args, dims, size, kwargs, out_dims, randomness)
        if chunk_size is None or chunk_size >= size:
            return _batched_or_loop(func, args, dims, size, kwargs, out_dims, randomness)
        parts = []
        for start in range(0, size, chunk_size):
            piece = [a if d is None else _map(a, d, lambda t, dd, s=start: _narrow(t, dd, s, chunk_size))
                     for a, d in zip(args, dims)]
            parts.append(_batched_or_loop(func, piece, dims, min(chunk_size, size - start), kwargs, out_dims, randomness))
        return _join(parts, out_dims)

    return wrapper


def _batched_or_loop(func: Callable[..., Any], args: Any, dims: tuple[Any, ...], size: int, kwargs: dict[str, Any],
                     out_dims: Any, randomness: str) -> Any:
    try:
        return _batched(func, args, dims, size, kwargs, out_dims, randomness)
    except NeedsLoop as reason:
        name = getattr(func, "__name__", repr(func))
        # Once per function, told apart by its code: every lambda is named "<lambda>".
        key = getattr(inspect.unwrap(func), "__code__", name)
        if key not in _warned:
            _warned.add(key)
            warnings.warn(f"vmap: {name} could not be batched ({reason}); it runs sample by sample instead "
                          "(correct, but a Python loop)", stacklevel=3)
        return _loop(func, args, dims, size, kwargs, out_dims, randomness)


def _batched(func: Callable[..., Any], args: Any, dims: tuple[Any, ...], size: int, kwargs: dict[str, Any],
             out_dims: Any, randomness: str) -> Any:
    """func called once on BatchedTensors of a new level; the outputs' batch dims moved to out_dims."""
    level = next(_levels)
    mode.vmap_sizes[level] = size
    mode.vmap_depth += 1
    known = len(vmap_arguments)
    try:
        wrapped = [a if d is None else _map(a, d, lambda t, dd: _enter(t, dd, level)) for a, d in zip(args, dims)]
        # In-place writes into these are left to the loop (see BatchedTensor._write).
        _map_leaves(wrapped, lambda t: vmap_arguments.append(t._inner._array) if isinstance(t, BatchedTensor) else None)
        with random.forbidden(randomness == "error", "vmap(randomness='error')"):
            out = func(*wrapped, **kwargs)
        return _outputs(out, out_dims, lambda o, od: _exit(o, od, level, size))
    finally:
        mode.vmap_depth -= 1
        del mode.vmap_sizes[level]
        del vmap_arguments[known:]


def _map_leaves(obj: Any, fn: Callable[[Any], Any]) -> None:
    """fn on every value in nested tuples, lists and dicts."""
    if isinstance(obj, dict):
        obj = list(obj.values())
    if isinstance(obj, (tuple, list)):
        for v in obj:
            _map_leaves(v, fn)
    else:
        fn(obj)


def _loop(func: Callable[..., Any], args: Any, dims: tuple[Any, ...], size: int, kwargs: dict[str, Any],
          out_dims: Any, randomness: str) -> Any:
    """func sample by sample, the results stacked along out_dims."""
    if randomness == "same":
        state = random.generator().bit_generator.state
    results = []
    for b in range(size):
        sample = [a if d is None else _map(a, d, lambda t, dd, b=b: _select(t, dd, b)) for a, d in zip(args, dims)]
        if randomness == "same":
            random.generator().bit_generator.state = state
        with random.forbidden(randomness == "error", "vmap(randomness='error')"):
            results.append(func(*sample, **kwargs))
    return _combine(results, out_dims, _stack_at)


# ---------------------------------------------------------------------- in and out
def _flatten(arg: Any, dim: Any, op: str, k: int) -> list[tuple[Any, Any, str]]:
    """(tensor, its in_dim, where) for every mapped tensor in an argument (a Tensor, or a tuple/list/dict of them)."""
    if dim is None:
        return []
    if isinstance(arg, dict):
        sub = dim if isinstance(dim, dict) else {key: dim for key in arg}
        return [x for key in arg for x in _flatten(arg[key], sub.get(key), op, k)]
    if isinstance(arg, (tuple, list)):
        sub = dim if isinstance(dim, (tuple, list)) else (dim,) * len(arg)
        if len(sub) != len(arg):
            raise ValueError(f"{op}: in_dims for argument {k} has {len(sub)} entries for {len(arg)} elements")
        return [x for a, d in zip(arg, sub) for x in _flatten(a, d, op, k)]
    if not isinstance(dim, int):
        raise ValueError(f"{op}: in_dims entries must be an int or None, got {dim!r} for argument {k}")
    if not isinstance(arg, Tensor):
        raise ValueError(f"vmap: got in_dims={dim} for argument {k}, which is a {type(arg).__name__}, not a Tensor; "
                         "use None for arguments that are not mapped")
    if arg.ndim == 0 or not -arg.ndim <= dim < arg.ndim:
        raise ValueError(f"vmap: in_dims={dim} is out of range for argument {k} of shape {tuple(arg.shape)} "
                         f"(expected a dim in [-{max(arg.ndim, 1)}, {max(arg.ndim, 1) - 1}] of a tensor with at least 1 dim)")
    return [(arg, dim, "")]


def _batch_size(pairs: list[tuple[Any, Any, str]]) -> int:
    size = None
    for t, d, where in pairs:
        n = t.shape[d]
        if size is not None and n != size:
            raise ValueError(f"vmap: expected all mapped inputs to have the same size along their in_dims; "
                             f"{where} has size {n} but an earlier one has {size}")
        size = n
    if size is None:
        raise ValueError("vmap: at least one argument must be mapped (in_dims are all None, or no Tensor was passed)")
    return size


def _map(arg: Any, dim: Any, fn: Callable[[Tensor, int], Any]) -> Any:
    """fn(tensor, in_dim) on every mapped tensor of an argument, the structure kept."""
    if dim is None:
        return arg
    if isinstance(arg, dict):
        sub = dim if isinstance(dim, dict) else {key: dim for key in arg}
        return {key: _map(v, sub.get(key), fn) for key, v in arg.items()}
    if isinstance(arg, (tuple, list)):
        sub = dim if isinstance(dim, (tuple, list)) else (dim,) * len(arg)
        return type(arg)(_map(v, d, fn) for v, d in zip(arg, sub))
    return fn(arg, dim)


def _move(t: Tensor, source: int, target: int) -> Tensor:
    """t with dim `source` moved to position `target` (a recorded permute, or t itself)."""
    if source == target:
        return t
    axes = [a for a in range(t.ndim) if a != source]
    axes.insert(target, source)
    return t.permute(tuple(axes))


def _enter(t: Tensor, dim: int, level: int) -> BatchedTensor:
    """t as seen inside the vmap of `level`: its dim `dim` becomes that level's batch dim."""
    own = levels_of(t)
    inner = t._inner if isinstance(t, BatchedTensor) else t
    nb = len(own)
    return BatchedTensor(_move(inner, nb + dim % t.ndim, nb), own + (level,))


def _exit(out: Any, out_dim: Any, level: int, size: int) -> Any:
    """A result of the vmapped function with its `level` batch dim moved to out_dim."""
    if not isinstance(out, Tensor):
        raise ValueError(f"vmap: the function must return Tensors (or tuples/lists/dicts of them), got {type(out).__name__}")
    own = levels_of(out)
    if out_dim is None:
        if level in own:
            raise ValueError("vmap: out_dims=None for an output that depends on the mapped inputs; "
                             "only outputs that are the same for every sample can have out_dims=None")
        return out
    levels = tuple(sorted(set(own) | {level}))
    p = physical(out, levels)
    pos = levels.index(level)
    if level not in own:  # the same for every sample: repeated along the batch dim
        p = p.expand(tuple(size if k == pos else n for k, n in enumerate(p.shape)))
    rest = levels[:pos] + levels[pos + 1:]
    n = p.ndim - len(levels)
    if not -(n + 1) <= out_dim <= n:
        raise ValueError(f"vmap: out_dims={out_dim} is out of range for an output with {n} dims (one more for the batch)")
    moved = _move(p, pos, len(rest) + out_dim % (n + 1))
    return BatchedTensor(moved, rest) if rest else moved


def _outputs(out: Any, out_dims: Any, fn: Callable[[Any, Any], Any]) -> Any:
    # Outputs may nest (a tuple of dicts: grad with several dict arguments); out_dims nest alike or broadcast.
    if isinstance(out, dict):
        ods = out_dims if isinstance(out_dims, dict) else {k: out_dims for k in out}
        return {k: _outputs(v, ods[k], fn) for k, v in out.items()}
    if isinstance(out, (tuple, list)):
        ods = out_dims if isinstance(out_dims, (tuple, list)) else (out_dims,) * len(out)
        if len(ods) != len(out):
            raise ValueError(f"vmap: out_dims has {len(ods)} entries for {len(out)} outputs")
        return _rebuild(out, (_outputs(v, d, fn) for v, d in zip(out, ods)))
    if isinstance(out_dims, (tuple, list)):
        if len(out_dims) != 1:
            raise ValueError(f"vmap: out_dims has {len(out_dims)} entries for 1 output")
        out_dims = out_dims[0]
    return fn(out, out_dims)


def _rebuild(like: Any, items: Any) -> Any:
    """A tuple or list of the type of `like` holding `items`."""
    # A namedtuple (max(dim)'s values/indices, slogdet, eigh, …) takes its fields as arguments, not one iterable.
    return type(like)(*items) if hasattr(like, "_fields") else type(like)(items)


def _select(t: Tensor, dim: int, b: int) -> Tensor:
    return t[(slice(None),) * (dim % t.ndim) + (b,)]


def _narrow(t: Tensor, dim: int, start: int, length: int) -> Tensor:
    return t[(slice(None),) * (dim % t.ndim) + (slice(start, start + length),)]


def _stack_at(parts: list[Any], dim: Any) -> Any:
    if not isinstance(parts[0], Tensor):
        raise ValueError(f"vmap: the function must return Tensors (or tuples/lists/dicts of them), got {type(parts[0]).__name__}")
    if dim is None:  # an output declared the same for every sample
        return parts[0]
    return stack(parts, dim)


def _join(parts: list[Any], out_dims: Any) -> Any:
    """The chunks' results concatenated along out_dims."""
    return _combine(parts, out_dims, _cat_at)


def _combine(results: list[Any], out_dims: Any, join: Callable[[list[Any], Any], Any]) -> Any:
    """join(the results' leaves, out_dim) at every leaf of the (nested) output structure."""
    first = results[0]
    if isinstance(first, dict):
        ods = out_dims if isinstance(out_dims, dict) else {k: out_dims for k in first}
        return {k: _combine([r[k] for r in results], ods[k], join) for k in first}
    if isinstance(first, (tuple, list)):
        ods = out_dims if isinstance(out_dims, (tuple, list)) else (out_dims,) * len(first)
        return _rebuild(first, (_combine([r[k] for r in results], ods[k], join) for k in range(len(first))))
    if isinstance(out_dims, (tuple, list)):
        out_dims = out_dims[0]
    return join(results, out_dims)


def _cat_at(parts: list[Tensor], dim: Any) -> Tensor:
    return parts[0] if dim is None else cat(parts, dim)
