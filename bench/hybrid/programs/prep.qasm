OPENQASM 3.0;
// W3 prep: classical preprocessing that does not depend on the QPU sits between quantum
// instructions; latest-possible quantum execution moves it in front of the first one.
include "stdgates.inc";
input float[64] x;
output bit[2] c;
output float[64] y;
qubit[2] q;
float[64] a;
h q[0];
cx q[0], q[1];
c[0] = measure q[0];
a = x;
for int k in [0:7] {
  a = a * 0.9 + 0.1;
}
ry(a) q[1];
c[1] = measure q[1];
y = a + c[0];
