OPENQASM 3.0;
// W3 rus: repeat-until-success on an ancilla (at most 8 tries), then measure the target.
include "stdgates.inc";
output bit flag;
output int tries;
qubit[2] q;
bit a;
const int max_tries = 8;
float[64] rot = pi / 8;
float[64] unused_estimate = 0;
a = 1;
ry(0.6) q[0];
while (a == 1 && tries < max_tries) {
  reset q[1];
  h q[1];
  rz(2 * rot) q[1];
  cx q[1], q[0];
  h q[1];
  a = measure q[1];
  tries += 1;
  unused_estimate = unused_estimate + 0.5 * a;
}
h q[0];
flag = measure q[0];
