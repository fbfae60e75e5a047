"""The recipe users copy from tutorials, built with LangChain's own classes so the comparison is honest."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from reportqa.core.types import Document

SEPARATORS = ["\n\n", "\n", "。", "！", "？", "；", "，", " ", ""]


class LangChainRecipe:
    """RecursiveCharacterTextSplitter(500/50) + BM25Retriever(jieba) + FAISS(MiniLM) + EnsembleRetriever 0.5/0.5."""

    name = "langchain"

    def __init__(self, documents: Sequence[Document], k: int = 10, dense: bool = True) -> None:
        import jieba
        from langchain_classic.retrievers import EnsembleRetriever
        from langchain_community.retrievers import BM25Retriever
        from langchain_core.documents import Document as LCDocument
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        splitter = RecursiveCharacterTextSplitter(chunk_size=500, chunk_overlap=50, separators=SEPARATORS)
        pieces = splitter.split_documents(
            [LCDocument(page_content=d.text, metadata={"doc": d.doc}) for d in documents])
        self.chunks = len(pieces)
        bm25 = BM25Retriever.from_documents(pieces, preprocess_func=jieba.lcut, k=k)
        self._retriever: Any = bm25
        if dense:
            from langchain_community.embeddings import HuggingFaceEmbeddings
            from langchain_community.vectorstores import FAISS
            from reportqa.index.models import _minilm_path

            embeddings = HuggingFaceEmbeddings(model_name=str(_minilm_path()))
            faiss_store = FAISS.from_documents(pieces, embeddings)
            self._retriever = EnsembleRetriever(
                retrievers=[bm25, faiss_store.as_retriever(search_kwargs={"k": k})], weights=[0.5, 0.5])

    def retrieve(self, question: str) -> list[tuple[str, str]]:
        return [(d.metadata["doc"], d.page_content) for d in self._retriever.invoke(question)]
