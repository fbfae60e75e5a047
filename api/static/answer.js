// One answer card: text with source markers, sources, confidence, and copy / feedback actions.
import { el } from "./dom.js";
import { api } from "./http.js";
import { openPassage } from "./passage.js";
import { mergeSources, renumber } from "./sources.js";
import { LABELS, MARKER_RE, findRanges, languageOf, linesLabel, pagesLabel, pieces } from "./text.js";

// The source an unmarked answer (the /ask fallback) came from: the one holding its first sentence.
function guessSource(answer, sources) {
  const first = pieces(answer, /[。！？；!?;\n]+/, 2)[0];
  if (first) for (const c of sources) if (findRanges(String(c.text || ""), [first]).length) return c.n;
  return sources.length ? sources[0].n : null;
}

export function sourceButton(c, labels, onOpen) {
  const where = [linesLabel(c, labels), pagesLabel(c, labels)].filter(Boolean).join(" · ");
  return el("button", {
    type: "button", class: "cite-item", "data-n": c.n, "aria-controls": "passage", "aria-expanded": "false",
    "aria-label": labels.openSource + " " + c.n + "：" + (c.title || c.doc) + "，" + (c.section || "") + "，" + where,
    onclick: (e) => onOpen(c, e.currentTarget),
  },
  el("span", { class: "cite-n", "aria-hidden": "true" }, String(c.n)),
  el("span", { class: "cite-body" },
    el("span", { class: "cite-title" }, c.title || c.doc),
    c.section ? el("span", { class: "cite-sec" }, " · " + c.section) : null,
    el("span", { class: "cite-sec" }, " · " + c.doc + (where ? " · " + where : ""))));
}

// The answer and its sources as plain text, for the clipboard.
export function copyText(answer, sources, labels) {
  const lines = [answer.trim(), "", labels.copyHead];
  for (const c of sources) {
    const where = [c.doc, linesLabel(c, labels), pagesLabel(c, labels)].filter(Boolean).join(" · ");
    lines.push("[" + c.n + "] " + (c.title || c.doc) + (c.section ? " · " + c.section : "") + " · " + where);
  }
  return lines.join("\n");
}

async function toClipboard(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = el("textarea", { class: "sr-only", "aria-hidden": "true" });
    area.value = text;
    document.body.append(area);
    area.select();
    const done = document.execCommand("copy");
    area.remove();
    return done;
  }
}

// Thumb icons (Feather, MIT) drawn inline: emoji fonts are missing on many servers' and readers' systems.
const THUMBS = {
  up: "M14 9V5a3 3 0 0 0-3-3l-4 9v11h11.28a2 2 0 0 0 2-1.7l1.38-9a2 2 0 0 0-2-2.3zM7 22H4a2 2 0 0 1-2-2v-7a2 2 0 0 1 2-2h3",
  down: "M10 15v4a3 3 0 0 0 3 3l4-9V2H5.72a2 2 0 0 0-2 1.7l-1.38 9a2 2 0 0 0 2 2.3zm7-13h2.67A2.31 2.31 0 0 1 22 4v7a2.31 2.31 0 0 1-2.33 2H17",
};
function thumb(rating) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  for (const [k, v] of Object.entries({ viewBox: "0 0 24 24", width: "15", height: "15", fill: "none",
    stroke: "currentColor", "stroke-width": "2", "stroke-linecap": "round", "stroke-linejoin": "round", "aria-hidden": "true" })) {
    svg.setAttribute(k, v);
  }
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", THUMBS[rating]);
  svg.append(path);
  return svg;
}

function actions(view, labels, feedbackOf) {
  const status = el("span", { class: "act-state", role: "status" });
  const copy = el("button", { type: "button", class: "act act-copy", text: labels.copy });
  copy.addEventListener("click", async () => {
    status.textContent = (await toClipboard(copyText(view.answer, view.sources, labels))) ? labels.copied : labels.copyFailed;
  });
  const rate = (rating) => el("button", {
    type: "button", class: "act act-" + rating, "aria-pressed": "false", title: labels[rating],
    "aria-label": labels[rating],
  }, thumb(rating));
  const up = rate("up");
  const down = rate("down");
  const send = async (button, rating) => {
    try {
      await api("POST", "/feedback", feedbackOf(rating));
      up.setAttribute("aria-pressed", String(button === up));
      down.setAttribute("aria-pressed", String(button === down));
      status.textContent = labels.thanks;
    } catch (err) {
      status.textContent = labels.feedbackFailed + (err.message || err);
    }
  };
  up.addEventListener("click", () => send(up, "up"));
  down.addEventListener("click", () => send(down, "down"));
  return el("div", { class: "answer-actions" }, copy, up, down, status);
}

function answerParagraph(answer, byN, open) {
  const p = el("p", { class: "answer-text" });
  let pos = 0;
  let m;
  const re = new RegExp(MARKER_RE.source, "g");
  while ((m = re.exec(answer)) !== null) {
    if (m.index > pos) p.append(answer.slice(pos, m.index));
    const c = byN.get(Number(m[1]));
    p.append(c ? el("button", {
      type: "button", class: "marker", "data-n": c.n, "aria-controls": "passage", "aria-expanded": "false",
      title: (c.title || c.doc) + " · " + c.doc, "aria-label": c.n,
      onclick: (e) => open(c, e.currentTarget),
    }, String(c.n)) : m[0]);
    pos = m.index + m[0].length;
  }
  if (pos < answer.length) p.append(answer.slice(pos));
  return p;
}

// data: the answer contract (question, answer with [n], citations, abstained, confidence, resolved_question,
// degraded: shards that could not be searched).
// Returns {node, open}: open(n) shows source n of this answer in the panel.
export function renderAnswer(data, { via, conversation }) {
  const labels = LABELS[languageOf(data.question)];
  const { sources, numberOf } = mergeSources(Array.isArray(data.citations) ? data.citations : []);
  const byN = new Map(sources.map((c) => [c.n, c]));
  let answer = renumber(String(data.answer || ""), numberOf);
  if (!data.abstained && !/\[\d+\]/.test(answer) && sources.length) {
    const src = data.source != null && numberOf.has(Number(data.source)) ? numberOf.get(Number(data.source)) : guessSource(answer, sources);
    if (src != null) answer = answer.replace(/\s+$/, "") + "[" + src + "]";
  }
  const art = el("article", { class: "msg answer", "aria-label": labels.answer, lang: labels === LABELS.en ? "en" : "zh-CN",
    "data-abstained": data.abstained ? "true" : "false" });
  const ctx = { sources, answer, owner: art, labels };
  const open = (c, trigger, focus) => openPassage(c, ctx, trigger, focus);
  if (Array.isArray(data.degraded) && data.degraded.length) {
    art.append(el("p", { class: "degraded", role: "status", text: labels.degraded + data.degraded.join(", ") }));
  }
  if (data.abstained) {
    art.append(el("p", { class: "abstain" }, labels.noAnswer), el("p", { class: "sub", text: labels.noAnswerSub }));
  } else {
    art.append(answerParagraph(answer, byN, open));
  }
  const meta = el("div", { class: "meta" });
  if (typeof data.confidence === "number") {
    meta.append(el("span", { class: "conf" }, labels.confidence + " ", el("b", { text: Math.round(data.confidence * 100) + "%" })));
  }
  if (data.low_confidence && !data.abstained) meta.append(el("span", { class: "low-conf", text: labels.lowConfidence }));
  if (data.resolved_question && data.resolved_question !== data.question) {
    meta.append(el("span", { title: labels.resolvedTitle }, labels.resolved + data.resolved_question));
  }
  if (via === "ask") meta.append(el("span", { text: labels.single }));
  if (meta.childNodes.length) art.append(meta);
  if (sources.length) {
    art.append(el("p", { class: "cites-label", text: data.abstained ? labels.nearest : labels.sources }),
      el("ol", { class: "cites" }, sources.map((c) => el("li", {}, sourceButton(c, labels, open)))));
  }
  const feedbackOf = (rating) => ({
    rating, question: data.question, answer, abstained: Boolean(data.abstained), conversation: conversation || "",
    citations: sources.flatMap((s) => (data.citations || []).filter((c) => s.members.includes(Number(c.n)))
      .map((c) => ({ n: Number(c.n), doc: c.doc, start: c.start, end: c.end }))),
  });
  art.append(actions({ answer, sources }, labels, feedbackOf));
  const first = sources[0];
  return { node: art, openFirst: first && !data.abstained ? () => open(first, null, false) : null };
}

export function pendingAnswer(question) {
  const labels = LABELS[languageOf(question)];
  return el("article", { class: "msg answer streaming", "aria-label": labels.answer, "aria-busy": "true" },
    el("p", { class: "answer-text" }));
}
