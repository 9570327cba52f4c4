"""RQ job functions, the enqueue helper and the worker and scheduler entry points.

Empty until side effects land (webhook delivery, outbox sweep, report runs):
docs/architecture.md#side-effects-and-jobs and #analytics-and-insights.
"""
