"""The scheduled analytics reports (docs/insights.md is the insights'): day partials of each
(project, eventId, UTC day) and the metadata reports merged from them, computed by the report
run, stored, served to the analytics API and written as export files.
"""
