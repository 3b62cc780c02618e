OPENQASM 3.0;
include "stdgates.inc";
// unroll
output bit[2] c;
output int n;
qubit[2] q;
bit b;
int i;
b = 1;
i = 0;
ry(0.5 * (i + 1)) q[0];
c[0] = measure q[0];
if (c[0]) {
  x q[1];
}
i = i + 1;
ry(0.5 * (i + 1)) q[0];
c[0] = measure q[0];
if (c[0]) {
  x q[1];
}
i = i + 1;
while (b == 1 && n < 3) {
  h q[0];
  b = measure q[0];
  n = n + 1;
}
c[1] = measure q[1];
