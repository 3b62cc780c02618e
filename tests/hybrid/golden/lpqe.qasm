OPENQASM 3.0;
// golden: classical preprocessing between quantum instructions, and postprocessing
include "stdgates.inc";
input float[64] x;
output bit[2] c;
output float[64] y;
qubit[2] q;
float[64] a;
h q[0];
c[0] = measure q[0];
a = x * 0.5;
a = a + 0.25;
a = a * a;
ry(a) q[1];
c[1] = measure q[1];
y = c[0] + c[1];
y = y * 2;
