"""pynn: a small, fast neural-network library.

Dense layers, losses, backpropagation and optimizer updates run in C (through
cffi), with a pure-numpy backend that gives the same numbers where the C core
is not built.

>>> import pynn
>>> net = pynn.Network([pynn.Dense(4, 16, "relu"), pynn.Dense(16, 3, "softmax")],
...                    loss="cross_entropy", optimizer=pynn.Adam(), seed=0)
>>> net.predict([[0.1, 0.2, 0.3, 0.4]]).shape
(1, 3)
"""
from . import callbacks, datasets, distributed, init, schedules
from .backends import available_backends, backend, set_backend
from .settings import get_num_threads, set_num_threads
from .errors import DivergenceError
from .gradcheck import GradcheckError, GradcheckResult, gradcheck
from .layers import Dense, Dropout
from .network import Network
from .onnx_export import export_onnx  # imports onnx only when called
from .lbfgs import LBFGS
from .optimizers import SGD, Adam, AdamW, Optimizer, RMSprop
from .serialization import load
from .training import Callback, History

__version__ = "0.1.0"


__all__ = [
    "Adam", "AdamW", "Callback", "LBFGS", "Dense", "DivergenceError", "Dropout", "GradcheckError", "GradcheckResult", "History", "Network",
    "Optimizer", "RMSprop", "SGD", "available_backends", "backend", "callbacks", "datasets", "export_onnx",
    "get_num_threads", "gradcheck", "init", "load", "schedules", "set_backend", "set_num_threads",
]
