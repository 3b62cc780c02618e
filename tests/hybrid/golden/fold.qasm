OPENQASM 3.0;
// golden: constant propagation/folding, quantum constant propagation, branch folding
include "stdgates.inc";
input float[64] x;
output bit[2] c;
output float[64] y;
qubit[3] q;
float[64] a = pi / 4;
int mode = 1;
cx q[0], q[1];
h q[0];
rz(a) q[0];
rz(a) q[0];
ry(x) q[1];
x q[2];
if (mode == 1) {
  y = 2 * a + x;
} else {
  y = 0;
}
c[0] = measure q[0];
c[1] = measure q[2];
