"""Items of the new set whose text repeats an earlier set's (whitespace and punctuation aside). Prints ids and
kinds only, never the texts. Usage: exact.py FOLDER (holding qa.jsonl, claims.jsonl, chat.jsonl)"""
import json
import sys
import unicodedata
from pathlib import Path

EVAL = Path(__file__).resolve().parents[2] / "eval"


def norm(text):
    text = unicodedata.normalize("NFKC", text or "").lower()
    return "".join(ch for ch in text if not ch.isspace() and not unicodedata.category(ch).startswith("P"))


def texts_of(path):
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if not isinstance(row, dict):
            continue
        for key in ("question", "claim", "standalone"):
            if isinstance(row.get(key), str):
                out.append(norm(row[key]))
        for turn in row.get("turns") or []:
            if isinstance(turn, dict):
                out.extend(norm(turn.get(k)) for k in ("question", "standalone") if isinstance(turn.get(k), str))
    return out


def main():
    new = Path(sys.argv[1]).resolve()
    earlier = set()
    for path in EVAL.rglob("*.jsonl"):
        if new in path.resolve().parents:
            continue
        earlier.update(t for t in texts_of(path) if t)
    repeats = 0
    for name in ("qa.jsonl", "claims.jsonl", "chat.jsonl"):
        path = new / name
        if not path.is_file():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            if "turns" in row:
                for n, turn in enumerate(row["turns"], 1):
                    if norm(turn["question"]) in earlier:
                        repeats += 1
                        print(f"{name} {row['id']} turn {n} kind={turn['kind']} lang={row['lang']}")
            else:
                text = row.get("question", row.get("claim"))
                if norm(text) in earlier:
                    repeats += 1
                    kind = row.get("type", row.get("verdict"))
                    print(f"{name} {row['id']} kind={kind} lang={row['lang']}")
    print(f"{repeats} repeated")


if __name__ == "__main__":
    main()
