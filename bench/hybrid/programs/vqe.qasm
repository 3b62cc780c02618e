OPENQASM 3.0;
// W3 vqe: variational loop for H = Z0 Z1 with a classical parameter update from sampled
// parities (2 iterations x 2 shots); constant loop bounds, a constant learning rate.
include "stdgates.inc";
input float[64] theta0;
output float[64] theta;
output float[64] energy;
qubit[2] q;
bit[2] c;
const int iters = 2;
const int shots = 2;
float[64] lr = 0.4;
int ones;
theta = theta0;
for int it in [0:iters - 1] {
  ones = 0;
  for int s in [0:shots - 1] {
    reset q[0];
    reset q[1];
    ry(theta) q[0];
    ry(theta / 2) q[1];
    cx q[0], q[1];
    c = measure q;
    ones += c[0] ^ c[1];
  }
  energy = 1.0 - 2.0 * ones / shots;
  theta = theta - lr * energy;
}
