// The draft check: every claim with its verdict and source, and the checked draft exported as Markdown.
import { sourceButton } from "./answer.js";
import { $, download, el, errorNode, fillMarked } from "./dom.js";
import { api } from "./http.js";
import { openPassage } from "./passage.js";
import { LABELS, highlightRanges, joinLines, languageOf } from "./text.js";

const VERDICTS = {
  zh: { supported: "有依据", contradicted: "与报告矛盾", unsupported: "未找到依据", report: "报告原文", draft: "草稿",
    line: (n) => "第 " + n + " 行", none: "没有检索到相关段落。", support: "支持度", more: (n) => " · 另有 " + n + " 处相关段落",
    total: (n) => "共 " + n + " 条陈述：", empty: "草稿中没有找到可核查的陈述句。" },
  en: { supported: "supported", contradicted: "contradicted", unsupported: "unsupported", report: "The report says",
    draft: "Draft", line: (n) => "line " + n, none: "No related passage found.", support: "support",
    more: (n) => " · " + n + " more related passages", total: (n) => n + " claims:",
    empty: "The draft has no sentence that states something to check." },
};
const KINDS = ["supported", "contradicted", "unsupported"];
const EXPORT_NAME = "draft-checked.md";
const draft = $("#draft");
const check = $("#check");
const exportButton = $("#export-md");
const claims = $("#claims");
const status = $("#cite-status");
const state = { checking: false, markdown: null };

function excerptOf(c, answer, extra, width) {
  const text = joinLines(String(c.text || ""));
  const ranges = highlightRanges(text, answer, extra);
  const node = el("p", { class: "excerpt" });
  let from = 0;
  let to = text.length;
  if (text.length > width) {
    const center = ranges.length ? ranges[0][0] : 0;
    from = Math.max(0, center - Math.floor(width / 3));
    to = Math.min(text.length, from + width);
    if (ranges.length && ranges[0][1] > to) to = Math.min(text.length, ranges[0][1] + 20);
  }
  if (from > 0) node.append("…");
  fillMarked(node, text, ranges, from, to);
  if (to < text.length) node.append("…");
  return node;
}

function renderClaim(r, words, labels) {
  const verdict = KINDS.includes(r.verdict) ? r.verdict : "unsupported";
  const li = el("li", { class: "claim", "data-verdict": verdict, id: r.id ? "claim-" + String(r.id).replace(/[^\w-]/g, "") : null });
  li.append(el("div", { class: "claim-head" },
    el("span", { class: "verdict verdict-" + verdict, text: words[verdict] }),
    el("p", { class: "claim-text" }, r.claim),
    r.line != null ? el("span", { class: "claim-line", text: words.line(r.line) }) : null));
  if (r.report_value && (verdict === "contradicted" || verdict === "supported")) {
    li.append(el("p", { class: "values" },
      el("span", { class: "report-value" }, words.report + ": ", el("b", { text: r.report_value })),
      verdict === "contradicted" && r.claim_value ? el("span", { class: "claim-value" }, words.draft + ": ", el("s", { text: r.claim_value })) : null));
  }
  const cites = Array.isArray(r.citations) ? r.citations : [];
  if (!cites.length) {
    li.append(el("p", { class: "excerpt", text: words.none }));
    return li;
  }
  const top = cites[0];
  const extra = [r.report_value].filter(Boolean);
  const ctx = { sources: cites, answer: r.claim || "", extra, owner: li, labels };
  li.append(el("div", { class: "claim-cite" },
    sourceButton(top, labels, (c, t) => openPassage(c, ctx, t)),
    excerptOf(top, r.claim || "", extra, 150),
    typeof r.support === "number" ? el("span", { class: "support", text: words.support + " " + Math.round(r.support * 100) + "%" + (cites.length > 1 ? words.more(cites.length - 1) : "") }) : null));
  return li;
}

async function submitDraft() {
  const text = draft.value;
  if (!text.trim()) {
    status.replaceChildren(errorNode(new Error("请先粘贴要核查的草稿。"), "error-box"));
    draft.focus();
    return;
  }
  if (state.checking) return;
  state.checking = true;
  check.disabled = true;
  exportButton.disabled = true;
  state.markdown = null;
  status.textContent = "正在逐句核查…";
  claims.replaceChildren();
  const lang = languageOf(text);
  const words = VERDICTS[lang];
  try {
    const data = await api("POST", "/cite", { text, format: "markdown" });
    const results = Array.isArray(data.results) ? data.results : [];
    const count = Object.fromEntries(KINDS.map((k) => [k, 0]));
    for (const r of results) count[KINDS.includes(r.verdict) ? r.verdict : "unsupported"] += 1;
    status.replaceChildren(el("div", { class: "summary" },
      el("span", { text: words.total(results.length) }),
      ...KINDS.map((v) => el("span", { class: "verdict verdict-" + v, text: words[v] + " " + count[v] }))));
    if (!results.length) status.append(el("p", { text: words.empty }));
    claims.replaceChildren(...results.map((r) => renderClaim(r, words, LABELS[lang])));
    state.markdown = typeof data.markdown === "string" ? data.markdown : null;
    exportButton.disabled = !state.markdown;
  } catch (err) {
    status.replaceChildren(errorNode(err, "error-box"));
  } finally {
    state.checking = false;
    check.disabled = false;
  }
}

export function initDraft() {
  $("#cite-form").addEventListener("submit", (e) => { e.preventDefault(); submitDraft(); });
  draft.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); submitDraft(); }
  });
  draft.addEventListener("input", () => { exportButton.disabled = true; }); // an export must match the checked text
  exportButton.addEventListener("click", () => {
    if (state.markdown) download(EXPORT_NAME, state.markdown, "text/markdown;charset=utf-8");
  });
}
