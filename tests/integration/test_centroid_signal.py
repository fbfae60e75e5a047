"""The answerability signal centroid_lift: the question's mean cosine to the collection's units, less theirs."""

from __future__ import annotations

import numpy as np
import pytest
from reportqa.index.query import analyze
from reportqa.index.search import open_index

from reportqa.core.settings import Settings
from reportqa.engine import open_engine

pytestmark = pytest.mark.integration


def test_the_lift_is_the_mean_cosine_to_every_unit_less_the_units_own(small_index: Settings) -> None:
    index = open_index(small_index.index_dir)
    assert index.units is not None
    vectors = np.asarray(index.units[0], dtype=np.float64)
    query = analyze("2026年全球AI支出预计达到多少？")
    expected = float(np.mean(vectors @ index.query_vector(query)) - np.mean(vectors @ vectors.T))
    assert index.centroid_lift(query) == pytest.approx(expected, abs=1e-5)


def test_an_on_topic_question_lies_nearer_the_whole_than_an_off_topic_one(small_index: Settings) -> None:
    index = open_index(small_index.index_dir)
    assert index.centroid_lift(analyze("2026年全球AI支出预计达到多少？")) > \
        index.centroid_lift(analyze("红烧肉怎么做？"))


def test_the_signal_reaches_the_answerability_stage(small_index: Settings) -> None:
    engine = open_engine(small_index)
    trace = engine.run("2026年全球AI支出预计达到多少？")
    assert trace.reading.signals is not None
    assert trace.reading.signals.centroid_lift == pytest.approx(engine.index.centroid_lift(trace.query))
    assert trace.reading.signals.centroid_lift != 0.0


def test_an_index_without_unit_vectors_reads_zero(small_index: Settings) -> None:
    index = open_index(small_index.index_dir)
    index.units = None
    assert index.centroid_lift(analyze("任何问题？")) == 0.0
