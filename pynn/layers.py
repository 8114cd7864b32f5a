"""The layers: Dense (fully connected) and Dropout.

Each of a Dense layer's ``n_out`` neurons takes a weighted sum of the
``n_in`` inputs plus a bias and passes it through the activation:

    y = act(x @ W + b),   W of shape (n_in, n_out), b of shape (n_out,)

so ``W[i, j]`` is the weight from input ``i`` to neuron ``j``.  A Dropout
layer between two Dense layers (or before the first) zeroes random inputs of
the next one during training.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Union

from . import activations, init as init_module
from ._typing import ArrayLike, FloatArray, Initializer
from ._validation import as_float, as_int


class _Owned:
    """A layer that belongs to at most one Network, which is told of every
    change to what the layer describes (``_owner._update_layer``): the
    network checks the change against the rest of it and makes it take
    effect, or raises and nothing changes."""

    _owner: Any = None  # the Network (not imported here: networks import layers)
    _index = -1  # in the owner: this Dense layer's number, or the Dense layer's after this Dropout

    def _attach(self, owner: Any, index: int) -> None:
        """Called by Network once it is built: the layer is now part of it."""
        self._owner, self._index = owner, index

    def _check_free(self, index: int) -> None:
        if self._owner is not None:
            raise ValueError("layers[%d] already belongs to another Network; make a new layer" % index)


class Dense(_Owned):
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
        Default: "xavier_uniform" for every activation, as Keras and scikit-learn's
        MLP (see :mod:`pynn.init` for the evidence behind it).
    bias_init : str or callable
        Bias initialiser, default "zeros".

    ``W`` and ``b`` are None until the layer is part of a :class:`pynn.Network`;
    then they are writable views into the network's parameter buffer, so
    ``layer.W[0, 1] = 0.5`` changes the network, and ``layer.W = array``
    copies the array in (same shape, finite values).

    What may change once the layer is in a network: ``activation`` (checked
    against the network: softmax stays last and fits the loss; the next call
    uses it, on either backend, and ``save`` writes it), ``W`` and ``b``.
    ``n_in`` and ``n_out`` never change; ``init`` and ``bias_init`` are used
    when the network is built, and are read-only from then on.

    >>> import pynn
    >>> layer = pynn.Dense(3, 2, activation="relu")
    >>> layer, layer.W
    (Dense(3, 2, activation='relu'), None)
    >>> layer.init.__name__, layer.bias_init.__name__      # the defaults
    ('xavier_uniform', 'zeros')
    >>> net = pynn.Network([layer], dtype="float64", seed=0)
    >>> layer.W.shape, layer.b.shape
    ((3, 2), (2,))
    >>> layer.W[...] = 1.0                                 # a view: this sets the network's weights
    >>> net.predict([[1, 2, 3]])                           # relu(1 + 2 + 3 + 0) for both neurons
    array([[6., 6.]])
    >>> layer.activation = "linear"                        # takes effect at once
    >>> net.predict([[-1, -2, -3]])
    array([[-6., -6.]])
    """

    def __init__(self, n_in: int, n_out: int, activation: str = "linear",
                 init: Union[str, Initializer, None] = None, bias_init: Union[str, Initializer] = "zeros") -> None:
        self._n_in = as_int(n_in, "n_in")
        self._n_out = as_int(n_out, "n_out")
        self._activation = activations.check_name(activation)
        if init is None:
            init = "xavier_uniform"  # for every activation: benchmarks/init_default.py
        self._init: Initializer = init_module.get(init, "init")
        self._bias_init: Initializer = init_module.get(bias_init, "bias_init")

    @property
    def n_in(self) -> int:
        """Number of inputs (read-only)."""
        return self._n_in

    @property
    def n_out(self) -> int:
        """Number of neurons (read-only)."""
        return self._n_out

    @property
    def n_params(self) -> int:
        """Weights and biases: n_in * n_out + n_out."""
        return dense_param_count(self._n_in, self._n_out)

    @property
    def activation(self) -> str:
        """The activation's name; see the class docstring for changing it."""
        return self._activation

    @activation.setter
    def activation(self, name: str) -> None:
        name = activations.check_name(name)
        if self._owner is not None:
            self._owner._update_layer(self, activation=name)  # checks it, then calls _set
        else:
            self._activation = name

    @property
    def init(self) -> Initializer:
        """The weight initialiser (used when the network is built)."""
        return self._init

    @init.setter
    def init(self, value: Union[str, Initializer]) -> None:
        self._check_unbuilt("init")
        self._init = init_module.get(value, "init")

    @property
    def bias_init(self) -> Initializer:
        """The bias initialiser (used when the network is built)."""
        return self._bias_init

    @bias_init.setter
    def bias_init(self, value: Union[str, Initializer]) -> None:
        self._check_unbuilt("bias_init")
        self._bias_init = init_module.get(value, "bias_init")

    def _check_unbuilt(self, name: str) -> None:
        if self._owner is not None:
            raise AttributeError("%s was used when the network was built and cannot change now; set the "
                                 "weights with layer.W / net.set_weights, or build a new network" % name)

    @property
    def W(self) -> Optional[FloatArray]:
        """Weights, (n_in, n_out): a view into the network's parameters (None outside a network)."""
        return None if self._owner is None else self._owner._layer_views(self._index)[0]

    @W.setter
    def W(self, value: ArrayLike) -> None:
        self._set_param(0, value)

    @property
    def b(self) -> Optional[FloatArray]:
        """Biases, (n_out,): a view into the network's parameters (None outside a network)."""
        return None if self._owner is None else self._owner._layer_views(self._index)[1]

    @b.setter
    def b(self, value: ArrayLike) -> None:
        self._set_param(1, value)

    def _set_param(self, which: int, value: ArrayLike) -> None:
        if self._owner is None:
            raise AttributeError("this Dense layer has no %s until it is part of a Network; build the network, "
                                 "then set it (or use init=)" % "Wb"[which])
        self._owner._set_layer_param(self, which, value)

    def _set(self, activation: str) -> None:
        """Called by the owning Network once it has accepted the change."""
        self._activation = activation

    def get_config(self) -> Dict[str, Any]:
        return {"type": "Dense", "n_in": self.n_in, "n_out": self.n_out, "activation": self.activation}

    def __repr__(self) -> str:
        return "Dense(%d, %d, activation=%r)" % (self.n_in, self.n_out, self.activation)


class Dropout(_Owned):
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
        ``torch.nn.Dropout``).  It may be changed at any time (e.g. to 0 to
        fine-tune without dropout): the next training step uses it.

    >>> import pynn
    >>> net = pynn.Network([pynn.Dense(20, 64, "relu"), pynn.Dropout(0.2), pynn.Dense(64, 1)], seed=0)
    >>> net.layers[1], net.n_params
    (Dropout(p=0.2), 1409)
    """

    def __init__(self, p: float = 0.5) -> None:
        self._p = self._check(p)

    @staticmethod
    def _check(p: object) -> float:
        return as_float(p, "p", 0.0, 1.0, max_inclusive=False)

    @property
    def p(self) -> float:
        """The probability of zeroing each value, in [0, 1)."""
        return self._p

    @p.setter
    def p(self, value: float) -> None:
        p = self._check(value)
        if self._owner is not None:
            self._owner._update_layer(self, p=p)  # calls _set
        else:
            self._p = p

    def _set(self, p: float) -> None:
        self._p = p

    def get_config(self) -> Dict[str, Any]:
        return {"type": "Dropout", "p": self.p}

    def __repr__(self) -> str:
        return "Dropout(p=%r)" % self.p


#: a layer of a Network
Layer = Union[Dense, Dropout]


def dense_param_count(n_in: int, n_out: int) -> int:
    """The parameters of a Dense layer: its W (n_in x n_out) then its b (n_out),
    as they lie in a network's flat buffer."""
    return n_in * n_out + n_out


def fresh_copy(layer: Layer) -> Layer:
    """An unattached layer describing the same thing as ``layer``, with zeros
    init (its weights are set afterwards: copies, model files)."""
    if isinstance(layer, Dropout):
        return Dropout(layer.p)
    return Dense(layer.n_in, layer.n_out, layer.activation, init="zeros")


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
