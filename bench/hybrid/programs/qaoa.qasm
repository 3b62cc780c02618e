OPENQASM 3.0;
// W3 qaoa: MaxCut on a 4-ring, p = 2 layers; the angles follow a classical schedule and the
// cut size is computed from the measured bits.
include "stdgates.inc";
input float[64] gamma0;
input float[64] beta0;
output bit[4] c;
output int cut;
qubit[4] q;
const int p = 2;
float[64] gamma = gamma0;
float[64] beta = beta0;
h q;
for int layer in [0:p - 1] {
  for int i in [0:3] {
    cx q[i], q[(i + 1) % 4];
    rz(2 * gamma) q[(i + 1) % 4];
    cx q[i], q[(i + 1) % 4];
  }
  for int i in [0:3] {
    rx(2 * beta) q[i];
  }
  gamma = gamma * 0.5 + 0.1;
  beta = beta * 0.9;
}
c = measure q;
cut = (c[0] ^ c[1]) + (c[1] ^ c[2]) + (c[2] ^ c[3]) + (c[3] ^ c[0]);
