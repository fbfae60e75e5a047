"""The reportqa command: parses arguments and dispatches to library functions."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TextIO

from reportqa.core.settings import Settings, load_settings


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--index-dir", type=Path, default=None, help="index folder (REPORTQA_INDEX_DIR)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="reportqa", description="Answers with exact citations over reports.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", help="build the index from the corpus")
    _common(p)
    p.add_argument("--corpus", type=Path, nargs="+", default=None, help="folders, files or JSONL documents")
    p.add_argument("--embed-model", default=None, help="corpus-static (default), minilm, a folder or hub name")
    p.add_argument("--if-missing", action="store_true", help="do nothing when a current index exists")

    p = sub.add_parser("add", help="add or replace documents without rebuilding the rest")
    _common(p)
    p.add_argument("paths", type=Path, nargs="+", help="files or folders")

    p = sub.add_parser("remove", help="remove documents from the index")
    _common(p)
    p.add_argument("docs", nargs="+", help="document names as `reportqa docs` lists them")

    p = sub.add_parser("docs", help="list the indexed documents")
    _common(p)

    p = sub.add_parser("ask", help="answer a question, or a JSONL batch of them")
    _common(p)
    p.add_argument("question", nargs="?", help="the question")
    p.add_argument("--json", action="store_true", help="print the answer JSON")
    p.add_argument("--top-k", type=int, default=None)
    p.add_argument("--batch", type=Path, help='JSONL input, one {"id", "question"} per line')
    p.add_argument("--out", type=Path, help="JSONL output for --batch (default: stdout)")

    p = sub.add_parser("cite", help="match every claim of a draft, or a JSONL batch of claims, to its source")
    _common(p)
    p.add_argument("draft", nargs="?", type=Path, help="Markdown or plain-text draft")
    p.add_argument("--format", choices=["json", "markdown"], default="json")
    p.add_argument("--batch", type=Path, help='JSONL input, one {"id", "claim"} per line')
    p.add_argument("--out", type=Path, help="output file (default: stdout)")

    p = sub.add_parser("serve", help="serve the HTTP API")
    _common(p)
    p.add_argument("--host", default=None)
    p.add_argument("--port", type=int, default=None)
    p.add_argument("--workers", type=int, default=None)
    p.add_argument("--allow-open", action="store_true", default=None,
                   help="serve on a non-loopback address without REPORTQA_API_KEY (every route open; warns)")

    p = sub.add_parser("eval", help="score retrieval and answers on a reference set")
    _common(p)
    p.add_argument("--qa", type=Path, default=None, help="reference Q&A JSONL (default: eval/qa.jsonl)")
    p.add_argument("--corpus", type=Path, nargs="+", default=None)
    p.add_argument("--variant", nargs="+", default=None, help="bm25 dense hybrid langchain (default: all)")
    p.add_argument("--report", type=Path, default=None, help="folder for report.json/report.md/plots")
    p.add_argument("--limit", type=int, default=None, help="only the first N questions")
    p.add_argument("--cite", action="store_true", help="score citation verdicts on eval/claims.jsonl")
    p.add_argument("--calibrate", action="store_true", help="store the calibrated abstention threshold")
    p.add_argument("--min", type=Path, default=None, help="JSON of metric floors; exit 1 if any is missed")
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(index_dir=args.index_dir, corpus=getattr(args, "corpus", None),
                         embed_model=getattr(args, "embed_model", None), host=getattr(args, "host", None),
                         port=getattr(args, "port", None), workers=getattr(args, "workers", None),
                         allow_open=getattr(args, "allow_open", None))


def cmd_index(args: argparse.Namespace) -> int:
    from reportqa.engine import build
    from reportqa.index.store import IndexProblem, current_version_path, read_manifest

    settings = _settings(args)
    if args.if_missing:
        try:
            read_manifest(current_version_path(settings.index_dir))
            print(f"index present in {settings.index_dir}", file=sys.stderr)
            return 0
        except IndexProblem as exc:  # none yet, or one this version cannot read: build it
            print(f"building the index ({exc})", file=sys.stderr)
    report = build(settings)
    for skipped in report.skipped:
        print(f"skipped {skipped.path}: {skipped.reason}", file=sys.stderr)
    print(json.dumps(report.as_json(), ensure_ascii=False))
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    from reportqa.collection import add

    report = add(_settings(args), args.paths)
    print(json.dumps(report.as_json(), ensure_ascii=False))
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    from reportqa.collection import remove

    print(json.dumps(remove(_settings(args), args.docs).as_json(), ensure_ascii=False))
    return 0


def cmd_docs(args: argparse.Namespace) -> int:
    from reportqa.collection import listing

    for row in listing(_settings(args)):
        print(json.dumps(row, ensure_ascii=False))
    return 0


@contextlib.contextmanager
def _output(path: Path | None) -> Iterator[TextIO]:
    if path is None:
        yield sys.stdout
        return
    with path.open("w", encoding="utf-8") as out:
        yield out


def cmd_ask(args: argparse.Namespace) -> int:
    from reportqa.batch import run_file
    from reportqa.contract import AnswerErrorOut, AnswerOut, format_answer
    from reportqa.engine import open_engine

    if not args.batch and not args.question:
        print("reportqa ask: give a question or --batch FILE", file=sys.stderr)
        return 2
    engine = open_engine(_settings(args))
    if args.batch:
        with _output(args.out) as out:
            run_file(args.batch, out, "question",
                     lambda qid, q: AnswerOut.of(engine.ask(q, args.top_k, qid)).model_dump(),
                     lambda qid, q, error: AnswerErrorOut(id=qid, question=q, error=error).model_dump())
        return 0
    answer = engine.ask(args.question, args.top_k)
    print(json.dumps(AnswerOut.of(answer).model_dump(), ensure_ascii=False, indent=2) if args.json
          else format_answer(answer))
    return 0


def cmd_cite(args: argparse.Namespace) -> int:
    from reportqa.batch import run_file
    from reportqa.contract import CiteErrorOut, VerdictOut
    from reportqa.draft import placed_results, render_markdown
    from reportqa.engine import open_engine
    from reportqa.ingest.decoding import SourceError, decode

    if not args.batch and not args.draft:
        print("reportqa cite: give a draft file or --batch FILE", file=sys.stderr)
        return 2
    engine = open_engine(_settings(args))
    if args.batch:
        with _output(args.out) as out:
            run_file(args.batch, out, "claim", lambda qid, c: VerdictOut.of(engine.cite(c), qid).model_dump(),
                     lambda qid, c, error: CiteErrorOut(id=qid, claim=c, error=error).model_dump())
        return 0
    # the draft is read and checked before --out is opened: a bad draft must not leave an empty output behind
    try:
        draft = decode(args.draft.read_bytes())
    except SourceError as exc:
        raise SourceError(f"{args.draft}: {exc}") from exc
    checked = engine.cite_draft(draft)
    with _output(args.out) as out:
        if args.format == "markdown":
            out.write(render_markdown(draft, checked))
        else:
            results = [r.model_dump() for r in placed_results(checked)]
            out.write(json.dumps({"results": results}, ensure_ascii=False, indent=1) + "\n")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from reportqa.api.server import serve

    return serve(_settings(args))


def cmd_eval(args: argparse.Namespace) -> int:
    from reportqa.eval.harness import run_from_cli

    return run_from_cli(args, _settings(args))


COMMANDS = {"index": cmd_index, "add": cmd_add, "remove": cmd_remove, "docs": cmd_docs, "ask": cmd_ask,
            "cite": cmd_cite, "serve": cmd_serve, "eval": cmd_eval}


def main(argv: Sequence[str] | None = None) -> int:
    from reportqa.engine import QuestionError
    from reportqa.index.store import IndexProblem
    from reportqa.ingest.decoding import SourceError
    from reportqa.jobs import describe_os_error

    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (IndexProblem, SourceError, QuestionError, FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        print(f"reportqa {args.command}: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a full disk above all: one line, the temporary files already removed
        print(f"reportqa {args.command}: {describe_os_error(exc)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
