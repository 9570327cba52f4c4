"""The MongoDB stores: one module per collection, the only code that names that collection
and its indexes (docs/architecture.md lists the owners)."""
