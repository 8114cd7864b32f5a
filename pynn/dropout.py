"""Dropout masks, computed exactly as the C core computes them (csrc/dropout.inc).

Inverted dropout: in training, each element of a layer's input is zeroed
with probability ``p`` and every kept element is multiplied by ``1 / (1 - p)``,
so the expected input is unchanged and ``predict`` needs no rescaling (it
uses no dropout at all).

Which elements are kept is a pure function of four numbers: the network's
dropout seed, the index of the update (``optimizer.step + 1`` for the next
step), the Dense layer whose input it is, and the element's position in the
batch.  Element ``e`` (row-major, from 0) is kept when

    splitmix64(base + e · golden) >> 11  >=  ceil(p · 2^53)

with ``base = mix(mix(mix(seed) ^ step) ^ layer)``, ``mix`` splitmix64's
output function and golden = 0x9E3779B97F4A7C15.  A counter-based generator
keeps no state: the C kernels need none (so they stay reentrant), any thread
can compute any part of a mask, and both backends draw the same masks, bit
for bit.  (Each backend computes a step's masks once, in the forward pass,
and keeps them for the backward pass.)

>>> import numpy as np
>>> from pynn import dropout
>>> keep = dropout.keep_mask(seed=0, step=1, layer=1, n=100_000, p=0.25)
>>> round(float(keep.mean()), 2)                   # about 1 - p kept
0.75
>>> a = np.ones((2, 4), dtype=np.float32)
>>> out = dropout.forward(a, seed=0, step=1, layer=1, p=0.5)
>>> sorted(set(out.ravel().tolist()))              # dropped: 0, kept: 1 / (1 - p)
[0.0, 2.0]
"""
from __future__ import annotations

import numpy as np

from ._typing import BoolArray, FloatArray

GOLDEN = 0x9E3779B97F4A7C15
_MASK64 = (1 << 64) - 1
_M1, _M2 = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB


def mix64(x: int) -> int:
    """splitmix64: ``x + golden``, then a bijective mixing of the 64 bits."""
    x = (x + GOLDEN) & _MASK64
    x = ((x ^ (x >> 30)) * _M1) & _MASK64
    x = ((x ^ (x >> 27)) * _M2) & _MASK64
    return x ^ (x >> 31)


def base(seed: int, step: int, layer: int) -> int:
    """The start of the stream of one layer's mask in one update."""
    return mix64(mix64(mix64(seed & _MASK64) ^ (step & _MASK64)) ^ (layer & _MASK64))


def threshold(p: float) -> int:
    """ceil(p · 2^53): an element whose top 53 random bits are below it is dropped."""
    t = p * 2.0 ** 53  # exact: scaling by a power of two
    u = int(t)
    return u + (u < t)


def keep_mask(seed: int, step: int, layer: int, n: int, p: float, first: int = 0) -> BoolArray:
    """Boolean array of n elements, elements [first, first + n) of the step's
    mask: True where the element is kept.  (``first`` is not 0 in
    data-parallel training, where a rank's batch follows the rows of lower
    ranks in the step's whole batch.)"""
    x = np.arange(first + 1, first + n + 1, dtype=np.uint64)  # splitmix64 adds golden before mixing: e + 1
    x *= np.uint64(GOLDEN)  # uint64 arrays wrap around, as C's uint64_t
    x += np.uint64(base(seed, step, layer))
    t = np.empty_like(x)  # in place: this runs on every training step of the numpy backend
    for shift, factor in ((30, _M1), (27, _M2)):
        np.right_shift(x, np.uint64(shift), out=t)
        x ^= t
        x *= np.uint64(factor)
    np.right_shift(x, np.uint64(31), out=t)
    x ^= t
    x >>= np.uint64(11)
    return x >= np.uint64(threshold(p))


def apply(a: FloatArray, keep: BoolArray, p: float) -> FloatArray:
    """``a · (1 / (1 - p))`` where ``keep``, +0 elsewhere, in a's dtype (the
    scale rounded to it first, as in C).  Also the chain rule through the
    mask: ∂E/∂a from ∂E/∂(dropped a) is the same multiplication."""
    return np.where(keep, a * a.dtype.type(1.0 / (1.0 - p)), np.zeros((), a.dtype))


def forward(a: FloatArray, seed: int, step: int, layer: int, p: float) -> FloatArray:
    """``a`` with the mask of (seed, step, layer) applied (see :func:`apply`)."""
    return apply(a, keep_mask(seed, step, layer, a.size, p).reshape(a.shape), p)
