OPENQASM 3.0;
// W3 ipe: iterative phase estimation of U = P(phi) on |1>, 3 bits, least significant first,
// with the phase correction computed classically from the bits already measured.
include "stdgates.inc";
input float[64] phi;
output bit[3] c;
output float[64] estimate;
qubit[2] q;
float[64] corr = 0;
int power;
x q[1];
for int k in [0:2] {
  power = 1 << (2 - k);
  reset q[0];
  h q[0];
  cp(power * phi) q[0], q[1];
  p(-corr) q[0];
  h q[0];
  c[2 - k] = measure q[0];
  corr = corr / 2 + pi * c[2 - k] / 2;
}
estimate = (c[0] * 4 + c[1] * 2 + c[2]) / 8.0;
