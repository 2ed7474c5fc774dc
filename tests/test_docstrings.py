"""The examples in the core's docstrings run as written, and every public name has a docstring."""

from __future__ import annotations

import doctest

import pytest

import tinygrad_course as tc
from tinygrad_course import autograd

DOCUMENTED = [tc.Tensor, tc.Tensor.backward, tc.grad, autograd.backward, tc.no_grad, tc.set_grad_enabled,
              autograd.set_engine, autograd.Function, tc]


@pytest.mark.parametrize("obj", DOCUMENTED, ids=lambda o: getattr(o, "__qualname__", getattr(o, "__name__", "?")))
def test_docstring_examples_run(obj: object) -> None:
    finder = doctest.DocTestFinder(recurse=False)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(obj, globs={"tc": tc}):
        runner.run(test)
    assert runner.failures == 0
    assert runner.tries > 0 or ">>>" not in (obj.__doc__ or "")


@pytest.mark.parametrize("obj", DOCUMENTED[:5], ids=lambda o: o.__qualname__)
def test_core_entry_points_document_arguments_errors_and_an_example(obj: object) -> None:
    doc = obj.__doc__ or ""
    assert ">>> " in doc or "::" in doc, "an example"
    if obj is not tc.no_grad:
        assert "Raises:" in doc


def test_every_public_name_has_a_docstring() -> None:
    missing = [name for name in tc.__all__ if not isinstance(getattr(tc, name), type(tc))
               and callable(getattr(tc, name)) and not (getattr(tc, name).__doc__ or "").strip()]
    methods = [f"{cls.__name__}.{name}" for cls in tc.Tensor.__mro__[:-1] for name, value in vars(cls).items()
               if not name.startswith("_") and callable(value) and not (value.__doc__ or "").strip()]
    assert missing == [] and methods == []
