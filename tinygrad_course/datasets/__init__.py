"""Built-in data, generated locally (no downloads): the lecture's regression data, toy
classification sets, and equilibrium configurations of the 2D Ising model (cached on disk).

    >>> import tinygrad_course as tc
    >>> from tinygrad_course import datasets
    >>> x, y = datasets.two_moons(100, noise=0.1)
    >>> x.shape, y.shape
    ((100, 2), (100,))
"""

from tinygrad_course.datasets.cache import default_cache_dir
from tinygrad_course.datasets.ising import TC_EXACT, IsingSamples, ising
from tinygrad_course.datasets.synthetic import polynomial_regression, spirals, two_moons

__all__ = ["TC_EXACT", "IsingSamples", "default_cache_dir", "ising", "polynomial_regression", "spirals", "two_moons"]
