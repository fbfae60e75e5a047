"""Format checker for the sealed set parts; reads only the five reports.

Usage: check.py qa|claims|chat|unans FILE [QA_FILE]
"""
import json
import re
import sys
from pathlib import Path

REPORTS = Path("/work/shared/reports")
DOCS = {p.name: re.sub(r"\s+", "", p.read_text(encoding="utf-8")) for p in sorted(REPORTS.glob("*.txt"))}
QA_TYPES = {"numeric", "paraphrase", "table", "entity", "comparison", "definition", "english", "unanswerable"}
TURN_KINDS = {"ellipsis", "pronoun", "switch", "unanswerable", "comparative", "same_table"}
CJK = re.compile(r"[\u4e00-\u9fff]")


def norm(text):
    return re.sub(r"\s+", "", text)


def check_evidence(where, row, answers, errors):
    doc, evidence = row.get("doc"), row.get("evidence")
    if doc not in DOCS:
        errors.append(f"{where}: doc must be one of {sorted(DOCS)}")
        return
    if not isinstance(evidence, str) or len(norm(evidence)) < 15 or len(evidence.strip()) < 15:
        errors.append(f"{where}: evidence must be a string of at least 15 characters (whitespace aside)")
        return
    if len(evidence.strip()) > 200:
        errors.append(f"{where}: evidence longer than 200 characters: pick a shorter span")
    if norm(evidence) not in DOCS[doc]:
        errors.append(f"{where}: evidence is not found in {doc} character for character (whitespace aside)")
    if answers is not None:
        if not answers or not all(isinstance(a, str) and norm(a) for a in answers):
            errors.append(f"{where}: answers must be a non-empty list of non-empty strings")
        elif not all(norm(a) in norm(evidence) for a in answers):
            errors.append(f"{where}: an answer is not inside the evidence (every answer must be)")


def check_lang(where, text, lang, errors):
    if lang not in ("zh", "en"):
        errors.append(f"{where}: lang must be zh or en")
    elif lang == "zh" and not CJK.search(text):
        errors.append(f"{where}: a zh item must be written in Chinese")
    elif lang == "en" and len(CJK.findall(text)) > len(text) / 4:
        errors.append(f"{where}: an en item must be written in English")


def read_rows(path, errors):
    rows = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(f"line {number}: not valid JSON ({exc.msg})")
            continue
        if not isinstance(row, dict):
            errors.append(f"line {number}: not a JSON object")
            continue
        rows.append(row)
    ids = [r.get("id") for r in rows]
    for dup in sorted({i for i in ids if ids.count(i) > 1}, key=str):
        errors.append(f"id {dup} is used more than once")
    return rows


def check_qa(path, errors):
    for row in read_rows(path, errors):
        where = str(row.get("id"))
        if set(row) != {"id", "question", "answers", "doc", "evidence", "type", "lang"}:
            errors.append(f"{where}: fields must be exactly id, question, answers, doc, evidence, type, lang")
            continue
        if not re.fullmatch(r"sq34-[ab]\d{3}", str(row["id"])):
            errors.append(f"{where}: id must look like sq34-a001 / sq34-b001")
        if row["type"] not in QA_TYPES:
            errors.append(f"{where}: type must be one of {sorted(QA_TYPES)}")
        if not isinstance(row["question"], str) or not 4 <= len(row["question"].strip()) <= 200:
            errors.append(f"{where}: question must be 4 to 200 characters")
            continue
        check_lang(where, row["question"], row["lang"], errors)
        if row["type"] == "english" and row["lang"] != "en":
            errors.append(f"{where}: type english needs lang en")
        if row["lang"] == "en" and row["type"] not in ("english", "unanswerable"):
            errors.append(f"{where}: an English answerable question has type english")
        if row["type"] == "unanswerable":
            if row["answers"] != [] or row["doc"] is not None or row["evidence"] is not None:
                errors.append(f"{where}: unanswerable needs answers [], doc null, evidence null")
        else:
            check_evidence(where, row, row["answers"], errors)


def check_claims(path, errors):
    for row in read_rows(path, errors):
        where = str(row.get("id"))
        verdict = row.get("verdict")
        base = {"id", "claim", "verdict", "doc", "evidence", "lang"}
        want = base | {"report_value", "claim_value"} if verdict == "contradicted" else base
        if set(row) != want:
            errors.append(f"{where}: fields must be exactly {sorted(want)}")
            continue
        if not re.fullmatch(r"sk34-[ab]\d{2}", str(row["id"])):
            errors.append(f"{where}: id must look like sk34-a01 / sk34-b01")
        if verdict not in ("supported", "contradicted", "unsupported"):
            errors.append(f"{where}: verdict must be supported, contradicted or unsupported")
            continue
        if not isinstance(row["claim"], str) or not 8 <= len(row["claim"].strip()) <= 250:
            errors.append(f"{where}: claim must be 8 to 250 characters")
            continue
        check_lang(where, row["claim"], row["lang"], errors)
        if verdict == "unsupported":
            if row["doc"] is not None or row["evidence"] is not None:
                errors.append(f"{where}: unsupported needs doc null, evidence null")
            continue
        check_evidence(where, row, None, errors)
        if verdict == "contradicted":
            rv, cv = row["report_value"], row["claim_value"]
            if not isinstance(rv, str) or not rv.strip() or norm(rv) not in norm(row["evidence"] or ""):
                errors.append(f"{where}: report_value must be a string found inside the evidence")
            if not isinstance(cv, str) or not cv.strip() or norm(cv) not in norm(row["claim"]):
                errors.append(f"{where}: claim_value must be a string found inside the claim")
            if isinstance(rv, str) and isinstance(cv, str) and norm(rv) == norm(cv):
                errors.append(f"{where}: report_value and claim_value must differ")


def check_chat(path, errors):
    for row in read_rows(path, errors):
        where = str(row.get("id"))
        if set(row) != {"id", "lang", "turns"}:
            errors.append(f"{where}: fields must be exactly id, lang, turns")
            continue
        if not re.fullmatch(r"sv34-\d{2}", str(row["id"])):
            errors.append(f"{where}: id must look like sv34-01")
        turns = row["turns"]
        if not isinstance(turns, list) or not 3 <= len(turns) <= 5:
            errors.append(f"{where}: a conversation has 3 to 5 turns")
            continue
        for n, turn in enumerate(turns, 1):
            at = f"{where} turn {n}"
            if not isinstance(turn, dict) or set(turn) != {"question", "standalone", "kind", "answers", "doc",
                                                           "evidence"}:
                errors.append(f"{at}: fields must be exactly question, standalone, kind, answers, doc, evidence")
                continue
            if (n == 1) != (turn["kind"] == "first"):
                errors.append(f"{at}: the first turn (and only it) has kind first")
            elif n > 1 and turn["kind"] not in TURN_KINDS:
                errors.append(f"{at}: kind must be one of {sorted(TURN_KINDS)}")
            for key in ("question", "standalone"):
                if not isinstance(turn[key], str) or not 2 <= len(turn[key].strip()) <= 200:
                    errors.append(f"{at}: {key} must be 2 to 200 characters")
            if isinstance(turn["question"], str):
                check_lang(at, turn["question"], row["lang"], errors)
            if turn["kind"] == "unanswerable":
                if turn["answers"] != [] or turn["doc"] is not None or turn["evidence"] is not None:
                    errors.append(f"{at}: unanswerable needs answers [], doc null, evidence null")
            else:
                check_evidence(at, turn, turn["answers"], errors)


def check_unans(path, errors, qa_path=None):
    try:
        kinds = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        errors.append(f"not valid JSON ({exc.msg})")
        return
    if not isinstance(kinds, dict):
        errors.append("must be one JSON object: id -> hard | off")
        return
    for key, value in kinds.items():
        if not re.fullmatch(r"sq34-[ab]\d{3}", key) or value not in ("hard", "off"):
            errors.append(f"{key}: keys are question ids, values hard or off")
    if qa_path:
        rows = [json.loads(row) for row in Path(qa_path).read_text(encoding="utf-8").splitlines() if row.strip()]
        unanswerable = {r["id"] for r in rows if r.get("type") == "unanswerable"}
        if set(kinds) != unanswerable:
            errors.append(f"keys must be exactly the unanswerable ids of {qa_path}")


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("qa", "claims", "chat", "unans"):
        print(__doc__)
        return 2
    errors = []
    if sys.argv[1] == "unans":
        check_unans(sys.argv[2], errors, sys.argv[3] if len(sys.argv) > 3 else None)
    else:
        {"qa": check_qa, "claims": check_claims, "chat": check_chat}[sys.argv[1]](sys.argv[2], errors)
    for error in errors:
        print(error)
    print("OK" if not errors else f"{len(errors)} problem(s)")
    return 0 if not errors else 1


if __name__ == "__main__":
    raise SystemExit(main())
