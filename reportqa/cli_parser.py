"""The reportqa command line: every subcommand, flag, help text and example in one place."""

from __future__ import annotations

import argparse
from pathlib import Path

from reportqa import __version__

JSON_HELP = "print JSON (the default when stdout is not a terminal; a table is shown on a terminal)"
EXAMPLES = {
    "index": """examples:
  reportqa index                                  # sync var/index with corpus/: only changed documents redone
  reportqa index --corpus reports/ extra.pdf      # folders, files, or JSONL of {"id","title","text"}
  reportqa index --if-missing --index-dir /srv/reportqa/index
  reportqa index --backend ray --shards 4        # built on a Ray cluster (started here without --address)""",
    "add": """examples:
  reportqa add new_report.pdf                     # add, or replace the document of the same name
  reportqa add reports/2026/ --json""",
    "remove": """examples:
  reportqa remove 003_fb3b85873d3c5c2c.txt        # names as `reportqa docs` lists them""",
    "docs": """examples:
  reportqa docs                                   # a table on a terminal
  reportqa docs --json | jq -r .title             # one JSON object per line""",
    "ask": """examples:
  reportqa ask "2026年全球AI支出预计是多少？"
  reportqa ask --json --top-k 3 "What is the forecast for global AI spending in 2026?"
  echo "全球半导体市场规模预计多大？" | reportqa ask -
  reportqa ask --batch questions.jsonl --out answers.jsonl   # {"id","question"} per line
  reportqa ask --backend ray --address 10.0.0.5:6379 "…"     # through the shards `serve --backend ray` runs""",
    "cite": """examples:
  reportqa cite draft.md                          # a table of claims and verdicts on a terminal
  reportqa cite draft.md --format markdown > checked.md      # the draft back, with footnotes
  pbpaste | reportqa cite - --json
  reportqa cite --batch claims.jsonl --out verdicts.jsonl    # {"id","claim"} per line""",
    "serve": """examples:
  reportqa serve                                  # http://127.0.0.1:8000 (page at /, API docs at /docs)
  reportqa serve --host 0.0.0.0 --port 9000 --workers 4
  reportqa serve --backend ray                    # one Ray Serve deployment per shard""",
    "eval": """examples:
  reportqa eval --variant hybrid --limit 50
  reportqa eval --qa eval/fresh/qa.jsonl --report eval/reports/fresh
  reportqa eval --cite --min eval/floors.json     # exit 1 below the committed floors
  reportqa eval --chat eval/chat.jsonl --report eval/reports/chat   # conversations, turn by turn""",
}


def _subparser(sub: argparse._SubParsersAction, name: str, help_text: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(
        name, help=help_text, description=help_text[0].upper() + help_text[1:] + ".", epilog=EXAMPLES[name],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index-dir", type=Path, default=None, metavar="DIR",
                        help="index folder (default: var/index in the project folder; REPORTQA_INDEX_DIR)")
    return parser


def _backend_flags(parser: argparse.ArgumentParser, shards: bool = False) -> None:
    parser.add_argument("--backend", choices=["local", "ray"], default=None,
                        help="local: this process (default); ray: a Ray cluster, needs reportqa[ray] "
                             "(REPORTQA_BACKEND; see docs/scale-out.md)")
    parser.add_argument("--address", default=None, metavar="ADDR",
                        help="the Ray cluster to use, host:port (default: one is started here; REPORTQA_RAY_ADDRESS)")
    if shards:
        parser.add_argument("--shards", type=int, default=None, metavar="N",
                            help="write the index as N shards of whole documents (default: as the current "
                                 "version, else 1; REPORTQA_SHARDS)")


def _batch_workers_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workers", dest="batch_workers", type=int, default=None, metavar="N",
                        help="processes answering --batch, output in input order (default: one per core, fewer "
                             "for a short batch; REPORTQA_BATCH_WORKERS)")


def _ingest_commands(sub: argparse._SubParsersAction) -> None:
    p = _subparser(sub, "index", "build the index from the corpus, or bring it up to date")
    p.add_argument("--corpus", type=Path, nargs="+", default=None, metavar="PATH",
                   help="folders, files or JSONL documents (default: corpus/; REPORTQA_CORPUS=a,b)")
    p.add_argument("--embed-model", default=None, metavar="NAME",
                   help="corpus-static (default), minilm, a local model folder or a cached hub name")
    p.add_argument("--if-missing", action="store_true", help="do nothing when a readable index exists")
    p.add_argument("--json", action="store_true", help=JSON_HELP)
    _backend_flags(p, shards=True)

    p = _subparser(sub, "add", "add or replace documents without rebuilding the rest")
    p.add_argument("paths", type=Path, nargs="+", metavar="PATH", help="files or folders to add")
    p.add_argument("--json", action="store_true", help=JSON_HELP)

    p = _subparser(sub, "remove", "remove documents from the index")
    p.add_argument("docs", nargs="+", metavar="DOC", help="document names as `reportqa docs` lists them")
    p.add_argument("--json", action="store_true", help=JSON_HELP)

    p = _subparser(sub, "docs", "list the indexed documents")
    p.add_argument("--json", action="store_true", help=JSON_HELP)


def _question_commands(sub: argparse._SubParsersAction) -> None:
    p = _subparser(sub, "ask", "answer a question, or a JSONL batch of them")
    p.add_argument("question", nargs="?", help='the question; "-" reads it from standard input')
    p.add_argument("--json", action="store_true", help="print the answer JSON instead of text")
    p.add_argument("--top-k", type=int, default=None, metavar="N",
                   help="passages to retrieve and cite (default 5; REPORTQA_TOP_K)")
    p.add_argument("--batch", type=Path, metavar="FILE", help='JSONL input, one {"id", "question"} per line')
    p.add_argument("--out", type=Path, metavar="FILE", help="JSONL output for --batch (default: stdout)")
    _batch_workers_flag(p)
    _backend_flags(p)

    p = _subparser(sub, "cite", "match every claim of a draft, or a JSONL batch of claims, to its source")
    p.add_argument("draft", nargs="?", help='Markdown or plain-text draft; "-" reads it from standard input')
    p.add_argument("--format", choices=["json", "markdown"], default=None,
                   help="json: verdicts per claim; markdown: the draft back with footnotes "
                        "(default: a table on a terminal, json otherwise)")
    p.add_argument("--json", action="store_true", help="the same as --format json")
    p.add_argument("--batch", type=Path, metavar="FILE", help='JSONL input, one {"id", "claim"} per line')
    p.add_argument("--out", type=Path, metavar="FILE", help="output file (default: stdout)")
    _batch_workers_flag(p)


def _other_commands(sub: argparse._SubParsersAction) -> None:
    p = _subparser(sub, "serve", "serve the HTTP API and the chat page")
    p.add_argument("--host", default=None, help="address to listen on (default 127.0.0.1; REPORTQA_HOST)")
    p.add_argument("--port", type=int, default=None, help="port (default 8000; 0 picks a free one; REPORTQA_PORT)")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="worker processes (default 1; REPORTQA_WORKERS; `make serve` uses one per core)")
    p.add_argument("--allow-open", action="store_true", default=None,
                   help="serve on a non-loopback address without REPORTQA_API_KEY (every route open; warns)")
    _backend_flags(p)

    p = _subparser(sub, "eval", "score retrieval and answers on a reference set")
    p.add_argument("--qa", type=Path, default=None, metavar="FILE", help="reference Q&A JSONL (default: eval/qa.jsonl)")
    p.add_argument("--corpus", type=Path, nargs="+", default=None, metavar="PATH",
                   help="corpus the reference set was written on (default: corpus/)")
    p.add_argument("--variant", nargs="+", default=None, metavar="NAME",
                   help="bm25 dense hybrid langchain (default: all; langchain needs the [eval] extra)")
    p.add_argument("--report", type=Path, default=None, metavar="DIR", help="folder for report.json/report.md/plots")
    p.add_argument("--limit", type=int, default=None, metavar="N", help="only the first N questions")
    p.add_argument("--cite", action="store_true", help="score citation verdicts on eval/claims.jsonl")
    p.add_argument("--chat", type=Path, default=None, metavar="FILE",
                   help="score conversations turn by turn (e.g. eval/chat.jsonl)")
    p.add_argument("--calibrate", action="store_true", help="store the calibrated abstention threshold")
    p.add_argument("--min", type=Path, default=None, metavar="FILE",
                   help="JSON of metric floors; exit 1 if any is missed")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reportqa", description="Answers with exact citations over Chinese research reports.",
        epilog="Settings come from REPORTQA_* variables or a .env file; flags win. "
               "Run `reportqa COMMAND --help` for a command's flags and examples.")
    parser.add_argument("--version", action="version", version=f"reportqa {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _ingest_commands(sub)
    _question_commands(sub)
    _other_commands(sub)
    return parser
