"""Fill the results section of bench/README.md from bench/results/*.json (only numbers that were measured)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.common import RESULTS, read_json, result_path

README = Path(__file__).parent / "README.md"
START, END = "<!-- results:start -->", "<!-- results:end -->"


def _f(value: Any, digits: int = 1) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _ms(part: dict[str, Any] | None, key: str) -> str:
    return _f((part or {}).get(key), 1 if ((part or {}).get(key) or 0) >= 10 else 2)


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "/") for cell in row) + " |" for row in rows]
    return [*lines, ""]


def _build(data: dict[str, Any]) -> list[str]:
    rows = []
    for key, label in (("reportqa", "reportqa"), ("langchain_recipe", "LangChain recipe")):
        r = data.get(key) or {}
        rows.append([label, _f(r.get("chunks")), _f(r.get("cold_build_s"), 2), _f(r.get("warm_build_s"), 2),
                     _f(r.get("index_mb")), _f(r.get("peak_rss_build_mb"), 0), r.get("error", "")[:80]])
    return ["**1. Index build, five reports** (cold: fresh process, `reportqa index` for reportqa; warm: second "
            "build in the same process)", "",
            *_table(["system", "chunks", "cold (s)", "warm (s)", "index on disk (MB)", "peak RSS (MB)", "note"],
                    rows)]


def _latency(data: dict[str, Any]) -> list[str]:
    ours, recipe = data.get("reportqa") or {}, data.get("langchain_recipe") or {}
    rows = []
    for label, part in (("reportqa `Engine.ask`", ours.get("ask")), ("reportqa `Engine.search`", ours.get("search")),
                        ("LangChain recipe `retriever.invoke`", recipe.get("invoke"))):
        rows.append([label, _f((part or {}).get("n")), _ms(part, "p50_ms"), _ms(part, "p95_ms"),
                     _ms(part, "p99_ms")])
    lines = ["**2. In-process query latency**, eval/qa.jsonl questions cycled, each encoded anew "
             "(vector cache cleared)", "",
             *_table(["call", "queries", "p50 (ms)", "p95 (ms)", "p99 (ms)"], rows)]
    if data.get("p50_ratio_recipe_over_ask"):
        lines += [f"Recipe p50 / reportqa ask p50 = **{data['p50_ratio_recipe_over_ask']}×**", ""]
    return lines


def _http(data: dict[str, Any]) -> list[str]:
    rows = [[_f(x["concurrency"]), _f(x["requests"]), _f(x["requests_per_s"]), _ms(x, "p50_ms"), _ms(x, "p99_ms"),
             _f(x["errors"]) + (" (time limit hit)" if x.get("stopped_by_time_limit") else "")]
            for x in data.get("levels", [])]
    return [f"**3. HTTP POST /ask** (`{data.get('server')}`, load generator in another process on the same "
            f"machine)", "", *_table(["concurrency", "requests", "req/s", "p50 (ms)", "p99 (ms)", "errors"], rows)]


def _batch(data: dict[str, Any]) -> list[str]:
    rows = []
    cm = data.get("cmrc_ask") or {}
    if cm.get("skipped"):
        rows.append(["CMRC `ask --batch`", "—", "—", "—", "—", cm["skipped"]])
    else:
        ask = cm.get("ask") or {}
        rows.append(["CMRC index build (`reportqa index`)", _f((cm.get("index") or {}).get("chunks")) + " chunks",
                     _f((cm.get("index") or {}).get("wall_s"), 2), "—", "—", ""])
        rows.append(["CMRC `reportqa ask --batch`", _f(cm.get("questions")), _f(ask.get("wall_s"), 2),
                     _f(ask.get("questions_per_s")), _f(ask.get("error_rows")), ask.get("error", "")[:80]])
    ci = data.get("cite") or {}
    if ci:
        target = f"target < {_f(ci.get('target_s'), 0)} s: {'met' if ci.get('meets_target') else 'missed'}"
        rows.append(["claims `reportqa cite --batch`", _f(ci.get("claims")), _f(ci.get("wall_s"), 2),
                     _f(ci.get("claims_per_s")), _f(ci.get("error_rows")), target])
    return ["**5–6. Batches through the CLI** (wall time of the whole command, process start and index "
            "loading included)", "", *_table(["job", "items", "wall (s)", "items/s", "error rows", "note"], rows)]


def _scale(data: dict[str, Any]) -> list[str]:
    rows = []
    for r in data.get("rows", []):
        part = r.get("ask") or r.get("invoke") or {}
        rows.append([_f(r["chunks"]), r["system"], r.get("status", ""), _f(r.get("build_s")),
                     _f(r.get("peak_rss_build_mb"), 0), _f(r.get("index_mb")), _ms(part, "p50_ms"),
                     _ms(part, "p99_ms"), _ms(r.get("search"), "p50_ms"), (r.get("reason") or "")[:140]])
    lines = ["**4. Scale curve** (synthetic chunks resampled from report sentences; reportqa p50/p99 are "
             "`Engine.ask`, the recipe's `retriever.invoke`)", "",
             *_table(["chunks", "system", "status", "build (s)", "peak RSS build (MB)", "index (MB)", "p50 (ms)",
                      "p99 (ms)", "reportqa search p50 (ms)", "note"], rows)]
    ratio = data.get("ratio")
    if ratio:
        bound = " (lower bound: the recipe's BM25 half alone)" if ratio.get("lower_bound") else ""
        lines += [f"At {ratio['chunks']:,} chunks the recipe's p50 is **{ratio['ratio_vs_ask']}×** reportqa's "
                      f"`ask` p50 and {ratio.get('ratio_vs_search')}× its `search` p50{bound}.", ""]
    return lines


def render(quick: bool) -> list[str]:
    meta = read_json(result_path("run", quick))
    if not meta:
        return []
    m = meta["machine"]
    title = "Quick run (preliminary: `--quick`, machine shared with other jobs)" if quick else "Full run"
    lines = [f"### {title}", "",
             f"{m['date']} · {m['nproc']} CPUs ({m['cpu']}) · {m['memory_gib']} GiB · load average at start "
             f"{m['loadavg_at_start']} · Python {m['python']} · git {m['git']['commit']}"
             f"{' (uncommitted changes)' if m['git']['dirty'] else ''}", ""]
    sections = meta.get("sections", {})
    if sections:
        lines += ["Sections: " + "; ".join(
            f"{name} started {v.get('started', '?')} at git {(v.get('git') or {}).get('commit', '?')}, load "
            f"{v.get('loadavg_at_start', '?')}, {v.get('seconds')} s"
            for name, v in sections.items()), ""]
    for name, render_part in (("build", _build), ("latency", _latency), ("http", _http), ("scale", _scale),
                              ("batch", _batch)):
        data = read_json(result_path(name, quick))
        if data:
            lines += render_part(data)
    failed = {k: v.get("error") for k, v in meta.get("sections", {}).items() if not v.get("ok")}
    if failed:
        lines += [f"Sections that failed: {failed}", ""]
    plots = [p for p in (result_path("scale", quick, ".png"), result_path("http", quick, ".png")) if p.is_file()]
    lines += [f"![{p.stem}](results/{p.name})" for p in plots] + ([""] if plots else [])
    return lines


def update_readme(readme: Path = README) -> None:
    text = readme.read_text(encoding="utf-8") if readme.is_file() else f"{START}\n{END}\n"
    if START not in text or END not in text:
        text += f"\n{START}\n{END}\n"
    body = render(quick=False) + render(quick=True)
    if not body:
        body = ["No results yet: run `make bench` (or `python -m bench.run --quick`).", ""]
    head, rest = text.split(START, 1)
    tail = rest.split(END, 1)[1]
    readme.write_text(head + START + "\n" + "\n".join(body) + END + tail, encoding="utf-8")


if __name__ == "__main__":
    RESULTS.mkdir(parents=True, exist_ok=True)
    update_readme()
