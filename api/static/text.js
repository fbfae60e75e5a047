// Text helpers: which sentences of a passage to highlight, and the label set for a question's language.
export const MARKER_RE = /\[(\d+)\]/g;
export const stripMarkers = (s) => String(s || "").replace(MARKER_RE, "");

export function pieces(text, splitter, minLen) {
  return stripMarkers(text).split(splitter).map((x) => x.trim()).filter((x) => x.length >= minLen);
}

// Whitespace-free copy of text plus, for each kept character, its index in the original.
function squeeze(text) {
  let out = "";
  const map = [];
  for (let i = 0; i < text.length; i++) {
    if (/\s/.test(text[i])) continue;
    out += text[i];
    map.push(i);
  }
  return { out, map };
}

// Sorted, overlapping ranges joined: [[0,3],[2,5],[7,8]] → [[0,5],[7,8]].
export function mergeRanges(ranges) {
  const merged = [];
  for (const r of [...ranges].sort((a, b) => a[0] - b[0])) {
    const last = merged[merged.length - 1];
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]); else merged.push([r[0], r[1]]);
  }
  return merged;
}

export function findRanges(text, needles) {
  const { out, map } = squeeze(text);
  const ranges = [];
  for (const needle of needles) {
    const n = needle.replace(/\s+/g, "");
    if (!n) continue;
    let from = 0;
    let at;
    while ((at = out.indexOf(n, from)) !== -1) {
      ranges.push([map[at], map[at + n.length - 1] + 1]);
      from = at + n.length;
    }
  }
  return mergeRanges(ranges);
}

// Ranges of the passage to highlight: whole answer sentences first, then long clauses, then given values.
export function highlightRanges(passage, answer, extra) {
  let ranges = findRanges(passage, pieces(answer, /[。！？；!?;\n]+/, 2));
  if (!ranges.length) ranges = findRanges(passage, pieces(answer, /[。！？；，、：!?;,:\n（）()]+/, 6));
  if (extra && extra.length) ranges = findRanges(passage, extra).concat(ranges);
  return mergeRanges(ranges);
}

// Passage lines joined for a one-paragraph excerpt: no space between Chinese characters across a line break.
export function joinLines(text) {
  return text.replace(/\s*\n\s*/g, (m, at) => {
    const before = text[at - 1] || "";
    const after = text[at + m.length] || "";
    return /[\u3000-\u9fff\uff00-\uffef]/.test(before + after) ? "" : " ";
  });
}

// English when the text has Latin letters and no Chinese: the answer card then speaks English.
export function languageOf(text) {
  const s = String(text || "");
  return /[\u3400-\u9fff]/.test(s) || !/[A-Za-z]/.test(s) ? "zh" : "en";
}

const range = (a, b) => (b != null && b !== a ? a + "–" + b : String(a));

export const LABELS = {
  zh: {
    answer: "回答", sources: "来源", nearest: "最接近的段落（仅供参考）", confidence: "置信度",
    lowConfidence: "置信度低：更可能有误，请核对来源",
    resolved: "检索问题：", resolvedTitle: "追问被改写为独立问题后再检索", single: "单轮模式（对话接口不可用）",
    noAnswer: "报告中没有找到可靠答案",
    noAnswerSub: "检索到的段落不足以可靠回答这个问题。可以换个说法，或问得更具体一些。",
    degraded: "部分索引分片暂不可用，以下回答未检索这些分片中的文档：",
    copy: "复制", copied: "已复制", copyFailed: "复制失败", up: "有帮助", down: "没帮助", thanks: "已记录反馈",
    feedbackFailed: "反馈未保存：", source: "来源", passage: "原文段落", allSources: "本条回答的全部来源：",
    notVerbatim: "答案句未在本段中逐字出现（可能经过改写）。", openSource: "查看来源",
    lines: (a, b) => "第 " + range(a, b) + " 行", pages: (a, b) => "第 " + range(a, b) + " 页",
    merged: (n) => "已合并 " + n + " 段重叠的原文", copyHead: "来源：", file: "文件", section: "章节",
  },
  en: {
    answer: "Answer", sources: "Sources", nearest: "Closest passages (for reference only)", confidence: "Confidence",
    lowConfidence: "Low confidence: more likely wrong than right; check the sources",
    resolved: "Searched as: ", resolvedTitle: "The follow-up was rewritten to stand alone before searching",
    single: "Single-question mode (the chat endpoint is unavailable)",
    noAnswer: "The reports contain no reliable answer",
    noAnswerSub: "The passages found are not enough to answer this reliably. Try rephrasing or being more specific.",
    degraded: "Some index shards are unavailable; this answer did not search their documents: ",
    copy: "Copy", copied: "Copied", copyFailed: "Copy failed", up: "Helpful", down: "Not helpful",
    thanks: "Feedback recorded", feedbackFailed: "Feedback not saved: ", source: "Source", passage: "passage",
    allSources: "All sources of this answer:", openSource: "Open source",
    notVerbatim: "The answer sentence does not appear word for word in this passage (it may be paraphrased).",
    lines: (a, b) => (b != null && b !== a ? "lines " : "line ") + range(a, b),
    pages: (a, b) => (b != null && b !== a ? "pages " : "page ") + range(a, b),
    merged: (n) => n + " overlapping passages merged", copyHead: "Sources:", file: "file", section: "section",
  },
};

export function linesLabel(c, labels) {
  return c.line_start == null ? "" : labels.lines(c.line_start, c.line_end);
}

export function pagesLabel(c, labels) {
  return c.page == null ? "" : labels.pages(c.page, c.page_end);
}
