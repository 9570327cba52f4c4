"""The reward rules, in three layers: `rules.engine` (pure evaluation of events against
definitions), `rules.stores` (one module per MongoDB collection) and `rules.usecases` (what
the API and the jobs ask for, built from the other two). Never imports flask, web or jobs."""
