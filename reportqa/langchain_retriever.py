"""A LangChain retriever over a reportqa index: Documents carry the citation fields as metadata."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from reportqa.contract import CitationOut
from reportqa.engine import Engine


class ReportRetriever(BaseRetriever):
    """`ReportRetriever(engine=open_engine(settings)).invoke("问题")` → passages with doc, section, offsets."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    engine: Any
    k: int = 5

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun
                                ) -> list[Document]:
        engine: Engine = self.engine
        hits = engine.search(query, self.k)
        return [Document(page_content=h.chunk.text,
                         metadata=CitationOut.of(n, h.chunk, h.score).model_dump(exclude={"text"}) | {"id": h.chunk.id})
                for n, h in enumerate(hits, start=1)]
