"""Run under mpiexec by tests/test_distributed_mpi.py: each rank trains on its
share of a fixed data set, then saves its replica's weights and history."""
import sys

import numpy as np

import pynn

out, mode = sys.argv[1], sys.argv[2]
world = pynn.distributed.init()
assert world.size > 1, "expected to run under mpiexec"
rng = np.random.default_rng(0)
X, y = rng.normal(size=(50, 4)), rng.integers(0, 3, 50)
bounds = np.linspace(0, 50, world.size + 1).astype(int)
mine = slice(bounds[world.rank], bounds[world.rank + 1])
net = pynn.Network([pynn.Dense(4, 8, "tanh"), pynn.Dropout(0.2), pynn.Dense(8, 3, "softmax")],
                   loss="cross_entropy", optimizer=pynn.Adam(lr=0.02), dtype="float64", seed=10 + world.rank)


class FailLater(pynn.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if mode == "raise" and world.rank == 1 and epoch == 0:
            raise RuntimeError("rank 1 fails on purpose")
        if mode == "kill" and world.rank == 1 and epoch == 0:
            import os
            import signal
            os.kill(os.getpid(), signal.SIGKILL)


history = net.fit(X[mine], y[mine], epochs=3, batch_size=4, shuffle=False, verbose=0, world=world,
                  callbacks=[FailLater()])
np.savez("%s.rank%d.npz" % (out, world.rank), *net.get_weights(), loss=np.array(history.history["loss"]),
         threads=np.array([pynn.get_num_threads()]))
net.save(out + ".safetensors", world=world)
