"""pandas analytics over event metadata (DESIGN §8). Pure: no MongoDB, no flask, no clock.

The pipeline, one module per step:
- frames: event records (rules.eventlog) into pandas frames; EVENT_PROJECTION for the query.
- partials (with aggregates): one BSON-clean partial per (project, eventId, UTC day), bounded
  in size; a day is recomputed whole when its events change (late events).
- merge (with fields, segments): partials of a window into the metadata report, and the
  per-eventId totals of GET /analytics/events.
- windows: day keys ('YYYY-MM-DD', UTC) and the days of 7d / 30d / all.
- sketch, uniques, moments: the mergeable summaries (quantiles, distinct users, mean/std).
"""
