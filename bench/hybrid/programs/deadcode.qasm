OPENQASM 3.0;
// W3 deadcode: dead classical code, two qubits that are never measured nor coupled to a
// measured qubit, and one that is never used at all.
include "stdgates.inc";
input float[64] x;
output bit c;
qubit[5] q;
float[64] junk = 0;
int counter = 0;
for int k in [0:5] {
  junk += x * k;
  counter += 1;
}
h q[2];
cx q[2], q[3];
rz(x) q[3];
h q[0];
cx q[0], q[1];
rz(x) q[1];
cx q[0], q[1];
h q[0];
c = measure q[0];
