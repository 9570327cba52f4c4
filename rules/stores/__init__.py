"""The stores: one module per MongoDB collection, the only code that names that collection
and its indexes (docs/architecture.md lists the owners), and rules.stores.boards, the only
code that names the leaderboards' Redis keys."""
