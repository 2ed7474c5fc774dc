"""`tc.grad` inside vmap: gradients of batched outputs with respect to batched inputs.

Inside vmap the graph is built on the physical (batch-first) tensors, so ∂output/∂input of
one sample is the gradient of the physical output, seeded per sample, with respect to the
physical input — one backward for the whole batch. A seed may be batched over further vmap
levels (``vmap(vjp_fn)``, ``jacrev`` inside ``vmap``): it then enters the engine as a
BatchedTensor over those levels whose logical shape is the output's physical shape, and the
backward formulas run by their batching rules.

An input that is *not* batched over an output's level (a parameter shared by the samples)
has no per-sample gradient in that graph (the samples' contributions are already summed
there): that raises NeedsLoop, and the enclosing vmap runs sample by sample instead.
``tc.func.grad`` avoids this by giving every sample its own copy of what it differentiates.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_course.autograd.api import grad as autograd_grad
from tinygrad_course.autograd.api import register_batched_grad
from tinygrad_course.autograd.function import NeedsLoop
from tinygrad_course.autograd.grad_mode import mode
from tinygrad_course.tensor import Tensor
from tinygrad_course.tensor.batched import BatchedTensor, levels_of, physical


def batched_grad(outs: list[Any], ins: list[Any], grad_outputs: Any, create_graph: bool, retain_graph: bool | None,
                 allow_unused: bool) -> tuple[Any, ...] | None:
    """grad(outs, ins, grad_outputs) when an output or input is batched (None otherwise: the plain grad runs)."""
    if not any(isinstance(t, BatchedTensor) for t in (*outs, *ins)):
        return None
    out_levels = sorted({lv for o in outs for lv in levels_of(o)})
    for k, t in enumerate(ins):
        if not set(out_levels) <= set(levels_of(t)):
            raise NeedsLoop(f"grad: input {k} is shared by the samples of a vmap (not batched like the output), "
                            "so its per-sample gradient is not in the graph")
    seeds = list(grad_outputs) if grad_outputs is not None else [None] * len(outs)
    extra = sorted({lv for s in seeds if s is not None for lv in levels_of(s)} - set(out_levels))
    phys_seeds = [_seed(o, s, tuple(extra), k) for k, (o, s) in enumerate(zip(outs, seeds))]
    phys_outs = [o._inner if isinstance(o, BatchedTensor) else o for o in outs]
    phys_ins = [t._inner if isinstance(t, BatchedTensor) else t for t in ins]
    got = autograd_grad(phys_outs, phys_ins, phys_seeds, create_graph=create_graph, retain_graph=retain_graph,
                        allow_unused=allow_unused)
    return tuple(None if g is None else _unwrap(g, levels_of(t), tuple(extra)) for g, t in zip(got, ins))


def _seed(out: Any, seed: Any, extra: tuple[int, ...], k: int) -> Any:
    """The seed for out's physical tensor: batched over the `extra` levels only (a BatchedTensor whose
    logical shape is the physical output's), or a plain tensor when there are none."""
    own = levels_of(out)
    phys_shape = tuple(out._inner.shape) if isinstance(out, BatchedTensor) else tuple(out.shape)
    if seed is None:
        if out.numel() != 1:
            raise RuntimeError(f"grad: grad can be implicitly created only for scalar outputs, but output {k} "
                               f"has shape {tuple(out.shape)}; pass grad_outputs")
        return Tensor._make(np.ones(phys_shape, dtype=out.dtype), None)
    if not isinstance(seed, Tensor):
        seed = Tensor(seed, dtype=out.dtype)
    if tuple(seed.shape) != tuple(out.shape):
        raise RuntimeError(f"grad: gradient has shape {tuple(seed.shape)} but output {k} has shape {tuple(out.shape)}; "
                           "they must match")
    levels = tuple(sorted(set(own) | set(extra)))
    p = physical(seed, levels, mode.vmap_sizes)  # every level at full size, ascending
    if not extra:
        return p
    # The extra levels' dims first (they become the seed's batch dims), the output's own after.
    front = [levels.index(lv) for lv in extra]
    rest = [i for i in range(p.ndim) if i not in front]
    return BatchedTensor(p.permute(tuple(front + rest)), extra)


def _unwrap(g: Any, own: tuple[int, ...], extra: tuple[int, ...]) -> Any:
    """The gradient of an input batched over `own`, possibly batched over `extra` too, as one BatchedTensor."""
    if not extra or not isinstance(g, BatchedTensor):  # (a gradient the seeds do not reach is the same for all)
        return BatchedTensor(g, own) if own else g
    inner = g._inner  # dims: extra levels, then own levels, then the input's logical dims
    levels = tuple(sorted(set(own) | set(extra)))
    order = list(extra) + list(own)
    axes = tuple(order.index(lv) for lv in levels) + tuple(range(len(order), inner.ndim))
    moved = inner.permute(axes) if axes != tuple(range(inner.ndim)) else inner
    return BatchedTensor(moved, levels) if levels else moved


register_batched_grad(batched_grad)
