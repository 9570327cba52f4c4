"""Vectorised groupbys over the long `values` frame (reports.analytics.frames): the statistics a day
partial keeps per field, per categorical value and per segment. Each returns a plain frame with
the group columns first; reports.analytics.partials turns them into documents.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from reports.analytics.frames import BOOLEAN, NUMERIC, STRING
from reports.sketch import MIN_MAGNITUDE, bucket_keys


def rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of `frame` as dicts of plain Python values (pandas boxes numpy scalars)."""
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]


def type_tally(values: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """keys + kind + size: how many values of each kind."""
    return values.groupby([*keys, "kind"], sort=True).size().reset_index(name="size")


def numeric_stats(values: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """keys + count, sum, m2, min, max, integer over the numeric values (see reports.moments)."""
    numbers = values.loc[values["kind"] == NUMERIC, [*keys, "number", "integer"]]
    grouped = numbers.groupby(keys, sort=True)
    stats = grouped["number"].agg(["count", "min", "max"])
    stats["sum"] = grouped["number"].agg(math.fsum)
    stats["integer"] = grouped["integer"].all()
    means = (stats["sum"] / stats["count"]).rename("mean")
    deviations = numbers.join(means, on=keys)
    deviations["squared"] = (deviations["number"] - deviations["mean"]) ** 2
    stats["m2"] = deviations.groupby(keys, sort=True)["squared"].agg(math.fsum)
    return stats.reset_index()


def sketch_buckets(values: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """keys + sign (-1, 0, 1) + bucket + size: the quantile sketch buckets (reports.sketch) of
    the numeric values; bucket is 0 for the zero sign."""
    numbers = values.loc[values["kind"] == NUMERIC, [*keys, "number"]]
    magnitude = numbers["number"].abs().to_numpy()
    significant = magnitude >= MIN_MAGNITUDE
    numbers = numbers.assign(
        sign=np.where(significant, np.sign(numbers["number"].to_numpy()), 0).astype(np.int64),
        bucket=np.where(significant, bucket_keys(np.where(significant, magnitude, 1.0)), 0),
    )
    return numbers.groupby([*keys, "sign", "bucket"], sort=True).size().reset_index(name="size")


def boolean_counts(values: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """keys + trueCount, falseCount."""
    flags = values.loc[values["kind"] == BOOLEAN, [*keys, "number"]]
    grouped = flags.groupby(keys, sort=True)["number"]
    counts = pd.DataFrame({"trueCount": grouped.sum().astype(np.int64), "count": grouped.size()})
    counts["falseCount"] = counts["count"] - counts["trueCount"]
    return counts[["trueCount", "falseCount"]].reset_index()


def ranked_value_counts(values: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """keys + text + count + rank over the string values: rank 0 is the most frequent value of
    its group, ties broken by the value, so the order (and any cut) is deterministic."""
    texts = values.loc[values["kind"] == STRING, [*keys, "text"]]
    counts = texts.groupby([*keys, "text"], sort=True).size().reset_index(name="count")
    counts = counts.sort_values(
        [*keys, "count", "text"], ascending=[True] * len(keys) + [False, True], kind="stable"
    ).reset_index(drop=True)
    counts["rank"] = counts.groupby(keys, sort=False).cumcount()
    return counts


def segment_stats(
    values: pd.DataFrame, keys: list[str], segment_values: pd.DataFrame
) -> pd.DataFrame:
    """keys + segment + text + field + numeric stats: the numeric fields of the events whose
    categorical field `segment` has value `text`, for the (keys, segment, text) rows of
    `segment_values` only (the bounded top values)."""
    strings = values.loc[values["kind"] == STRING, ["row", *keys, "field", "text"]]
    chosen = strings.rename(columns={"field": "segment"}).merge(
        segment_values[[*keys, "segment", "text"]], on=[*keys, "segment", "text"]
    )
    numbers = values.loc[values["kind"] == NUMERIC, ["row", "field", "kind", "number", "integer"]]
    paired = chosen.merge(numbers, on="row")
    return numeric_stats(paired, [*keys, "segment", "text", "field"])
