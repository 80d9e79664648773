"""SPARQL engines the remote-store tests (and the benchmark) start on loopback ports."""
