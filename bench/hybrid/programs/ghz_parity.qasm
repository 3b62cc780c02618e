OPENQASM 3.0;
// W3 ghz_parity: GHZ state and parity with gates that quantum constant propagation removes
// (a CNOT whose control is |0>, cancelling pairs, phases on basis states).
include "stdgates.inc";
output bit[4] c;
output int parity;
qubit[4] q;
cx q[1], q[2];
x q[3];
x q[3];
z q[2];
h q[0];
s q[0];
sdg q[0];
cx q[0], q[1];
cx q[1], q[2];
cx q[2], q[3];
t q[3];
tdg q[3];
c = measure q;
parity = c[0] ^ c[1] ^ c[2] ^ c[3];
