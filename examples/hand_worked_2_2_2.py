"""The 2-2-2 sigmoid network of Matt Mazur's "A Step by Step Backpropagation
Example", one training step explained neuron by neuron and weight by weight.

    python examples/hand_worked_2_2_2.py

Every number in the table can be checked with a pocket calculator: the
forward pass, the loss, the chain-rule factors of each weight's gradient and
the update w <- w - 0.5 * dE/dw.  pynn's "mse" (the mean over the two outputs
of (out - y)^2) equals his E_total = sum of 1/2 (target - out)^2.
"""
import pynn

net = pynn.Network([pynn.Dense(2, 2, "sigmoid"), pynn.Dense(2, 2, "sigmoid")],
                   loss="mse", optimizer=pynn.SGD(lr=0.5), dtype="float64")
# W[i, j] is the weight from input i to neuron j: w1..w8 of the post
net.set_weights([[[0.15, 0.25], [0.20, 0.30]], [0.35, 0.35],
                 [[0.40, 0.50], [0.45, 0.55]], [0.60, 0.60]])

step = net.explain_step([[0.05, 0.10]], [[0.01, 0.99]])
print(step)

# the published numbers, read back from the rows
print()
print("E_total = %.9f   (published 0.298371109)" % step.loss)
print("w5+ = %.8f   (published 0.35891648)" % step.weight("W2[0,0]").new)
print("w1+ = %.9f   (published 0.149780716)" % step.weight("W1[0,0]").new)
assert abs(step.loss - 0.298371109) < 1e-9
assert abs(step.weight("W2[0,0]").new - 0.35891648) < 1e-8
assert abs(step.weight("W1[0,0]").new - 0.149780716) < 1e-9
