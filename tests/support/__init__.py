"""What several test modules share, kept once: dates (`dates`), definitions every test area
uses (`definitions`), waiting on a condition (`waiting`) and a webhook receiver (`webhooks`).
The fixtures built on them live in tests/conftest.py."""
