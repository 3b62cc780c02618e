OPENQASM 3.0;
// golden: a constant-bound loop with feed-forward inside, and a loop that must stay
include "stdgates.inc";
output bit[2] c;
output int n;
qubit[2] q;
bit b = 1;
for int i in [0:1] {
  ry(0.5 * (i + 1)) q[0];
  c[0] = measure q[0];
  if (c[0]) {
    x q[1];
  }
}
while (b == 1 && n < 3) {
  h q[0];
  b = measure q[0];
  n += 1;
}
c[1] = measure q[1];
