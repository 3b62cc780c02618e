OPENQASM 3.0;
include "stdgates.inc";
// dce
input float[64] x;
output bit c;
qubit[2] q;
h q[0];
cx q[0], q[1];
c = measure q[0];
