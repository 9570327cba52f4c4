"""The scheduled analytics reports: one day partial per (project, eventId, UTC day) and the
metadata reports (7d, 30d, all) merged from them. The report run (runner, batch) computes them,
store keeps them, service serves them to the analytics API, exports writes them as files.
"""
