"""Loaded by schemathesis (SCHEMATHESIS_HOOKS=tests.contract_hooks; tests/test_contract.py): a query
parameter or body (``format: sparql-query``) is drawn from the SPARQL grammar, not from arbitrary text."""

from __future__ import annotations

import schemathesis

from tests.sparql_grammar import queries

schemathesis.openapi.format("sparql-query", queries())
