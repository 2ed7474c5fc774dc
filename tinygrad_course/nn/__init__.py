"""`tinygrad_course.nn`: modules, layers, losses, initialisation (PyTorch's ``torch.nn`` names).

    >>> from tinygrad_course import nn
    >>> model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))
    >>> [name for name, _ in model.named_parameters()]
    ['0.weight', '0.bias', '2.weight', '2.bias']
"""

from tinygrad_course.nn import functional, init, utils
from tinygrad_course.nn.activation import GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Softplus, Tanh
from tinygrad_course.nn.containers import ModuleDict, ModuleList, Sequential
from tinygrad_course.nn.conv import AvgPool2d, Conv2d, MaxPool2d
from tinygrad_course.nn.layers import BatchNorm1d, BatchNorm2d, Dropout, Embedding, Flatten, Identity, LayerNorm, Linear
from tinygrad_course.nn.losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, L1Loss, MSELoss, NLLLoss
from tinygrad_course.nn.module import IncompatibleKeys, Module, Parameter

__all__ = [
    "AvgPool2d", "BCELoss", "BCEWithLogitsLoss", "BatchNorm1d", "BatchNorm2d", "Conv2d", "CrossEntropyLoss",
    "Dropout", "Embedding", "Flatten", "GELU", "HuberLoss", "Identity", "IncompatibleKeys", "L1Loss",
    "LayerNorm", "LeakyReLU", "Linear", "LogSoftmax", "MSELoss", "MaxPool2d", "Module", "ModuleDict",
    "ModuleList", "NLLLoss", "Parameter", "ReLU", "Sequential", "Sigmoid", "Softmax", "Softplus", "Tanh",
    "functional", "init", "utils",
]
