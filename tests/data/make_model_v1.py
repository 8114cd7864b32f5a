"""Make tests/data/model_v1.safetensors, the checked-in file of model-file format version 1.

Run once, with the pynn that wrote format version 1 (0.1.0):

    python tests/data/make_model_v1.py

and never again: the point of the file is that a *later* pynn still loads what this one
wrote (tests/test_model_files.py::test_checked_in_v1_file).  A new format version gets its own
make_model_v{N}.py and model_v{N}.safetensors next to these.

The model is a float32 3-4-3 network (tanh, softmax; cross-entropy) with Adam(lr=0.01,
betas=(0.8, 0.99), eps=1e-7, weight_decay=0.001) after 5 steps.  Every number in it is a
simple closed form, written down again independently in the test:

    W1[i, j] = ((4 i + j) % 5 - 2) / 4        b1 = [0.125, -0.25, 0.375, 0]
    W2[i, j] = ((3 i + j) % 3 - 1) / 2        b2 = [0.5, 0, -0.5]
    optimizer state[k] = (k % 7) / 128        (2 x 31 values: Adam's m, then v)
"""
import os

import numpy as np

import pynn

HERE = os.path.dirname(os.path.abspath(__file__))


def main(path=os.path.join(HERE, "model_v1.safetensors")):
    net = pynn.Network([pynn.Dense(3, 4, "tanh"), pynn.Dense(4, 3, "softmax")], loss="cross_entropy",
                       optimizer=pynn.Adam(lr=0.01, betas=(0.8, 0.99), eps=1e-7, weight_decay=0.001),
                       dtype="float32")
    W1 = (np.arange(12).reshape(3, 4) % 5 - 2) / 4
    W2 = (np.arange(12).reshape(4, 3) % 3 - 1) / 2
    net.set_weights([W1, [0.125, -0.25, 0.375, 0], W2, [0.5, 0, -0.5]])
    net._state[...] = np.arange(net._state.size) % 7 / 128
    net.optimizer.step = 5
    net.save(path)
    print("wrote", path)


if __name__ == "__main__":
    main()
