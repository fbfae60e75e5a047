"""The reportqa command: runs a parsed command against the library; output, errors and exit codes live here."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from reportqa.cli_parser import build_parser
from reportqa.core.progress import for_stream
from reportqa.core.settings import (
    HOME_VARIABLE,
    PACKAGE_ROOT,
    Settings,
    SettingsError,
    find_home,
    load_settings,
    unknown_variables,
)

if TYPE_CHECKING:
    from reportqa.engine import Engine

STDIN = "-"
CLOSED_PIPE_STATUS = 141  # 128 + SIGPIPE: what a command killed by a closed pipe returns in a shell
OPTIONAL_EXTRAS = {"matplotlib": "eval", "rank_bm25": "eval", "langchain_community": "eval",
                   "langchain_classic": "eval", "langchain_text_splitters": "eval", "langchain_openai": "llm"}


def _settings(args: argparse.Namespace) -> Settings:
    args.home = find_home(Path.cwd(), os.environ, PACKAGE_ROOT)
    return load_settings(args.home, index_dir=args.index_dir, corpus=getattr(args, "corpus", None),
                         embed_model=getattr(args, "embed_model", None), host=getattr(args, "host", None),
                         port=getattr(args, "port", None), workers=getattr(args, "workers", None),
                         batch_workers=getattr(args, "batch_workers", None),
                         allow_open=getattr(args, "allow_open", None), backend=getattr(args, "backend", None),
                         ray_address=getattr(args, "address", None), shards=getattr(args, "shards", None))


def _human(args: argparse.Namespace) -> bool:
    """Tables for a person: stdout is a terminal and JSON was not asked for."""
    return not getattr(args, "json", False) and sys.stdout.isatty()


def _show(args: argparse.Namespace, data: Any, human: Callable[[Any], str]) -> None:
    print(human(data) if _human(args) else json.dumps(data, ensure_ascii=False))


def cmd_index(args: argparse.Namespace) -> int:
    from reportqa.engine import build, prepare_models
    from reportqa.index.store import IndexProblem, current_version_path, read_manifest
    from reportqa.terminal import ingest_summary

    settings = _settings(args)
    prepare_models(settings)
    if args.if_missing:
        try:
            read_manifest(current_version_path(settings.index_dir))
            print(f"index present in {settings.index_dir}", file=sys.stderr)
            return 0
        except IndexProblem as exc:  # none yet, or one this version cannot read: build it
            print(f"building the index ({exc})", file=sys.stderr)
    if settings.backend == "ray":
        from reportqa.scaleout.build import ray_build

        report = ray_build(settings, for_stream(sys.stderr))
    else:
        report = build(settings, for_stream(sys.stderr))
    if not _human(args):
        for skipped in report.skipped:
            print(f"skipped {skipped.path}: {skipped.reason}", file=sys.stderr)
    _show(args, report.as_json(), ingest_summary)
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    from reportqa.collection import add
    from reportqa.terminal import ingest_summary

    _show(args, add(_settings(args), args.paths, for_stream(sys.stderr)).as_json(), ingest_summary)
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    from reportqa.collection import remove
    from reportqa.terminal import ingest_summary

    _show(args, remove(_settings(args), args.docs, for_stream(sys.stderr)).as_json(), ingest_summary)
    return 0


def cmd_docs(args: argparse.Namespace) -> int:
    from reportqa.collection import listing
    from reportqa.terminal import documents_table

    rows = listing(_settings(args))
    if _human(args):
        print(documents_table(rows))
        return 0
    for row in rows:
        print(json.dumps(row, ensure_ascii=False))
    return 0


@contextlib.contextmanager
def _output(path: Path | None) -> Iterator[TextIO]:
    if path is None:
        yield sys.stdout
        return
    with path.open("w", encoding="utf-8") as out:
        yield out


def _text_argument(value: str) -> str:
    """The argument itself, or standard input when it is "-"."""
    return sys.stdin.read().strip() if value == STDIN else value


def cmd_ask(args: argparse.Namespace) -> int:
    from reportqa.engine import open_engine

    if not args.batch and not args.question:
        print("reportqa ask: give a question, - to read it from standard input, or --batch FILE", file=sys.stderr)
        return 2
    question = _text_argument(args.question) if args.question else ""
    settings = _settings(args)
    with contextlib.ExitStack() as stack:
        if settings.backend == "ray":
            from reportqa.scaleout.serve import engine_on_cluster

            engine = stack.enter_context(engine_on_cluster(settings))
        else:
            engine = open_engine(settings)
        # a forked copy of a Ray client would share its connection: the cluster spreads the work itself
        return _answer(args, engine, question, 1 if settings.backend == "ray" else settings.batch_workers)


def _answer(args: argparse.Namespace, engine: Engine, question: str, workers: int) -> int:
    from reportqa.batch import run_file
    from reportqa.contract import AnswerErrorOut, AnswerOut, format_answer

    if args.batch:
        with _output(args.out) as out:
            run_file(args.batch, out, "question",
                     lambda qid, q: AnswerOut.of(engine.ask(q, args.top_k, qid)).model_dump(),
                     lambda qid, q, error: AnswerErrorOut(id=qid, question=q, error=error).model_dump(),
                     for_stream(sys.stderr), prime=engine.prime, workers=workers)
        return 0
    answer = engine.ask(question, args.top_k)
    print(json.dumps(AnswerOut.of(answer).model_dump(), ensure_ascii=False, indent=2) if args.json
          else format_answer(answer))
    return 0


def _read_draft(name: str) -> str:
    from reportqa.ingest.decoding import SourceError, decode

    if name == STDIN:
        return sys.stdin.read()
    try:
        return decode(Path(name).read_bytes())
    except SourceError as exc:
        raise SourceError(f"{name}: {exc}") from exc


def cmd_cite(args: argparse.Namespace) -> int:
    from reportqa.batch import run_file
    from reportqa.contract import CiteErrorOut, VerdictOut
    from reportqa.draft import placed_results, render_markdown
    from reportqa.engine import open_engine
    from reportqa.terminal import verdicts_table

    if not args.batch and not args.draft:
        print("reportqa cite: give a draft file, - to read it from standard input, or --batch FILE", file=sys.stderr)
        return 2
    form = "json" if args.json else args.format
    draft = _read_draft(args.draft) if args.draft and not args.batch else ""
    settings = _settings(args)
    engine = open_engine(settings)
    if args.batch:
        with _output(args.out) as out:
            run_file(args.batch, out, "claim", lambda qid, c: VerdictOut.of(engine.cite(c), qid).model_dump(),
                     lambda qid, c, error: CiteErrorOut(id=qid, claim=c, error=error).model_dump(),
                     for_stream(sys.stderr), prime=engine.prime, workers=settings.batch_workers)
        return 0
    # the draft is read and checked before --out is opened: a bad draft must not leave an empty output behind
    checked = engine.cite_draft(draft)
    with _output(args.out) as out:
        if form == "markdown":
            out.write(render_markdown(draft, checked))
        elif form is None and args.out is None and sys.stdout.isatty():
            out.write(verdicts_table([r.model_dump() for r in placed_results(checked)]) + "\n")
        else:
            results = [r.model_dump() for r in placed_results(checked)]
            out.write(json.dumps({"results": results}, ensure_ascii=False, indent=1) + "\n")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from reportqa.api.server import serve

    settings = _settings(args)
    if settings.backend == "ray":
        from reportqa.scaleout.serve import serve_on_ray

        return serve_on_ray(settings)
    return serve(settings)


def cmd_eval(args: argparse.Namespace) -> int:
    from reportqa.eval.harness import run_from_cli

    return run_from_cli(args, _settings(args))


COMMANDS = {"index": cmd_index, "add": cmd_add, "remove": cmd_remove, "docs": cmd_docs, "ask": cmd_ask,
            "cite": cmd_cite, "serve": cmd_serve, "eval": cmd_eval}


def _where_hint(args: argparse.Namespace, message: str) -> str:
    """A missing index, when no project folder was found: say how the command finds one."""
    if "no index" in message and getattr(args, "home", None) is None and args.index_dir is None:
        return (f" (no reportqa project found from {Path.cwd()}: run in the project folder, "
                f"or set {HOME_VARIABLE} to it)")
    return ""


def _quiet_closed_pipe() -> int:
    """The reader went away (`| head`): point stdout at /dev/null so the exit flush cannot raise again."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return CLOSED_PIPE_STATUS


def main(argv: Sequence[str] | None = None) -> int:
    from reportqa.engine import QuestionError
    from reportqa.index.store import IndexProblem
    from reportqa.ingest.decoding import SourceError
    from reportqa.jobs import describe_os_error

    args = build_parser().parse_args(argv)
    for note in unknown_variables(os.environ):
        print(f"reportqa: warning: {note}", file=sys.stderr)
    try:
        status = COMMANDS[args.command](args)
        sys.stdout.flush()
        return status
    except BrokenPipeError:
        return _quiet_closed_pipe()
    except SettingsError as exc:
        print(f"reportqa: {exc}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as exc:
        extra = OPTIONAL_EXTRAS.get((exc.name or "").split(".")[0])
        if extra is None:
            raise
        print(f"reportqa {args.command}: needs {exc.name}, which the [{extra}] extra installs: "
              f"pip install 'reportqa[{extra}]'", file=sys.stderr)
        return 2
    except (IndexProblem, SourceError, QuestionError, FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        print(f"reportqa {args.command}: {exc}{_where_hint(args, str(exc))}", file=sys.stderr)
        return 2
    except OSError as exc:  # a full disk above all: one line, the temporary files already removed
        print(f"reportqa {args.command}: {describe_os_error(exc)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
