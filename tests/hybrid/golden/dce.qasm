OPENQASM 3.0;
// golden: dead classical code, light cone of the measured qubit, unused qubits
include "stdgates.inc";
input float[64] x;
output bit c;
qubit[4] q;
float[64] junk;
int count = 0;
junk = x * 3;
count += 1;
h q[0];
h q[2];
cx q[2], q[3];
cx q[0], q[1];
rz(x) q[1];
t q[2];
c = measure q[0];
