"""The reward engine: pure evaluation of events against definitions (conditions, points,
streaks) and the services that load and save its state in MongoDB. Never imports flask."""
