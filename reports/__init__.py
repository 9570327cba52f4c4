"""pandas analytics over event metadata (docs/insights.md for the insights). Never imports flask.

- analytics/: the scheduled reports. A run (runner, batch) reads the events (source) received
  since its watermark and recomputes whole UTC days: one day partial per (project, eventId,
  day) (frames, aggregates, partials, uniques), merged over 7d / 30d / all into the metadata
  reports (merge, fields, segments). store owns `report_partials`, `reports` and
  `report_watermarks`; service is what the API reads; exports (with export_erasure) the files
  under EXPORT_DIR. jobs/reports.py runs them, web/resources/analytics.py serves them.
- insights/: breakdowns, funnels and retention. The same run stores one insight day per
  (project, eventId, day) (days, with timelines and user hashes) and users' first times; store
  owns `insight_days` and `user_firsts`; service is what the API reads, answered by breakdown,
  funnels (the walk over events), funnel_arrays (the same walk over timelines) and retention.

Shared by both, at this level:
- source: reads of the `events` collection (rules.stores.eventlog owns it), by index,
  projected, in batches;
- windows: day keys ('YYYY-MM-DD', UTC) and the days of 7d / 30d / all;
- bounds: what keeps a stored document within MongoDB's limits;
- sketch, moments: the mergeable summaries (quantiles, mean/std);
- indexes: the indexes of every collection reports/ owns.
"""
