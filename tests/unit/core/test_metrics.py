"""core.metrics.Series counts into a labelled metric exactly as its `labels()` does."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, Counter, Histogram

from core.metrics import Series

LABELS = st.tuples(
    st.sampled_from(["GET", "POST", "OTHER"]),
    st.sampled_from(["/event", "/users/<userId>", "unmatched"]),
    st.sampled_from(["200", "404", "429"]),
)


def samples(registry: CollectorRegistry) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in registry.collect()
        for sample in family.samples
        if not sample.name.endswith("_created")
    }


def metrics(registry: CollectorRegistry) -> tuple[Counter, Histogram]:
    counter = Counter("requests", "requests", ("method", "route", "status"), registry=registry)
    histogram = Histogram("seconds", "seconds", ("method", "route"), registry=registry)
    return counter, histogram


@given(st.lists(st.tuples(LABELS, st.floats(0, 5)), max_size=40))
def test_series_count_as_labels_does(steps: list[tuple[tuple[str, str, str], float]]) -> None:
    through_series, through_labels = CollectorRegistry(), CollectorRegistry()
    counter, histogram = metrics(through_series)
    requests, durations = Series(counter), Series(histogram)
    plain_counter, plain_histogram = metrics(through_labels)
    for (method, route, status), elapsed in steps:
        requests(method, route, status).inc()
        durations(method, route).observe(elapsed)
        plain_counter.labels(method, route, status).inc()
        plain_histogram.labels(method, route).observe(elapsed)
    assert samples(through_series) == samples(through_labels)


def test_series_hands_out_the_metrics_own_child() -> None:
    counter, _ = metrics(CollectorRegistry())
    series = Series(counter)
    assert series("GET", "/event", "200") is counter.labels("GET", "/event", "200")
    assert series("GET", "/event", "404") is not series("GET", "/event", "200")
