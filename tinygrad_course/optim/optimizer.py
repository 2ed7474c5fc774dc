"""`Optimizer`: parameter groups, lazily created per-parameter state, PyTorch's state_dict layout.

A subclass declares its hyper-parameters in `hyperparameters` (a table of `Hyper` checks) and
supplies two ways to apply its rule to every parameter of one group, skipping parameters whose
``.grad`` is None: `_update_group(group)`, the default fast path, in place on ``param._array``
(numpy) in a reused workspace, and `_reference_group(group)`, the plain rule of
`tinygrad_course.optim._reference`, taken when the group has ``foreach=False`` (PyTorch's
switch between its multi-tensor and its single-tensor code). Both keep the same state entries.
The update math never builds a graph: it works on the arrays only, so it needs no ``no_grad``.

Gradient arrays are only ever read: the engine may hand one array to several parameters
(``a + b``) or a read-only broadcast view, so writing into ``p.grad._array`` would be wrong.
Intermediate results go into a reused scratch workspace, so a step allocates no arrays (a
large temporary per step makes glibc's malloc return memory to the OS and fault it in again).
"""

from __future__ import annotations

import math
import numbers
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from tinygrad_course import autograd
from tinygrad_course.autograd import version
from tinygrad_course.tensor import Tensor
from tinygrad_course.tensor.creation import tensor

ParamsT = Iterable[Tensor] | Iterable[dict[str, Any]]


def check_range(
    where: str, name: str, value: Any, low: float, high: float = math.inf, high_inclusive: bool = False
) -> None:
    """Raise unless low ≤ value < high (≤ high if `high_inclusive`); NaN is always rejected."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{where}{name} must be a real number, got {type(value).__name__} ({value!r})")
    v = float(value)
    inside = low <= v and (v <= high if high_inclusive else v < high)  # False for NaN
    if not inside:
        accepted = f"[{low:g}, {high:g}{']' if high_inclusive else ')'}"
        raise ValueError(f"{where}{name} must be in {accepted}, got {value!r}")


def check_flag(where: str, name: str, value: Any) -> None:
    """Raise unless `value` is a bool."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{where}{name} must be True or False, got {type(value).__name__} ({value!r})")


def check_optional_flag(where: str, name: str, value: Any) -> None:
    """Raise unless `value` is a bool or None."""
    if value is not None and not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{where}{name} must be True, False or None, got {type(value).__name__} ({value!r})")


@dataclass(frozen=True)
class Hyper:
    """One hyper-parameter's check: a real number in [low, high) (``]`` if `high_inclusive`), a flag, or a pair.

    ``kind="real"``: `check_range`; ``"flag"``: `check_flag`; ``"pair"``: a tuple or list of two
    reals (named `parts` in the message), each checked like ``"real"`` as ``name[0]``, ``name[1]``.
    """

    name: str
    kind: Literal["real", "flag", "pair"] = "real"
    low: float = 0.0
    high: float = math.inf
    high_inclusive: bool = False
    parts: tuple[str, ...] = ()

    def check(self, where: str, value: Any) -> None:
        """Raise ValueError/TypeError naming `where`, the hyper-parameter and its accepted range."""
        if self.kind == "flag":
            check_flag(where, self.name, value)
        elif self.kind == "real":
            check_range(where, self.name, value, self.low, self.high, self.high_inclusive)
        elif self.kind == "pair":
            if not isinstance(value, (tuple, list)) or len(value) != 2:
                accepted = f"[{self.low:g}, {self.high:g}{']' if self.high_inclusive else ')'}"
                raise ValueError(
                    f"{where}{self.name} must be a pair ({', '.join(self.parts)}) with each in {accepted}, got {value!r}"
                )
            for i, item in enumerate(value):
                check_range(where, f"{self.name}[{i}]", item, self.low, self.high, self.high_inclusive)
        else:
            raise AssertionError(f"Hyper {self.name!r}: unknown kind {self.kind!r}")


class Workspace:
    """Flat scratch arrays, one per dtype, reused across steps (a step then allocates nothing).

    ``buffer(like, k)`` is the k-th scratch array with the shape and dtype of `like`; buffers
    with different k never overlap. Contents are garbage until written.
    """

    def __init__(self) -> None:
        """Start empty; buffers grow on first use."""
        self._flat: dict[np.dtype, np.ndarray] = {}

    def buffer(self, like: np.ndarray, k: int) -> np.ndarray:
        """A scratch view shaped like `like` (slot k of the flat array for its dtype)."""
        n = like.size
        flat = self._flat.get(like.dtype)
        if flat is None or flat.size < (k + 1) * n:
            size = max((k + 1) * n, 0 if flat is None else flat.size)
            flat = np.empty(size, dtype=like.dtype)
            self._flat[like.dtype] = flat
        return flat[k * n : (k + 1) * n].reshape(like.shape)


def effective_grad(
    param: np.ndarray, grad: np.ndarray, weight_decay: float, maximize: bool, out: np.ndarray
) -> np.ndarray:
    """g ← −∇C if maximize; g ← g + λ p if λ ≠ 0 — written into `out` (the gradient itself if neither)."""
    if weight_decay == 0:
        if not maximize:
            return grad
        return np.negative(grad, out=out)
    np.multiply(param, weight_decay, out=out)
    if maximize:
        out -= grad  # λp − g == (−g) + λp exactly
    else:
        out += grad
    return out


def lerp_(a: np.ndarray, b: np.ndarray, weight: float, tmp: np.ndarray) -> None:
    """a ← a + w (b − a) in place, with torch.lerp's two branches (exact at w = 1)."""
    np.subtract(b, a, out=tmp)
    if weight < 0.5:
        tmp *= weight
        a += tmp
    else:
        tmp *= 1.0 - weight
        np.subtract(b, tmp, out=a)


def real_view(a: np.ndarray) -> np.ndarray:
    """A complex array's memory as real numbers (Re, Im interleaved), PyTorch's view_as_real in the
    optimizers: every update rule then treats the real and imaginary parts as two parameters
    (Adam's g² is (Re g)² and (Im g)², not g·g). A real array is returned as it is."""
    return a.view(a.real.dtype) if a.dtype.kind == "c" else a


def zero_grad_array(grad: Tensor) -> None:
    """Zero a ``.grad`` Tensor: in place when it alone holds its array, else a fresh array of zeros.

    The count of 3 is the Tensor's reference, the local name and `getrefcount`'s argument: any
    other Tensor, view (its ``.base``) or saved value sharing the memory makes it more.
    """
    array = grad._array
    if array.base is None and array.flags.writeable and sys.getrefcount(array) <= 3:
        array.fill(0)
    else:
        grad._array = np.zeros_like(array)


class Optimizer:
    """Base class of the optimizers: holds `param_groups`, per-parameter `state` and `defaults`.

    ``params`` is an iterable of Tensors, or of dicts (param groups) with a ``"params"`` entry and
    per-group hyper-parameters that override `defaults`.
    """

    # The hyper-parameters of a group and their ranges, checked in this order (``foreach`` last).
    hyperparameters: tuple[Hyper, ...] = ()
    # Per-parameter state entries this optimizer keeps (load_state_dict accepts only these), in
    # the order the default path creates them.
    _state_names: tuple[str, ...] = ()
    # Hyper-parameters whose value tells optimizer types apart (Adam vs AdamW); must match on load.
    _type_keys: tuple[str, ...] = ()

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        """Validate `defaults` and add every parameter group."""
        self.defaults: dict[str, Any] = dict(defaults)
        self._check_hyperparameters(self.defaults, f"{self._name()}: ")
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        self._workspace = Workspace()
        if isinstance(params, Tensor):
            raise TypeError(
                f"{self._name()}: params should be an iterable of Tensors or dicts, got a single Tensor "
                f"(shape {params.shape}); pass [tensor] or model.parameters()"
            )
        if isinstance(params, (set, frozenset)):
            raise TypeError(
                f"{self._name()}: params must be an ordered collection (list), not a set: a set's order changes between runs"
            )
        groups = list(params)
        if not groups:
            raise ValueError(
                f"{self._name()}: got an empty parameter list; pass model.parameters() or a non-empty list of Tensors"
            )
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def _name(self) -> str:
        return type(self).__name__

    def _check_hyperparameters(self, group: dict[str, Any], where: str) -> None:
        """Raise ValueError/TypeError for a hyper-parameter out of range (the `hyperparameters` table, then foreach)."""
        for hyper in self.hyperparameters:
            hyper.check(where, group[hyper.name])
        if "foreach" in group:  # a subclass outside this package may not know foreach
            check_optional_flag(where, "foreach", group["foreach"])

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group: ``{"params": [...], **overrides}``; missing hyper-parameters come from `defaults`."""
        name = self._name()
        if not isinstance(param_group, dict):
            raise TypeError(
                f"{name}.add_param_group: a param group must be a dict with a 'params' entry, got {type(param_group).__name__}"
            )
        if "params" not in param_group:
            raise ValueError(
                f"{name}.add_param_group: the param group has no 'params' entry (keys: {sorted(param_group)})"
            )
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(f"{name}: a group's params must be an ordered collection (list), not a set")
        else:
            params = list(params)
        index = len(self.param_groups)
        where = f"{name}: param_groups[{index}]"
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"{where}: params[{i}] is a {type(p).__name__}; only Tensors can be optimized")
            if not p.is_leaf:
                raise ValueError(
                    f"{where}: params[{i}] (shape {p.shape}) is not a leaf (made by {p.grad_fn.name()}); "
                    "only leaf tensors can be optimized"
                )
            if p.dtype.kind not in "fc":
                raise ValueError(
                    f"{where}: params[{i}] has dtype {p.dtype}; only floating-point tensors (and complex ones) can be optimized"
                )
        first: dict[int, int] = {}
        for i, p in enumerate(params):
            if id(p) in first:
                raise ValueError(
                    f"{where}: params[{first[id(p)]}] and params[{i}] are the same tensor; a parameter may appear once"
                )
            first[id(p)] = i
        for k, other in enumerate(self.param_groups):
            for q in other["params"]:
                if id(q) in first:
                    raise ValueError(
                        f"{name}: some parameters appear in more than one parameter group: params[{first[id(q)]}] "
                        f"(shape {q.shape}) of param_groups[{index}] is already in param_groups[{k}]"
                    )
        group = {key: value for key, value in param_group.items() if key != "params"}
        for key, default in self.defaults.items():
            group.setdefault(key, default)
        self._check_hyperparameters(group, where + ": ")
        group["params"] = params
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: ``p.grad = None`` (default), or fill them with zeros.

        With ``set_to_none=False`` the ``.grad`` Tensor stays the same object, as in PyTorch,
        and its array is zeroed in place when nothing else holds that memory (no other Tensor,
        view or saved value: checked by reference count), so a training loop reuses its
        gradient buffers instead of allocating them every step; otherwise it gets a fresh
        array of zeros, leaving whatever shares the old one untouched.
        """
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                elif p.grad.grad_fn is not None:
                    p.grad = tensor(np.zeros_like(p.grad._array))
                else:
                    zero_grad_array(p.grad)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter with a gradient; `closure` (re-evaluating the loss) is called first."""
        loss = None
        if closure is not None:
            with autograd.enable_grad():
                loss = closure()
        for group in self.param_groups:
            if group.get("foreach") is False:
                self._reference_group(group)
            else:
                self._update_group(group)
            # written in place: a graph made before this step must not use the old values
            version.bump(*[p._array for p in group["params"] if p.grad is not None])
        return loss

    def _update_group(self, group: dict[str, Any]) -> None:
        raise NotImplementedError(f"{self._name()} does not implement _update_group(group)")

    def _reference_group(self, group: dict[str, Any]) -> None:
        raise NotImplementedError(f"{self._name()} does not implement _reference_group(group)")

    def _apply_rule(self, group: dict[str, Any], rule: Callable[..., Any], **hyperparameters: Any) -> None:
        """foreach=False: p, state ← rule(p, g, state, **hyperparameters) for every parameter with a gradient.

        The state keeps the default path's layout: the same names in the same order, arrays in
        Tensors of the parameter's dtype (updated in place once they exist), ``step`` an int.
        """
        for p in group["params"]:
            if p.grad is None:
                continue
            grad = real_view(self._grad_of(p))
            state = self.state[p] if p in self.state else {}
            arrays = {key: real_view(value._array) if isinstance(value, Tensor) else value for key, value in state.items()}
            new_param, new_state = rule(real_view(p._array), grad, arrays, **hyperparameters)
            unknown = sorted(set(new_state) - set(self._state_names))
            if unknown:
                raise AssertionError(f"{self._name()}: the reference rule made state entries {unknown}")
            real_view(p._array)[...] = new_param
            for key in self._state_names:
                if key not in new_state:
                    continue
                value = new_state[key]
                if not isinstance(value, np.ndarray):
                    state[key] = value
                elif key in state:
                    real_view(state[key]._array)[...] = value
                elif p.dtype.kind == "c":  # the state of a complex parameter is complex, as PyTorch's
                    state[key] = tensor(np.ascontiguousarray(value, dtype=p.dtype.type(0).real.dtype).view(p.dtype))
                else:
                    state[key] = tensor(value, dtype=p.dtype)
            if state and p not in self.state:
                self.state[p] = state

    def _grad_of(self, p: Tensor) -> np.ndarray:
        """The gradient array of `p`, checked to have p's shape."""
        grad = p.grad._array
        if grad.shape != p._array.shape:
            raise ValueError(
                f"{self._name()}.step: a parameter of shape {p.shape} has a gradient of shape {grad.shape}"
            )
        return grad

    # ------------------------------------------------------------------ state dict
    def state_dict(self) -> dict[str, Any]:
        """``{"state": {index: {name: Tensor | int}}, "param_groups": [{..., "params": [indices]}]}``.

        PyTorch's layout: parameters are numbered in group order; state tensors are copies (a
        snapshot), so the dict stays valid while training goes on.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {key: value for key, value in group.items() if key != "params"}
            ids = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            packed["params"] = ids
            groups.append(packed)
        state: dict[int, dict[str, Any]] = {}
        for group in self.param_groups:
            for p in group["params"]:
                entry = self.state.get(p)
                if entry:
                    state[index[id(p)]] = {
                        key: tensor(value._array) if isinstance(value, Tensor) else value for key, value in entry.items()
                    }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore hyper-parameters and state from `state_dict()` of the same optimizer type and groups.

        Raises ValueError (naming the group, index or key) when the dict does not fit; nothing
        is changed then.
        """
        name = self._name()
        if not isinstance(state_dict, dict) or set(state_dict) != {"state", "param_groups"}:
            got = sorted(map(str, state_dict)) if isinstance(state_dict, dict) else type(state_dict).__name__
            raise ValueError(f"{name}.load_state_dict: expected a dict with keys 'state' and 'param_groups', got {got}")
        saved_groups = state_dict["param_groups"]
        if not isinstance(saved_groups, (list, tuple)) or len(saved_groups) != len(self.param_groups):
            got = len(saved_groups) if isinstance(saved_groups, (list, tuple)) else type(saved_groups).__name__
            raise ValueError(
                f"{name}.load_state_dict: loaded state dict has a different number of parameter groups "
                f"({got}) than this optimizer ({len(self.param_groups)})"
            )
        id_map: dict[Any, Tensor] = {}
        new_groups = []
        for k, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            new_groups.append(self._match_group(k, group, saved, id_map))
        saved_state = state_dict["state"]
        if not isinstance(saved_state, dict):
            raise ValueError(
                f"{name}.load_state_dict: 'state' must be a dict keyed by parameter index, got {type(saved_state).__name__}"
            )
        new_state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        for key, entry in saved_state.items():
            if key not in id_map:
                raise ValueError(
                    f"{name}.load_state_dict: 'state' has an entry for parameter {key!r}, which no param group lists"
                )
            param = id_map[key]
            new_state[param] = self._cast_state(key, param, entry)
        self.param_groups = new_groups
        self.state = new_state

    def _match_group(self, k: int, group: dict[str, Any], saved: Any, id_map: dict[Any, Tensor]) -> dict[str, Any]:
        """Check one saved group against ours; return the group to install (saved values, our params)."""
        name = self._name()
        if not isinstance(saved, dict) or "params" not in saved:
            raise ValueError(f"{name}.load_state_dict: param_groups[{k}] must be a dict with a 'params' entry")
        # ``foreach`` may be absent from dicts saved before it existed; it is None then, as in PyTorch.
        missing = sorted(key for key in self.defaults if key not in saved and key != "foreach")
        if missing:
            raise ValueError(
                f"{name}.load_state_dict: param_groups[{k}] lacks the hyper-parameters {missing} of {name}: "
                "the state dict was saved from a different optimizer type"
            )
        for key in self._type_keys:
            if saved[key] != group[key]:
                raise ValueError(
                    f"{name}.load_state_dict: param_groups[{k}] has {key}={saved[key]!r} but this optimizer has "
                    f"{key}={group[key]!r}: the state dict was saved from a different optimizer type"
                )
        params = group["params"]
        saved_params = saved["params"]
        if not isinstance(saved_params, (list, tuple)) or len(saved_params) != len(params):
            got = len(saved_params) if isinstance(saved_params, (list, tuple)) else type(saved_params).__name__
            raise ValueError(
                f"{name}.load_state_dict: loaded param_groups[{k}] has {got} parameters, this optimizer's has {len(params)}; "
                "the groups must match in size"
            )
        for saved_id, p in zip(saved_params, params):
            id_map[saved_id] = p
        new_group = {key: value for key, value in saved.items() if key != "params"}
        if "foreach" in self.defaults:
            new_group.setdefault("foreach", None)
        self._check_hyperparameters(new_group, f"{name}.load_state_dict: param_groups[{k}]: ")
        new_group["params"] = params
        return new_group

    def _cast_state(self, key: Any, param: Tensor, entry: Any) -> dict[str, Any]:
        """Validate a saved state entry and copy it into Tensors of the parameter's dtype."""
        name = self._name()
        if not isinstance(entry, dict):
            raise ValueError(f"{name}.load_state_dict: state[{key!r}] must be a dict, got {type(entry).__name__}")
        out: dict[str, Any] = {}
        for entry_name, value in entry.items():
            if entry_name not in self._state_names:
                raise ValueError(
                    f"{name}.load_state_dict: state[{key!r}] has an entry {entry_name!r}; {name} keeps only "
                    f"{list(self._state_names)} (was the state dict saved from a different optimizer type?)"
                )
            if entry_name == "step":
                if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < 0:
                    raise ValueError(
                        f"{name}.load_state_dict: state[{key!r}]['step'] must be an int >= 0, got {value!r}"
                    )
                out["step"] = int(value)
                continue
            array = value._array if isinstance(value, Tensor) else value
            if not isinstance(array, np.ndarray) or array.shape != param.shape:
                got = array.shape if isinstance(array, np.ndarray) else type(array).__name__
                raise ValueError(
                    f"{name}.load_state_dict: state[{key!r}][{entry_name!r}] has shape {got}, "
                    f"but the parameter has shape {param.shape}"
                )
            out[entry_name] = tensor(array, dtype=param.dtype)
        return out

    def __repr__(self) -> str:
        lines = [f"{self._name()} ("]
        for k, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {k}")
            for key in sorted(group):
                if key != "params":
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)
