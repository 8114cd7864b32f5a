"""Regression: a smooth function of 3 inputs learned by a 3-32-32-1 network,
with standardised inputs and target, ReduceLROnPlateau and EarlyStopping.

    python examples/regression.py
"""
import numpy as np

import pynn
from pynn.callbacks import EarlyStopping, ReduceLROnPlateau

rng = np.random.default_rng(0)
X = rng.uniform(-2, 2, size=(1000, 3))
y = np.sin(X[:, 0]) + 0.5 * X[:, 1] ** 2 - X[:, 0] * X[:, 2] + 0.05 * rng.normal(size=1000)

X_train, X_test, y_train, y_test = pynn.datasets.train_test_split(X, y, test_fraction=0.2, seed=0)
mean, std = X_train.mean(axis=0), X_train.std(axis=0)      # standardise with the training rows
y_mean, y_std = y_train.mean(), y_train.std()


def scale(X):
    return (X - mean) / std


net = pynn.Network([pynn.Dense(3, 32, "tanh"), pynn.Dense(32, 32, "tanh"), pynn.Dense(32, 1)],
                   loss="mse", optimizer=pynn.Adam(lr=0.01), seed=0)
history = net.fit(scale(X_train), (y_train - y_mean) / y_std, epochs=150, batch_size=32,
                  validation_split=0.2, verbose=0,
                  callbacks=[ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=5),
                             EarlyStopping(monitor="val_loss", patience=15, restore_best_weights=True)])

pred = net.predict(scale(X_test))[:, 0] * y_std + y_mean
print("backend:", pynn.backend())
print("trained %d epochs; learning rate %g at the end" % (len(history.epoch), history.history["lr"][-1]))
print("test mae: %.4f   (the target's standard deviation: %.4f)" % (np.mean(np.abs(pred - y_test)), y_test.std()))
