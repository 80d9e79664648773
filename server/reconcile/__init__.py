"""The reconciliation service (W3C Entity Reconciliation CG, Reconciliation Service API 0.2)."""
