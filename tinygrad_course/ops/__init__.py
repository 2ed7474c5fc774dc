"""One Primitive (a Function on numpy arrays) per op, grouped by kind; ops/_kernels.py holds the tricks."""
