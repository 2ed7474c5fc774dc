"""`tinygrad_course.onnx`: export a model to ONNX, as ``torch.onnx.export`` (needs the ``onnx`` package).

    tc.onnx.export(model, x, "model.onnx", input_names=["x"], output_names=["y"],
                   dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})

See docs/onnx.md for the op → ONNX table and the values that refuse to export.
"""

from tinygrad_course.onnx.errors import ExportError, FrozenValueError
from tinygrad_course.onnx.export import export

__all__ = ["ExportError", "FrozenValueError", "export"]
