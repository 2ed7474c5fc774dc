"""optim: the lecture's learning algorithms (GD, momentum, RMSProp, Adam, …), step for step like torch.optim.

>>> import tinygrad_course as tc
>>> from tinygrad_course import optim
>>> w = tc.tensor([1.0, -2.0], requires_grad=True)
>>> opt = optim.SGD([w], lr=0.1, momentum=0.9)
>>> (w * w).sum().backward()
>>> opt.step()
>>> w
tensor([ 0.8, -1.6], requires_grad=True)
"""

from tinygrad_course.optim import lr_scheduler
from tinygrad_course.optim.adagrad import Adagrad
from tinygrad_course.optim.adam import Adam, AdamW
from tinygrad_course.optim.extra import Adadelta, Adamax, NAdam, RAdam
from tinygrad_course.optim.lbfgs import LBFGS
from tinygrad_course.optim.optimizer import Optimizer
from tinygrad_course.optim.rmsprop import RMSprop
from tinygrad_course.optim.sgd import SGD

__all__ = [
    "LBFGS", "SGD", "Adadelta", "Adagrad", "Adam", "AdamW", "Adamax", "NAdam", "Optimizer", "RAdam", "RMSprop",
    "lr_scheduler",
]
