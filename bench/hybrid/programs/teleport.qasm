OPENQASM 3.0;
// W3 teleport: teleport RY(theta)|0> with mid-circuit measurement and feed-forward, undo the
// rotation on the receiver and measure (always 0). A bookkeeping counter is never used.
include "stdgates.inc";
input float[64] theta;
output bit out;
qubit[3] q;
bit m0;
bit m1;
int corrections = 0;
ry(theta) q[0];
h q[1];
cx q[1], q[2];
cx q[0], q[1];
h q[0];
m0 = measure q[0];
m1 = measure q[1];
if (m1) {
  x q[2];
  corrections += 1;
}
if (m0) {
  z q[2];
  corrections += 1;
}
ry(-theta) q[2];
out = measure q[2];
