"""tc.distributions: probability distributions with PyTorch's API (``torch.distributions``).

    >>> import tinygrad_course as tc
    >>> d = tc.distributions.Normal(tc.tensor(0.0), tc.tensor(1.0))
    >>> d.log_prob(tc.tensor(0.0))
    tensor(-0.9189)

Each distribution lives in its own module (`normal`, `uniform`, …); `kl` holds kl_divergence and
its registry; `constraints` the parameter and support checks.
"""

from tinygrad_course.distributions import constraints
from tinygrad_course.distributions.bernoulli import Bernoulli
from tinygrad_course.distributions.categorical import Categorical
from tinygrad_course.distributions.distribution import Distribution
from tinygrad_course.distributions.exponential import Exponential
from tinygrad_course.distributions.gamma import Beta, Gamma
from tinygrad_course.distributions.independent import Independent
from tinygrad_course.distributions.kl import kl_divergence, register_kl
from tinygrad_course.distributions.laplace import Laplace
from tinygrad_course.distributions.log_normal import LogNormal
from tinygrad_course.distributions.multivariate_normal import MultivariateNormal
from tinygrad_course.distributions.normal import Normal
from tinygrad_course.distributions.one_hot_categorical import OneHotCategorical
from tinygrad_course.distributions.poisson import Poisson
from tinygrad_course.distributions.uniform import Uniform

__all__ = [
    "Bernoulli", "Beta", "Categorical", "Distribution", "Exponential", "Gamma", "Independent", "Laplace",
    "LogNormal", "MultivariateNormal", "Normal", "OneHotCategorical", "Poisson", "Uniform", "constraints",
    "kl_divergence", "register_kl",
]
