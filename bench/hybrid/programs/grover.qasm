OPENQASM 3.0;
// W3 grover: 2-qubit Grover search; the oracle is chosen by a classical configuration value,
// so branch folding keeps only one oracle.
include "stdgates.inc";
output bit[2] c;
qubit[2] q;
int marked = 2;
h q;
if (marked == 0) {
  x q;
  cz q[0], q[1];
  x q;
} else if (marked == 1) {
  x q[0];
  cz q[0], q[1];
  x q[0];
} else if (marked == 2) {
  x q[1];
  cz q[0], q[1];
  x q[1];
} else {
  cz q[0], q[1];
}
h q;
x q;
cz q[0], q[1];
x q;
h q;
c = measure q;
