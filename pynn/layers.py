"""The dense (fully connected) layer.

Each of its ``n_out`` neurons takes a weighted sum of the ``n_in`` inputs plus
a bias and passes it through the activation:

    y = act(x @ W + b),   W of shape (n_in, n_out), b of shape (n_out,)

so ``W[i, j]`` is the weight from input ``i`` to neuron ``j``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Optional, Union

from . import activations, init as init_module
from ._typing import FloatArray, Initializer
from ._validation import as_int

if TYPE_CHECKING:
    from .network import Network


class Dense:
    """A fully connected layer ``y = act(x @ W + b)``.

    Parameters
    ----------
    n_in, n_out : int
        Number of inputs and of neurons.
    activation : str
        "linear", "sigmoid", "tanh", "relu", "leaky_relu" (slope 0.01), "gelu"
        (exact erf form) or "softmax" (last layer only).
    init : str or callable, optional
        Weight initialiser, a name from :mod:`pynn.init` or ``callable(shape, rng)``.
        Default: "he_normal" for relu, leaky_relu and gelu, "xavier_uniform" otherwise.
    bias_init : str or callable
        Bias initialiser, default "zeros".

    ``W`` and ``b`` are None until the layer is part of a :class:`pynn.Network`;
    then they are writable views into the network's parameter buffer, so
    ``layer.W[0, 1] = 0.5`` changes the network.

    >>> import pynn
    >>> layer = pynn.Dense(3, 2, activation="relu")
    >>> layer, layer.W
    (Dense(3, 2, activation='relu'), None)
    >>> layer.init.__name__, layer.bias_init.__name__      # the defaults for relu
    ('he_normal', 'zeros')
    >>> net = pynn.Network([layer], dtype="float64", seed=0)
    >>> layer.W.shape, layer.b.shape
    ((3, 2), (2,))
    >>> layer.W[...] = 1.0                                 # a view: this sets the network's weights
    >>> net.predict([[1, 2, 3]])                           # relu(1 + 2 + 3 + 0) for both neurons
    array([[6., 6.]])
    """

    def __init__(self, n_in: int, n_out: int, activation: str = "linear",
                 init: Union[str, Initializer, None] = None, bias_init: Union[str, Initializer] = "zeros") -> None:
        self.n_in = as_int(n_in, "n_in")
        self.n_out = as_int(n_out, "n_out")
        self.activation = activations.check_name(activation)
        if init is None:
            init = "he_normal" if activation in activations.RELU_FAMILY else "xavier_uniform"
        self.init: Initializer = init_module.get(init, "init")
        self.bias_init: Initializer = init_module.get(bias_init, "bias_init")
        self.W: Optional[FloatArray] = None
        self.b: Optional[FloatArray] = None
        self._network: Optional[Network] = None

    def _attach(self, network: Network, W: FloatArray, b: FloatArray) -> None:
        """Called by Network: the layer's parameters become views into its buffer."""
        if self._network is not None and self._network is not network:
            raise ValueError("this Dense layer already belongs to another Network; make a new layer")
        self._network = network
        self.W = W
        self.b = b

    def get_config(self) -> Dict[str, Any]:
        return {"type": "Dense", "n_in": self.n_in, "n_out": self.n_out, "activation": self.activation}

    def __repr__(self) -> str:
        return "Dense(%d, %d, activation=%r)" % (self.n_in, self.n_out, self.activation)
