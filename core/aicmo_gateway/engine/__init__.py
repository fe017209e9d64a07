"""One capability's chain: ordering, attempts, classification, health, limits, quotas, retry
budgets, strategies and the idempotency ledger.

Layer: above ``state``; imports state, plugins and the records.
"""
