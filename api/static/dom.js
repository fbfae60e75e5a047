// Tiny DOM helpers shared by the page's modules.
export const $ = (sel, root = document) => root.querySelector(sel);

export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

// Text with [a, b) ranges wrapped in <mark>, between `from` and `to`.
export function fillMarked(node, text, ranges, from = 0, to = text.length) {
  let pos = from;
  for (const [a, b] of ranges) {
    const s = Math.max(a, from);
    const e = Math.min(b, to);
    if (e <= s) continue;
    if (s > pos) node.append(text.slice(pos, s));
    node.append(el("mark", { text: text.slice(s, e) }));
    pos = e;
  }
  if (pos < to) node.append(text.slice(pos, to));
  return node;
}

// A file offered for download under `name`.
export function download(name, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = el("a", { href: url, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// An error as the page shows it: the server's message, and what to do about a missing API key.
export function errorNode(err, cls) {
  const status = err && err.status ? " (HTTP " + err.status + ")" : "";
  const node = el("div", { class: cls, role: "alert" }, el("strong", { text: "出错了" + status }), String((err && err.message) || err));
  if (err && err.status === 401) node.append(el("div", { class: "support", text: "服务器要求 API 密钥：请点右上角「设置」填写后重试。" }));
  return node;
}
