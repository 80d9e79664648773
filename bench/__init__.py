"""Benchmarks: plankg's SPARQL server beside Oxigraph's server and rdflib-endpoint (``make bench``)."""
