"""The SPARQL protocol layer: requests, negotiation, formats, results, safety, canned queries."""
