"""PNG plots from the result JSON: the scale curve and HTTP throughput by concurrency."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # the backend is chosen first

BUILD_LABEL = {"reportqa": "reportqa build_index", "recipe": "LangChain recipe",
               "recipe-bm25": "LangChain recipe, BM25 half only"}
STYLE = {
    "reportqa": {"label": "reportqa Engine.ask", "color": "tab:blue", "marker": "o"},
    "recipe": {"label": "LangChain recipe (BM25+FAISS MiniLM)", "color": "tab:red", "marker": "s"},
    "recipe-bm25": {"label": "LangChain recipe, BM25 half only (lower bound)", "color": "tab:orange",
                    "marker": "^"},
}


def _series(rows: list[dict[str, Any]], system: str, part: str, key: str) -> tuple[list[int], list[float]]:
    points = [(r["chunks"], (r.get(part) or {}).get(key)) for r in rows
              if r["system"] == system and (r.get(part) or {}).get(key) is not None]
    return [p[0] for p in points], [float(p[1]) for p in points]


def scale_plot(scale: dict[str, Any], path: Path, title_note: str = "") -> Path:
    rows = scale.get("rows", [])
    fig, (ax_q, ax_b) = plt.subplots(1, 2, figsize=(12, 4.8))
    for system, part in (("reportqa", "ask"), ("recipe", "invoke"), ("recipe-bm25", "invoke")):
        style = STYLE[system]
        xs, ys = _series(rows, system, part, "p50_ms")
        if xs:
            ax_q.plot(xs, ys, marker=style["marker"], color=style["color"], label=style["label"])
        if system == "reportqa":
            xs, ys = _series(rows, system, "search", "p50_ms")
            if xs:
                ax_q.plot(xs, ys, marker="o", color=style["color"], linestyle="--", alpha=0.6,
                          label="reportqa Engine.search")
        bx = [r["chunks"] for r in rows if r["system"] == system and r.get("build_s")]
        by = [r["build_s"] for r in rows if r["system"] == system and r.get("build_s")]
        if bx:
            ax_b.plot(bx, by, marker=style["marker"], color=style["color"], label=BUILD_LABEL[system])
    notes = [f"{r['system']} at {r['chunks']:,}: {r['status']} ({r.get('reason', '')})" for r in rows
             if r.get("status") in {"stopped", "skipped", "error"}]
    for ax, ylabel, title in ((ax_q, "query p50 (ms)", "Query latency p50"),
                              (ax_b, "build time (s)", "Index build time")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("chunks (synthetic, resampled report sentences)")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    if title_note:
        fig.suptitle(title_note, fontsize=9)
    fig.tight_layout()
    if notes:
        text = "\n".join(textwrap.shorten(note, 170) for note in notes)
        fig.subplots_adjust(bottom=0.14 + 0.035 * len(notes))
        fig.text(0.01, 0.01, text, fontsize=7, va="bottom", ha="left", color="dimgray")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def http_plot(http: dict[str, Any], path: Path, title_note: str = "") -> Path:
    levels = http.get("levels", [])
    conc = [str(level["concurrency"]) for level in levels]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    bars = ax.bar(conc, [level["requests_per_s"] or 0 for level in levels], color="tab:blue", alpha=0.75,
                  label="requests/s")
    for bar, level in zip(bars, levels, strict=True):
        note = f"{level['requests_per_s']}" + (f"\n{level['errors']} err" if level["errors"] else "")
        ax.annotate(note, (bar.get_x() + bar.get_width() / 2, bar.get_height()), ha="center", va="bottom",
                    fontsize=8)
    ax.set_xlabel("concurrent clients")
    ax.set_ylabel("requests/s")
    twin = ax.twinx()
    twin.plot(conc, [level["p50_ms"] for level in levels], marker="o", color="tab:green", label="p50 ms")
    twin.plot(conc, [level["p99_ms"] for level in levels], marker="^", color="tab:red", label="p99 ms")
    twin.set_ylabel("latency (ms)")
    handles = [bars, *twin.get_lines()]
    ax.legend(handles, [h.get_label() for h in handles], loc="upper left", fontsize=8)
    ax.set_title(f"POST /ask throughput ({http.get('server', 'reportqa serve')})")
    if title_note:
        fig.suptitle(title_note, fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
