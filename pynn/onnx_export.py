"""Export a pynn Network to ONNX, for onnxruntime and other ONNX tools.

>>> import os, tempfile
>>> import pynn
>>> net = pynn.Network([pynn.Dense(4, 8, "relu"), pynn.Dense(8, 3, "softmax")],
...                    loss="cross_entropy", seed=0)
>>> model = pynn.export_onnx(net, os.path.join(tempfile.mkdtemp(), "net.onnx"))
>>> [node.op_type for node in model.graph.node]
['MatMul', 'Add', 'Relu', 'MatMul', 'Add', 'Softmax']

The model has one input ``X`` of shape (N, n_inputs) and one output ``Y`` of
shape (N, n_outputs), N dynamic, both float32 or float64 as the network's
dtype.  ``Y`` is what ``net.predict(X)`` returns: probabilities for softmax and
sigmoid outputs.  Each Dense layer becomes ``MatMul`` (by ``W``, shape
(n_in, n_out), the initializer ``layers.{i}.W``) and ``Add`` (``layers.{i}.b``),
i its index in ``net.layers``, then its activation (a Dropout layer, which
passes everything through at inference, becomes nothing):

==============  =======================================================
linear          nothing (an ``Identity`` names the last output ``Y``)
sigmoid         ``Sigmoid``
tanh            ``Tanh``
relu            ``Relu``
leaky_relu      ``LeakyRelu(alpha=0.01)``; float64: ``Max(z, 0.01 z)``
gelu            exact erf form ``z * 0.5 * (1 + Erf(z / sqrt(2)))``, or
                ``Gelu(approximate="none")`` at opset 20 and later;
                float64: the same formula with erf built from elementwise
                ops (Cody's rational approximations, a few ulp accurate)
softmax         ``Softmax(axis=-1)``
==============  =======================================================

The float64 forms exist because onnxruntime has no float64 kernel for
``Erf``, ``Gelu`` or ``LeakyRelu``, and ``LeakyRelu``'s ``alpha`` is a float32
attribute (0.01 is not exact in float64); with them a float64 model runs in
onnxruntime and matches ``net.predict`` to float64 rounding.

It needs the ``onnx`` package, an optional extra: ``pip install pynn[onnx]``
(and ``onnxruntime`` to run the model).
"""
from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from ._typing import ArrayLike, PathLike
from .layers import Dropout, dense_positions

if TYPE_CHECKING:
    import onnx

    from .network import Network

#: the opset written by default; any opset >= 13 may be asked for
DEFAULT_OPSET = 17
MIN_OPSET = 13  # Softmax with axis=-1 over the last axis only (its opset-13 meaning)


def _import_onnx() -> Tuple[Any, Any, Any]:
    try:
        import onnx
        from onnx import helper, numpy_helper
    except ImportError as exc:
        raise ImportError("pynn.export_onnx needs the onnx package, an optional extra of pynn: "
                          "pip install pynn[onnx]  (%s)" % exc) from None
    return onnx, helper, numpy_helper


# W. J. Cody's rational approximations of erf and erfc (Math. Comp. 23, 1969;
# netlib specfun CALERF), used for float64 models: onnxruntime has no float64
# Erf kernel.  Accurate to a few ulp in double precision.
_ERF_A = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02,
          3.20937758913846947e03, 1.85777706184603153e-1)
_ERF_B = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03,
          2.84423683343917062e03)
_ERF_C = (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01,
          2.98635138197400131e02, 8.81952221241769090e02, 1.71204761263407058e03,
          2.05107837782607147e03, 1.23033935479799725e03, 2.15311535474403846e-8)
_ERF_D = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02,
          1.62138957456669019e03, 3.29079923573345963e03, 4.36261909014324716e03,
          3.43936767414372164e03, 1.23033935480374942e03)
_ERF_P = (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1,
          1.60837851487422766e-2, 6.58749161529837803e-4, 1.63153871373020978e-2)
_ERF_Q = (2.56852019228982242e00, 1.87295284992346725e00, 5.27905102951428412e-1,
          6.05183413124413191e-2, 2.33520497626869185e-3)
_RSQRT_PI = 5.6418958354775628695e-1
_RSQRT2 = 0.70710678118654752440


class _Graph:
    """Collects nodes and initializers; names every intermediate uniquely."""

    def __init__(self, helper: Any, numpy_helper: Any, dtype: np.dtype[Any]) -> None:
        self.helper, self.numpy_helper, self.dtype = helper, numpy_helper, dtype
        self.nodes: List[Any] = []
        self.initializers: List[Any] = []
        self._constants: Dict[float, str] = {}
        self._count = 0

    def tensor(self, name: str, value: ArrayLike) -> str:
        self.initializers.append(self.numpy_helper.from_array(np.asarray(value, dtype=self.dtype), name))
        return name

    def const(self, value: float) -> str:
        """A scalar initializer of the model's dtype (shared by value)."""
        key = float(value)
        if key not in self._constants:
            self._constants[key] = self.tensor("const.%d" % len(self._constants), key)
        return self._constants[key]

    def op(self, op_type: str, *inputs: str, out: Optional[str] = None, scope: str = "", **attrs: Any) -> str:
        self._count += 1
        name = "%s%s_%d" % (scope, op_type.lower(), self._count)
        out = out or name
        self.nodes.append(self.helper.make_node(op_type, list(inputs), [out], name=name, **attrs))
        return out

    def horner(self, start: str, coefs: Sequence[float], x: str, scope: str) -> str:
        """(((start * x + c0) * x + c1) * x ...): Cody's loop form."""
        acc = start
        for c in coefs:
            acc = self.op("Mul", self.op("Add", acc, self.const(c), scope=scope), x, scope=scope)
        return acc

    def erf(self, x: str, scope: str) -> str:
        """erf(x) from elementwise ops (Cody's three ranges, chosen with Where)."""
        op, c = self.op, self.const
        y = op("Abs", x, scope=scope)
        ysq = op("Mul", y, y, scope=scope)
        # |x| <= 0.46875: y * A(y^2) / B(y^2)
        num = self.horner(op("Mul", c(_ERF_A[4]), ysq, scope=scope), _ERF_A[:3], ysq, scope)
        den = self.horner(ysq, _ERF_B[:3], ysq, scope)
        small = op("Div", op("Mul", y, op("Add", num, c(_ERF_A[3]), scope=scope), scope=scope),
                   op("Add", den, c(_ERF_B[3]), scope=scope), scope=scope)
        # 0.46875 < |x| <= 4: erfc = exp(-y^2) C(y) / D(y)
        num = self.horner(op("Mul", c(_ERF_C[8]), y, scope=scope), _ERF_C[:7], y, scope)
        den = self.horner(y, _ERF_D[:7], y, scope)
        mid = op("Div", op("Add", num, c(_ERF_C[7]), scope=scope), op("Add", den, c(_ERF_D[7]), scope=scope),
                 scope=scope)
        # |x| > 4: erfc = exp(-y^2) (1/sqrt(pi) - z P(z) / Q(z)) / y, z = 1/y^2
        z = op("Div", c(1.0), ysq, scope=scope)
        num = self.horner(op("Mul", c(_ERF_P[5]), z, scope=scope), _ERF_P[:4], z, scope)
        den = self.horner(z, _ERF_Q[:4], z, scope)
        ratio = op("Div", op("Mul", z, op("Add", num, c(_ERF_P[4]), scope=scope), scope=scope),
                   op("Add", den, c(_ERF_Q[4]), scope=scope), scope=scope)
        large = op("Div", op("Sub", c(_RSQRT_PI), ratio, scope=scope), y, scope=scope)
        tail = op("Where", op("LessOrEqual", y, c(4.0), scope=scope), mid, large, scope=scope)
        # exp(-y^2) as exp(-s^2) exp(-(y - s)(y + s)), s = floor(16 y) / 16, for accuracy
        s = op("Div", op("Floor", op("Mul", y, c(16.0), scope=scope), scope=scope), c(16.0), scope=scope)
        d = op("Mul", op("Sub", y, s, scope=scope), op("Add", y, s, scope=scope), scope=scope)
        gauss = op("Mul", op("Exp", op("Neg", op("Mul", s, s, scope=scope), scope=scope), scope=scope),
                   op("Exp", op("Neg", d, scope=scope), scope=scope), scope=scope)
        erfc = op("Mul", gauss, tail, scope=scope)
        big = op("Add", op("Sub", c(0.5), erfc, scope=scope), c(0.5), scope=scope)
        result = op("Where", op("LessOrEqual", y, c(0.46875), scope=scope), small, big, scope=scope)
        return op("Where", op("Less", x, c(0.0), scope=scope), op("Neg", result, scope=scope), result, scope=scope)


def to_onnx(net: Network, opset: Optional[int] = None) -> onnx.ModelProto:
    """``net`` as an ``onnx.ModelProto`` (see the module docstring)."""
    from . import __version__
    from .activations import LEAKY_SLOPE
    from .network import Network

    onnx, helper, numpy_helper = _import_onnx()
    if not isinstance(net, Network):
        raise TypeError("net must be a pynn.Network; got %r" % (net,))
    if opset is None:
        opset = DEFAULT_OPSET
    if isinstance(opset, bool) or not isinstance(opset, (int, np.integer)):
        raise TypeError("opset must be an int; got %r" % (opset,))
    newest = onnx.defs.onnx_opset_version()
    if not MIN_OPSET <= opset <= newest:
        raise ValueError("opset must be in [%d, %d] (the newest this onnx knows); got %d" % (MIN_OPSET, newest, opset))
    opset = int(opset)

    dtype = net.dtype
    double = dtype == np.float64
    elem = onnx.TensorProto.DOUBLE if double else onnx.TensorProto.FLOAT
    g = _Graph(helper, numpy_helper, dtype)
    # Dropout is the identity at inference: only the Dense layers are exported,
    # named by their index in net.layers as in the model files
    positions = dense_positions(net.layers)
    last = positions[-1]
    current = "X"
    weights = net.get_weights()  # one consistent copy, even while another thread trains
    for k, (i, act) in enumerate(zip(positions, net._plan.activations)):
        W, b = weights[2 * k], weights[2 * k + 1]
        scope = "layers.%d." % i
        out = "Y" if i == last else None
        xw = g.op("MatMul", current, g.tensor(scope + "W", W), scope=scope)
        z = g.op("Add", xw, g.tensor(scope + "b", b), scope=scope)
        if act == "linear":
            current = g.op("Identity", z, out=out, scope=scope) if out else z
        elif act in ("sigmoid", "tanh", "relu"):
            current = g.op({"sigmoid": "Sigmoid", "tanh": "Tanh", "relu": "Relu"}[act], z, out=out, scope=scope)
        elif act == "leaky_relu":
            if double:  # LeakyRelu's alpha is a float32 attribute: 0.01 in double needs Max(z, 0.01 z)
                current = g.op("Max", z, g.op("Mul", z, g.const(LEAKY_SLOPE), scope=scope), out=out, scope=scope)
            else:
                current = g.op("LeakyRelu", z, out=out, scope=scope, alpha=float(LEAKY_SLOPE))
        elif act == "gelu":
            if opset >= 20 and not double:
                current = g.op("Gelu", z, out=out, scope=scope, approximate="none")
            else:  # z * 0.5 * (1 + erf(z / sqrt(2))), as pynn computes it
                scaled = g.op("Mul", z, g.const(_RSQRT2), scope=scope)
                erf = g.erf(scaled, scope + "erf.") if double else g.op("Erf", scaled, scope=scope)
                current = g.op("Mul", g.op("Mul", z, g.const(0.5), scope=scope),
                               g.op("Add", g.const(1.0), erf, scope=scope), out=out, scope=scope)
        elif act == "softmax":
            current = g.op("Softmax", z, out=out, scope=scope, axis=-1)
        else:  # pragma: no cover - Dense only accepts the names above
            raise ValueError("cannot export activation %r to ONNX" % (act,))

    graph = helper.make_graph(
        g.nodes, "pynn_network",
        inputs=[helper.make_tensor_value_info("X", elem, ["N", net.n_inputs])],
        outputs=[helper.make_tensor_value_info("Y", elem, ["N", net.n_outputs])],
        initializer=g.initializers,
        doc_string="pynn Network: " + " -> ".join(
            repr(l) if isinstance(l, Dropout) else "Dense(%d, %d, %s)" % (l.n_in, l.n_out, l.activation)
            for l in net.layers),
    )
    opset_ids = [helper.make_opsetid("", opset)]
    model = helper.make_model(graph, opset_imports=opset_ids, producer_name="pynn", producer_version=__version__)
    model.ir_version = helper.find_min_ir_version_for(opset_ids)
    helper.set_model_props(model, {
        "pynn.layers": json.dumps([l.get_config() for l in net.layers]),
        "pynn.loss": net.loss,
        "pynn.dtype": dtype.name,
    })
    onnx.checker.check_model(model, full_check=True)
    return model


def export_onnx(net: Network, path: PathLike, opset: Optional[int] = None) -> onnx.ModelProto:
    """Write ``net`` to ``path`` as an ONNX model (default opset
    :data:`DEFAULT_OPSET`, any opset >= 13 on request) with input ``X`` and
    output ``Y`` = ``net.predict(X)``.  Returns the ``onnx.ModelProto``.

    Raises ImportError (naming ``pip install pynn[onnx]``) when the onnx
    package is not installed.

    Run the model with onnxruntime (``pip install onnxruntime``):

    >>> import os, tempfile
    >>> import numpy as np
    >>> import onnxruntime as ort
    >>> import pynn
    >>> net = pynn.Network([pynn.Dense(4, 16, "gelu"), pynn.Dense(16, 3, "softmax")], loss="cross_entropy",
    ...                    seed=0)
    >>> path = os.path.join(tempfile.mkdtemp(), "model.onnx")
    >>> model = pynn.export_onnx(net, path)
    >>> [i.name for i in model.graph.input], [o.name for o in model.graph.output], model.opset_import[0].version
    (['X'], ['Y'], 17)
    >>> session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    >>> X = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    >>> Y = session.run(["Y"], {"X": X})[0]
    >>> bool(np.abs(Y - net.predict(X)).max() < 1e-5)
    True
    """
    model = to_onnx(net, opset)
    path = os.fspath(path)
    onnx = _import_onnx()[0]
    onnx.save_model(model, path)
    return model
