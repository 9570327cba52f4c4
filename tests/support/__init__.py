"""What several test modules share, kept once: dates (`dates`), definitions every test area
uses (`definitions`), reading the stores back (`stores`), running queued jobs (`jobs`), waiting
on a condition (`waiting`) and a webhook receiver (`webhooks`). The fixtures built on them live
in tests/conftest.py and tests/integration/conftest.py."""
