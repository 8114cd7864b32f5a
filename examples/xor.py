"""XOR: the classic problem no single neuron can solve, learned by a 2-8-1 network.

    python examples/xor.py
"""
import numpy as np

import pynn

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
y = np.array([0, 1, 1, 0])

net = pynn.Network(
    [pynn.Dense(2, 8, activation="tanh"), pynn.Dense(8, 1, activation="sigmoid")],
    loss="binary_cross_entropy",
    optimizer=pynn.Adam(lr=0.05),
    seed=0,
)
history = net.fit(X, y, epochs=300, batch_size=4, verbose=0)

print("backend:", pynn.backend())
print("loss: %.4f after 1 epoch, %.4f after %d" % (history.history["loss"][0], history.history["loss"][-1],
                                                     len(history.epoch)))
for x, p in zip(X, net.predict(X)[:, 0]):
    print("%d xor %d -> %.3f (%d)" % (x[0], x[1], p, round(p)))
print("accuracy:", net.evaluate(X, y)["accuracy"])
