OPENQASM 3.0;
// W3 bitflip: 3-qubit bit-flip code; syndrome measurement on two ancillas, feed-forward
// correction, a final ancilla reset that nothing observes.
include "stdgates.inc";
input float[64] theta;
output bit out;
qubit[3] d;
qubit[2] a;
bit[2] s;
ry(theta) d[0];
cx d[0], d[1];
cx d[0], d[2];
x d[1];
cx d[0], a[0];
cx d[1], a[0];
cx d[1], a[1];
cx d[2], a[1];
s = measure a;
if (s[0] == 1 && s[1] == 0) {
  x d[0];
}
if (s[0] == 1 && s[1] == 1) {
  x d[1];
}
if (s[0] == 0 && s[1] == 1) {
  x d[2];
}
reset a;
cx d[0], d[2];
cx d[0], d[1];
ry(-theta) d[0];
out = measure d[0];
