OPENQASM 3.0;
include "stdgates.inc";
// fold
input float[64] x;
output bit[2] c;
output float[64] y;
qubit[3] q;
float[64] a;
int mode;
a = 0.7853981633974483;
mode = 1;
h q[0];
rz(1.5707963267948966) q[0];
ry(x) q[1];
x q[2];
y = 1.5707963267948966 + x;
c[0] = measure q[0];
c[1] = 1;
