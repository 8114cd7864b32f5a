"""The layers: Dense (fully connected) and Dropout.

Each of a Dense layer's ``n_out`` neurons takes a weighted sum of the
``n_in`` inputs plus a bias and passes it through the activation:

    y = act(x @ W + b),   W of shape (n_in, n_out), b of shape (n_out,)

so ``W[i, j]`` is the weight from input ``i`` to neuron ``j``.  A Dropout
layer between two Dense layers (or before the first) zeroes random inputs of
the next one during training.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Union

from . import activations, init as init_module
from ._typing import FloatArray, Initializer
from ._validation import as_float, as_int

if TYPE_CHECKING:
    from .network import Layer, Network


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


class Dropout:
    """Inverted dropout: while training, each value passing through is set to
    zero with probability ``p`` and the others are multiplied by
    ``1 / (1 - p)``; in :meth:`~pynn.Network.predict` and
    :meth:`~pynn.Network.evaluate` it passes everything through unchanged.

    Zeroing a random part of the hidden units at every step keeps the next
    layer from relying on any single one of them, which reduces overfitting;
    the scaling keeps the expected value of each input the same in training
    and in prediction.  Place it after a Dense layer (or first, to drop
    inputs); it has no parameters.  The masks come from the network's seed
    and the update count, identical on both backends: see :mod:`pynn.dropout`.

    Parameters
    ----------
    p : float
        Probability of zeroing each value, in [0, 1); default 0.5 (as
        ``torch.nn.Dropout``).

    >>> import pynn
    >>> net = pynn.Network([pynn.Dense(20, 64, "relu"), pynn.Dropout(0.2), pynn.Dense(64, 1)], seed=0)
    >>> net.layers[1], net.n_params
    (Dropout(p=0.2), 1409)
    """

    def __init__(self, p: float = 0.5) -> None:
        self.p = as_float(p, "p", 0.0, 1.0, max_inclusive=False)

    def get_config(self) -> Dict[str, Any]:
        return {"type": "Dropout", "p": self.p}

    def __repr__(self) -> str:
        return "Dropout(p=%r)" % self.p


def dense_positions(layers: Sequence[Layer]) -> List[int]:
    """Indices in ``layers`` of the Dense layers (model files and ONNX graphs
    name a layer's tensors by it, as PyTorch numbers an ``nn.Sequential``)."""
    return [i for i, layer in enumerate(layers) if isinstance(layer, Dense)]


def mlp_layers(widths: Sequence[int], activation: str, output_activation: str,
               dropout: float = 0.0) -> List[Layer]:
    """Dense layers from ``widths[0]`` inputs through the hidden widths to
    ``widths[-1]`` outputs: ``activation`` on the hidden layers,
    ``output_activation`` on the last, and ``Dropout(dropout)`` after every
    hidden layer when ``dropout`` > 0.

    >>> mlp_layers([4, 8, 3], "relu", "softmax", dropout=0.5)
    [Dense(4, 8, activation='relu'), Dropout(p=0.5), Dense(8, 3, activation='softmax')]
    """
    layers: List[Layer] = []
    for a, b in zip(widths[:-2], widths[1:-1]):
        layers.append(Dense(a, b, activation))
        if dropout:
            layers.append(Dropout(dropout))
    layers.append(Dense(widths[-2], widths[-1], output_activation))
    return layers
