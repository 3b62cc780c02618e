OPENQASM 3.0;
include "stdgates.inc";
// pipeline
input float[64] theta;
output bit[2] ro;
qubit[2] q;
int k;
bit more;
k = 0;
while (1) {
  ry(theta) q[0];
  k = k + 1;
  more = k < 3;
  if (!more) {
    break;
  }
}
ro[0] = measure q[0];
if (ro[0]) {
  x q[1];
}
ro[1] = measure q[1];
