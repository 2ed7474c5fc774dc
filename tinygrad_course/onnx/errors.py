"""The exporter's two errors."""


class FrozenValueError(RuntimeError):
    """A value computed outside the graph from the input would be exported as a constant."""


class ExportError(RuntimeError):
    """The graph cannot be expressed in ONNX by this exporter."""
