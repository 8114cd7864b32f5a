"""The 2-2-2 sigmoid network of Matt Mazur's "A Step by Step Backpropagation
Example", one training step explained neuron by neuron and weight by weight.

    python examples/hand_worked_2_2_2.py            # the tables
    python examples/hand_worked_2_2_2.py step.html  # also the page: the network drawn, every number

Every number in the tables can be checked with a pocket calculator: the
forward pass, the loss, the chain-rule factors of each weight's gradient and
the update w <- w - 0.5 * dE/dw.  Two differences from the post to keep in
mind:

- pynn's "mse" is the mean over the outputs of (out - y)^2.  It equals the
  post's E_total = sum of 1/2 (target - out)^2 only because this network has
  two outputs (mean = sum / 2); with K outputs the mean is sum / K, and the
  gradients scale with it.
- pynn also updates the biases (b1[0] 0.35 -> 0.34561432, ...); the post keeps
  its b1 = 0.35 and b2 = 0.60 fixed.  The weights after this first step are
  the same, but a second step would differ from one that keeps the biases.

The post's names w1..w8 work: step.weight("w5") is step.weight("W2[0,0]"), and
step.to_text(names="mazur") labels the rows with them.
"""
import sys

import pynn

net = pynn.Network([pynn.Dense(2, 2, "sigmoid"), pynn.Dense(2, 2, "sigmoid")],
                   loss="mse", optimizer=pynn.SGD(lr=0.5), dtype="float64")
# W[i, j] is the weight from input i to neuron j: w1..w8 of the post
net.set_weights([[[0.15, 0.25], [0.20, 0.30]], [0.35, 0.35],
                 [[0.40, 0.50], [0.45, 0.55]], [0.60, 0.60]])

step = net.explain_step([[0.05, 0.10]], [[0.01, 0.99]])
print(step.to_text(names="mazur"))

# the published numbers, read back from the rows by the post's names
print()
print("E_total = %.9f   (published 0.298371109; mse = mean of 2 squares = the post's 1/2 sum)" % step.loss)
print("w5+ = %.8f   (published 0.35891648)" % step.weight("w5").new)
print("w1+ = %.9f   (published 0.149780716)" % step.weight("w1").new)
print("b1[0]+ = %.8f, b2[0]+ = %.8f   (the post does not update its biases: 0.35, 0.60)"
      % (step.weight("b1[0]").new, step.weight("b2[0]").new))
assert abs(step.loss - 0.298371109) < 1e-9
assert abs(step.weight("w5").new - 0.35891648) < 1e-8
assert abs(step.weight("w1").new - 0.149780716) < 1e-9

if len(sys.argv) > 1:
    print("page written to %s" % step.to_html(sys.argv[1]))
