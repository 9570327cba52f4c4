"""What Laurel does with the engine and the stores: record events (one by one or in
batches), support actions, erasure, reconciliation, histories, profiles, leaderboards."""
