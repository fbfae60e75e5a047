"""Term counts: synonyms counted into documents for the embedding fit."""

from __future__ import annotations

from reportqa.index.terms import TermCounts, counts_from_lists, with_synonyms


def _as_dicts(corpus: TermCounts) -> list[dict[str, int]]:
    return [corpus.terms_of(d) for d in range(corpus.n_docs)]


def test_with_synonyms_counts_each_synonym_once_per_word_that_has_it() -> None:
    corpus = counts_from_lists([["闲置", "闲置", "算力"], ["算力"], ["空闲", "闲置"], []])
    expanded = with_synonyms(corpus, {"闲置": ("空置", "空闲"), "空闲": ("空置",), "未知": ("无关",)})
    assert _as_dicts(expanded) == [
        {"闲置": 2, "算力": 1, "空置": 1, "空闲": 1},
        {"算力": 1},
        {"空闲": 2, "闲置": 1, "空置": 2},  # 空置 for both 闲置 and 空闲; 空闲 written once, added once
        {},
    ]
    assert expanded.vocabulary == [*corpus.vocabulary, "空置"]  # only words it lacked are appended


def test_with_synonyms_of_words_the_corpus_lacks_leaves_it_as_it_is() -> None:
    corpus = counts_from_lists([["a", "b"]])
    assert with_synonyms(corpus, {"c": ("d",)}) is corpus
    assert with_synonyms(corpus, {}) is corpus
