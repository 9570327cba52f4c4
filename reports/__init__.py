"""pandas analytics over event metadata (DESIGN §8). Never imports flask.

Stored and scheduled (MongoDB, files; jobs/reports.py runs them, web/resources/analytics.py
serves them):
- store: owner of `report_partials`, `reports`, `report_watermarks`; indexes: ensure_indexes.
- source: reads of the `events` collection (rules.stores.eventlog's) by index, projected, in
batches.
- runner: the incremental run (watermark, late events, full runs, erasures).
- service: what the API reads; exports: the files under EXPORT_DIR.

Pure (no MongoDB, no clock), one module per step:
- frames: event records (rules.stores.eventlog) into pandas frames; EVENT_PROJECTION for the query.
- partials (with aggregates): one BSON-clean partial per (project, eventId, UTC day), bounded
  in size; a day is recomputed whole when its events change (late events).
- merge (with fields, segments): partials of a window into the metadata report, and the
  per-eventId totals of GET /analytics/events.
- windows: day keys ('YYYY-MM-DD', UTC) and the days of 7d / 30d / all.
- sketch, uniques, moments: the mergeable summaries (quantiles, distinct users, mean/std).

Insights (DESIGN §11, docs/insights.md): insight_store owns `insight_days` and `user_firsts`;
insights is what the API reads; insight_days (with timelines, hashes) is what a run stores per
day; breakdown, funnels (the walk over events), funnel_arrays (the same walk over timelines)
and retention answer from them.
"""
