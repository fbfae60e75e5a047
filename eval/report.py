"""Write an eval report: report.json, a readable report.md, and a per-type bar chart."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TABLE_METRICS = ("hit@1", "hit@5", "mrr@10", "ndcg@10", "answer_ok", "citation_precision",
                 "unanswerable_refused", "answerable_refused", "latency_p50_ms", "latency_p95_ms")


def markdown(report: dict[str, Any]) -> str:
    lines = [f"# Eval report — {report.get('qa', '')}", "", f"{report['questions']} questions.", "",
             "| variant | " + " | ".join(TABLE_METRICS) + " |", "|---" * (len(TABLE_METRICS) + 1) + "|"]
    for name, data in report["variants"].items():
        lines.append(f"| {name} | " + " | ".join(str(data["overall"].get(m, "–")) for m in TABLE_METRICS) + " |")
    for name, data in report["variants"].items():
        lines += ["", f"## {name} by type", "", "| type | n | hit@1 | hit@5 | mrr@10 | answer_ok | refused |",
                  "|---|---|---|---|---|---|---|"]
        for qtype, m in data["by_type"].items():
            refused = m.get("unanswerable_refused", m.get("answerable_refused"))
            lines.append(f"| {qtype} | {int(m['questions'])} | {m['hit@1']} | {m['hit@5']} | {m['mrr@10']} | "
                         f"{m['answer_ok']} | {refused} |")
    if "cite" in report:
        lines += ["", "## Citation verdicts", "", "```", json.dumps(report["cite"], indent=2), "```"]
    lines += ["", "![hit@5 by type](by_type.png)", ""]
    return "\n".join(lines)


def plot_by_type(report: dict[str, Any], path: Path, metric: str = "hit@5") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    variants = list(report["variants"])
    types = sorted({t for v in report["variants"].values() for t in v["by_type"] if t != "unanswerable"})
    fig, ax = plt.subplots(figsize=(max(6, len(types) * 1.3), 4))
    width = 0.8 / max(len(variants), 1)
    for i, name in enumerate(variants):
        values = [report["variants"][name]["by_type"].get(t, {}).get(metric, 0.0) for t in types]
        ax.bar([x + i * width for x in range(len(types))], values, width, label=name)
    ax.set_xticks([x + 0.4 - width / 2 for x in range(len(types))], types)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel(metric)
    ax.set_title(f"{metric} by question type")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report(report: dict[str, Any], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    (folder / "report.md").write_text(markdown(report), encoding="utf-8")
    plot_by_type(report, folder / "by_type.png")
