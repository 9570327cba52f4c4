"""The reward engine as it was before its speed work (main at 9948adc), frozen.

A verbatim copy of rules/{conditions,definitions,periods,state,challenges,points,levels,
streaks,engine}.py with their imports pointed at each other here (rules.errors is shared).
It has types of its own, so it shares no method with the engine it is compared to. Used only
by `tests/bench/engine.py` (the old figure beside the new one, in the same run) and by
`tests/unit/rules/test_engine_equivalence.py` (the new engine decides exactly as this one on
random event sequences). Never imported by the application.
"""
