// Citations as sources a reader sees: passages of one report that overlap are one source, numbered 1, 2, 3…
import { MARKER_RE } from "./text.js";

const MIN_SEAM = 6; // characters two passage texts must share at the seam to be joined there

// Two passage texts joined where the end of `a` repeats the start of `b` (chunks overlap by whole sentences).
function joinTexts(a, b) {
  if (a.includes(b)) return a;
  if (b.includes(a)) return b;
  for (let k = Math.min(a.length, b.length); k >= MIN_SEAM; k--) {
    if (a.endsWith(b.slice(0, k))) return a + b.slice(k);
  }
  return a + "\n…\n" + b;
}

function overlaps(a, b) {
  return a.doc === b.doc && a.start < b.end && b.start < a.end;
}

function mergeGroup(group) {
  const ordered = [...group].sort((a, b) => a.start - b.start);
  const first = ordered[0];
  const pick = (key, fn) => ordered.map((c) => c[key]).filter((v) => v != null).reduce(fn, null);
  const lowest = (x, y) => (x == null ? y : Math.min(x, y));
  const highest = (x, y) => (x == null ? y : Math.max(x, y));
  return {
    ...first,
    start: pick("start", lowest), end: pick("end", highest),
    line_start: pick("line_start", lowest), line_end: pick("line_end", highest),
    page: pick("page", lowest), page_end: pick("page_end", highest) ?? pick("page", highest),
    text: ordered.slice(1).reduce((text, c) => joinTexts(text, String(c.text || "")), String(first.text || "")),
    score: Math.max(...group.map((c) => Number(c.score) || 0)),
    members: group.map((c) => Number(c.n)).sort((x, y) => x - y),
  };
}

// {sources, numberOf}: overlapping citations merged, in order of their first number; numberOf maps every
// original citation number to its source's new number.
export function mergeSources(citations) {
  const groups = [];
  for (const c of [...citations].sort((a, b) => Number(a.n) - Number(b.n))) {
    const touching = groups.filter((g) => g.some((m) => overlaps(m, c)));
    const merged = touching.flat().concat([c]);
    for (const g of touching) groups.splice(groups.indexOf(g), 1);
    groups.push(merged);
  }
  const sources = groups
    .map(mergeGroup)
    .sort((a, b) => a.members[0] - b.members[0])
    .map((s, i) => ({ ...s, n: i + 1 }));
  const numberOf = new Map();
  for (const s of sources) for (const m of s.members) numberOf.set(m, s.n);
  return { sources, numberOf };
}

// The answer's [n] markers renumbered to sources; a marker repeated by the merge ([1][1]) kept once.
export function renumber(answer, numberOf) {
  const text = String(answer || "").replace(MARKER_RE, (m, n) => (numberOf.has(Number(n)) ? "[" + numberOf.get(Number(n)) + "]" : m));
  return text.replace(/(\[\d+\])(\1)+/g, "$1");
}
