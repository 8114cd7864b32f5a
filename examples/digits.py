"""Handwritten digits (8x8 images, 10 classes) from scikit-learn, with
dropout, a validation split, early stopping and a learning-rate schedule.

    python examples/digits.py          # needs scikit-learn: pip install scikit-learn

Without scikit-learn it says so and exits (status 0).
"""
import sys

import pynn
from pynn.callbacks import EarlyStopping, LearningRateScheduler
from pynn.schedules import CosineDecay

try:
    from sklearn.datasets import load_digits
except ImportError:
    print("skipped: this example needs scikit-learn (pip install scikit-learn)")
    sys.exit(0)

digits = load_digits()
X = digits.data / 16.0                     # pixels 0..16 -> 0..1
y = digits.target
X_train, X_test, y_train, y_test = pynn.datasets.train_test_split(X, y, test_fraction=0.2, seed=0)

net = pynn.Network([pynn.Dense(64, 128, "relu"), pynn.Dropout(0.2), pynn.Dense(128, 10, "softmax")],
                   loss="cross_entropy", optimizer=pynn.Adam(lr=0.01), seed=0)
epochs = 30
history = net.fit(
    X_train, y_train, epochs=epochs, batch_size=32, validation_split=0.15, verbose=0,
    callbacks=[LearningRateScheduler(CosineDecay(0.01, decay_epochs=epochs - 3, warmup_epochs=3)),
               EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True)])

print("backend:", pynn.backend())
print("%d training, %d test images; trained %d epochs" % (len(X_train), len(X_test), len(history.epoch)))
print("last epoch: " + ", ".join("%s %.4g" % (k, v[-1]) for k, v in history.history.items()))
print("test accuracy: %.4f" % net.evaluate(X_test, y_test)["accuracy"])
