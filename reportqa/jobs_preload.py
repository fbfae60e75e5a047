"""Imported once by the jobs' forkserver, so that every job process starts with the code, the libraries a build
imports (sentence-transformers and torch: ~5 s) and jieba's dictionary already loaded, shared copy-on-write,
instead of spending its wall-time limit loading them."""

import sentence_transformers.models  # noqa: F401 - fit_static_model imports it at build time
import tokenizers.models  # noqa: F401

from reportqa import jobs  # noqa: F401 - the job code itself
from reportqa.index.text import tokens

tokens("星河半导体的营业收入")  # jieba loads its dictionary on first use
