"""`Module` (the base of every layer) and `Parameter` (a Tensor that a Module learns).

A Module finds its parameters, buffers and sub-modules through attribute assignment:
``self.fc = Linear(2, 3)`` registers ``fc`` in ``_modules`` (checked explicitly in
`__setattr__`). Names are dotted paths, as in PyTorch: ``fc.weight``, ``0.bias``,
``bn.running_mean``; `state_dict` uses the same keys as PyTorch for the same model.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from tinygrad_course.autograd import version
from tinygrad_course.autograd.grad_mode import mode
from tinygrad_course.autograd.graph import module_scope
from tinygrad_course.tensor import Tensor, dtypes
from tinygrad_course.tensor import device as device_
from tinygrad_course.tensor.creation import tensor
from tinygrad_course.tensor.tensor import register_plain_type


class Parameter(Tensor):
    """A leaf Tensor that requires grad and that a Module registers as one of its parameters.

    ``Parameter(tensor)`` shares the tensor's array (like PyTorch); other data is copied.
    Ops on a Parameter return plain Tensors.
    """

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        """Wrap `data` (Tensor, array or numbers; None means an empty float tensor)."""
        if data is None:
            data = np.empty((0,), dtype=np.float32)
        if isinstance(data, Tensor):
            self._array = data._array
        else:
            self._array = tensor(data)._array
        self.grad = None
        self.grad_fn = None
        self._hooks = None
        self._requires_grad = False
        self.requires_grad_(requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + Tensor._make(self._array, None).__repr__()[:-1] + ", requires_grad=True)"


class IncompatibleKeys(NamedTuple):
    """What `load_state_dict(strict=False)` returns: the keys it did not find and did not use."""

    missing_keys: list[str]
    unexpected_keys: list[str]



register_plain_type(Parameter)  # the operators' one-step path takes parameters too

class Module:
    """Base class of layers and models: subclass it, assign sub-modules and Parameters in
    ``__init__`` (after ``super().__init__()``) and define ``forward``.

    Calling the module runs ``forward`` inside ``autograd.module_scope(self)``, so that the ops
    it creates can be drawn as one cluster.
    """

    training: bool

    def __init__(self) -> None:
        """Create the empty registries and set training mode."""
        d = self.__dict__
        d["_parameters"] = {}
        d["_buffers"] = {}
        d["_non_persistent_buffers"] = set()
        d["_modules"] = {}
        d["training"] = True

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The computation of this module; every subclass defines it."""
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not mode.grad_enabled:  # no nodes are recorded, so none needs to know its module
            return self.forward(*args, **kwargs)
        with module_scope(self):  # the ops made inside belong to this module (for the renderer)
            return self.forward(*args, **kwargs)

    # ------------------------------------------------------------------ registration
    def _registries(self, name: str) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        d = self.__dict__
        if "_parameters" not in d:
            raise AttributeError(
                f"cannot assign {name!r} before Module.__init__() call; call super().__init__() "
                f"first in {type(self).__name__}.__init__"
            )
        return d["_parameters"], d["_buffers"], d["_modules"]

    def __setattr__(self, name: str, value: Any) -> None:
        # Every registered value is also kept in __dict__, so reading self.weight is a plain
        # attribute lookup (fast in forward); this method and __delattr__ keep both in step.
        if isinstance(value, Parameter):
            self.register_parameter(name, value)
            return
        if isinstance(value, Module):
            self.add_module(name, value)
            return
        d = self.__dict__
        params, buffers, modules = d.get("_parameters", {}), d.get("_buffers", {}), d.get("_modules", {})
        if name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} as parameter {name!r} of "
                    f"{type(self).__name__} (nn.Parameter or None expected); wrap it in nn.Parameter"
                )
            params[name] = None
        elif name in modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} as child module {name!r} of "
                    f"{type(self).__name__} (nn.Module or None expected)"
                )
            modules[name] = None
        elif name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign {type(value).__name__} as buffer {name!r} of "
                    f"{type(self).__name__} (Tensor or None expected)"
                )
            buffers[name] = value
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        d = self.__dict__
        for registry in (d.get("_parameters", {}), d.get("_buffers", {}), d.get("_modules", {})):
            registry.pop(name, None)
        d.get("_non_persistent_buffers", set()).discard(name)
        object.__delattr__(self, name)

    def _check_name(self, name: Any, kind: str) -> None:
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a str, got {type(name).__name__}")
        if "." in name or name == "":
            raise KeyError(f"{kind} name can't contain '.' or be empty, got {name!r}")

    def _unregister(self, name: str) -> None:
        params, buffers, modules = self._registries(name)
        params.pop(name, None)
        buffers.pop(name, None)
        modules.pop(name, None)
        self.__dict__["_non_persistent_buffers"].discard(name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register `param` under `name` (None registers an absent parameter, e.g. no bias)."""
        self._registries(name)
        self._check_name(name, "parameter")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign {type(param).__name__} as parameter {name!r} "
                "(nn.Parameter or None expected)"
            )
        self._unregister(name)
        self.__dict__["_parameters"][name] = param
        self.__dict__[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Register a Tensor that is state but not a parameter (e.g. BatchNorm's running_mean).

        Persistent buffers are part of `state_dict`.
        """
        self._registries(name)
        self._check_name(name, "buffer")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign {type(tensor).__name__} as buffer {name!r} (Tensor or None expected)")
        self._unregister(name)
        self.__dict__["_buffers"][name] = tensor
        if not persistent:
            self.__dict__["_non_persistent_buffers"].add(name)
        self.__dict__[name] = tensor

    def add_module(self, name: str, module: Module | None) -> None:
        """Register `module` as a child under `name` (its parameters become ``name.…``)."""
        self._registries(name)
        self._check_name(name, "module")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {type(module).__name__} is not a Module (child {name!r})")
        self._unregister(name)
        self.__dict__["_modules"][name] = module
        self.__dict__[name] = module

    register_module = add_module

    # ------------------------------------------------------------------ traversal
    def named_modules(self, prefix: str = "", remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """(dotted name, module) for this module and every descendant, depth first (self first, as '')."""
        seen: set[int] = set()
        stack: list[tuple[str, Module]] = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if remove_duplicate:
                if id(module) in seen:
                    continue
                seen.add(id(module))
            yield name, module
            children = [
                (f"{name}.{key}" if name else key, child)
                for key, child in module._modules.items()
                if child is not None
            ]
            stack.extend(reversed(children))  # reversed: pop in registration order

    def modules(self) -> Iterator[Module]:
        """This module and every descendant (each once), depth first."""
        return iter(self._walk())

    def _walk(self) -> list[Module]:
        # named_modules without the names (the fast path of parameters() and train()): depth
        # first, self first, children in registration order, each module once.
        found = {self: None}  # a dict as an ordered set (modules hash by identity)
        _collect_modules(self, found)
        return list(found)

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """(name, module) for the direct children."""
        seen: set[int] = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self) -> Iterator[Module]:
        """The direct children."""
        for _, child in self.named_children():
            yield child

    def named_parameters(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) for every parameter, e.g. ``('fc1.weight', …)``; shared ones once."""
        modules = self.named_modules(prefix, remove_duplicate) if recurse else iter([(prefix, self)])
        seen: set[int] = set()
        for mod_name, module in modules:
            for name, p in module._parameters.items():
                if p is None or (remove_duplicate and id(p) in seen):
                    continue
                seen.add(id(p))
                yield (f"{mod_name}.{name}" if mod_name else name), p

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter (each shared one once), in registration order; pass it to an optimizer."""
        # Runs twice per training step (zero_grad and the update), so it walks plainly without
        # building names; a dict keeps the order and drops shared parameters (and None) once.
        found: dict[Any, None] = {}
        for module in self._walk() if recurse else (self,):
            for p in module._parameters.values():
                found[p] = None
        found.pop(None, None)
        return iter(found)

    def named_buffers(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        """(dotted name, buffer) for every buffer, e.g. ``('bn.running_mean', …)``."""
        modules = self.named_modules(prefix, remove_duplicate) if recurse else iter([(prefix, self)])
        seen: set[int] = set()
        for mod_name, module in modules:
            for name, b in module._buffers.items():
                if b is None or (remove_duplicate and id(b) in seen):
                    continue
                seen.add(id(b))
                yield (f"{mod_name}.{name}" if mod_name else name), b

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Every buffer."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call fn(m) on every descendant and then on self (e.g. custom initialisation); returns self."""
        for module in reversed(list(self.modules())):
            fn(module)
        return self

    # ------------------------------------------------------------------ modes and grads
    def train(self, mode: bool = True) -> Module:
        """Set training mode (Dropout drops, BatchNorm uses batch statistics) here and below; returns self."""
        if not isinstance(mode, bool):
            raise ValueError(f"train: mode is expected to be a bool, got {type(mode).__name__}")
        for module in self.modules():
            module.__dict__["training"] = mode
        return self

    def eval(self) -> Module:
        """Set evaluation mode (``train(False)``); returns self."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Switch gradient recording on or off for all parameters (e.g. to freeze a layer); returns self."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def to(self, *args: Any, **kwargs: Any) -> Module:
        """Convert the floating parameters and buffers in place (the same Parameter objects): ``to(dtype)``,
        ``to(device)``, ``to(device, dtype)``, ``to(tensor)``; the device is always the CPU."""
        dtype, _, _ = device_.parse_to(args, kwargs, "Module.to")
        if dtype is None:
            return self
        d = dtypes.as_dtype(dtype, "Module.to")
        if d.kind not in "fc":
            raise TypeError(f"Module.to: only floating and complex dtypes are accepted for a module, got {d}")
        for t in [*self.parameters(), *self.buffers()]:
            if t.dtype.kind in "fc" and t.dtype != d:
                # In place: optimizers and callers keep the same objects (complex → real keeps Re, as PyTorch).
                t._array = (t._array.real if t.dtype.kind == "c" and d.kind == "f" else t._array).astype(d)
                if t.grad is not None:
                    t.grad = t.grad.to(d)
        return self

    def double(self) -> Module:
        """Floating parameters and buffers to float64, in place."""
        return self.to(dtypes.float64)

    def float(self) -> Module:
        """Floating parameters and buffers to float32, in place."""
        return self.to(dtypes.float32)

    def half(self) -> Module:
        """Floating parameters and buffers to float16, in place."""
        return self.to(dtypes.float16)

    def type(self, dst_type: Any) -> Module:
        """Floating parameters and buffers to `dst_type`, in place."""
        return self.to(dst_type)

    def cpu(self) -> Module:
        """This module (it is on the CPU already)."""
        return self

    def cuda(self, device: Any = None) -> Module:
        """Refused with a clear error: there is only the CPU."""
        device_.check("cuda" if device is None else device, "Module.cuda")
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all parameters: to None (default) or to zeros."""
        if set_to_none:
            # Straight through the modules' registries (no list of parameters is needed).
            for module in self._walk():
                for p in module._parameters.values():
                    if p is not None:
                        p.grad = None
            return
        for p in self.parameters():
            grad = p.grad
            if grad is None:
                continue
            array = grad._array
            if grad.grad_fn is not None:
                p.grad = Tensor._make(np.zeros_like(p._array), None)
            elif array.base is None and array.flags.writeable and sys.getrefcount(array) <= 3:
                # The same .grad Tensor, zeroed in place (PyTorch's zero_()): its array is held
                # by nothing else (the count: the Tensor, the local name, getrefcount's argument).
                array.fill(0)
            else:
                # A fresh array: this .grad shares memory with another tensor (a view, another .grad).
                grad._array = np.zeros_like(array)

    # ------------------------------------------------------------------ state
    def state_dict(self, destination: dict[str, Any] | None = None, prefix: str = "", keep_vars: bool = False) -> dict[str, Tensor]:
        """{dotted name: tensor} of all parameters and persistent buffers (PyTorch's keys).

        The tensors share memory with the module's (detached unless `keep_vars`).
        """
        out: dict[str, Any] = {} if destination is None else destination
        for mod_name, module in self.named_modules(prefix.rstrip("."), remove_duplicate=False):
            head = f"{mod_name}." if mod_name else ""
            for name, p in module._parameters.items():
                if p is not None:
                    out[head + name] = p if keep_vars else p.detach()
            for name, b in module._buffers.items():
                if b is not None and name not in module._non_persistent_buffers:
                    out[head + name] = b if keep_vars else b.detach()
        return out

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy values from `state_dict` into the parameters and buffers (in place, cast to their dtype).

        Every problem is reported at once, and nothing is copied if there is one: shape
        mismatches always raise; missing and unexpected keys raise when `strict`, and are
        returned as ``(missing_keys, unexpected_keys)`` otherwise.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"load_state_dict: expected a dict of tensors, got {type(state_dict).__name__}")
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        problems = []
        values: list[tuple[Tensor, np.ndarray]] = []
        for key, target in own.items():
            if key not in state_dict:
                continue
            given = state_dict[key]
            array = given._array if isinstance(given, Tensor) else np.asarray(given)
            if array.shape != target.shape:
                problems.append(
                    f"size mismatch for {key}: copying a param with shape {tuple(array.shape)} from "
                    f"checkpoint, the shape in current model is {tuple(target.shape)}."
                )
            else:
                values.append((target, array))
        if strict and unexpected:
            problems.insert(0, "Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected) + ".")
        if strict and missing:
            problems.insert(0, "Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ".")
        if problems:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__} (nothing was loaded):\n\t"
                + "\n\t".join(problems)
            )
        for target, array in values:
            target._array[...] = array
            version.bump(target._array)  # a graph made before the load must not use the old values
        return IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------ repr
    def extra_repr(self) -> str:
        """The part inside the parentheses of this module's repr (layers show their sizes)."""
        return ""

    def __repr__(self) -> str:
        lines = []
        extra = self.extra_repr()
        if extra:
            lines.extend(extra.split("\n"))
        for name, child in self._modules.items():
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"({name}): {body}")
        head = type(self).__name__ + "("
        if not lines:
            return head + ")"
        if len(lines) == 1 and not self._modules:
            return head + lines[0] + ")"
        return head + "\n  " + "\n  ".join(lines) + "\n)"


def _collect_modules(module: Module, found: dict[Module, None]) -> None:
    """Add the descendants of `module` to `found`, depth first (recursion depth = model depth)."""
    for child in module._modules.values():
        if child is not None and child not in found:
            found[child] = None
            if child._modules:  # most layers have no children: no call for them
                _collect_modules(child, found)
