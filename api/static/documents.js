// The documents tab: what is indexed, uploading a report, and removing one.
import { $, el, errorNode } from "./dom.js";
import { api, send } from "./http.js";

const table = $("#doc-table");
const body = $("#doc-table tbody");
const status = $("#doc-status");
const uploadStatus = $("#upload-status");
const fileInput = $("#upload-file");
const titleInput = $("#upload-title");
const uploadButton = $("#upload");
let onChange = () => {};

const day = (stamp) => (stamp ? String(stamp).replace("T", " ").slice(0, 16) : "—");

function row(d) {
  return el("tr", { "data-doc": d.doc },
    el("td", { class: "doc-title", text: d.title || d.doc }),
    el("td", { class: "doc-name hide-narrow", text: d.doc }),
    el("td", { class: "num", text: d.chunks ?? "—" }),
    el("td", { class: "num hide-narrow", text: d.pages ?? "—" }),
    el("td", { class: "num hide-narrow", text: day(d.added) }),
    el("td", {}, el("button", { type: "button", class: "btn ghost doc-delete", "aria-label": "删除 " + d.doc, text: "删除",
      onclick: () => removeDocument(d) })));
}

export async function listDocuments() {
  status.textContent = "正在读取文档列表…";
  try {
    const data = await api("GET", "/documents");
    const docs = Array.isArray(data.documents) ? data.documents : [];
    body.replaceChildren(...docs.map(row));
    table.hidden = docs.length === 0;
    status.textContent = docs.length ? "共 " + docs.length + " 份报告" : "还没有索引任何报告。";
  } catch (err) {
    table.hidden = true;
    status.replaceChildren(errorNode(err, "error-box"));
  }
}

function changeSummary(report) {
  const parts = [];
  if (report.added && report.added.length) parts.push("已添加：" + report.added.join("、"));
  if (report.updated && report.updated.length) parts.push("已替换：" + report.updated.join("、"));
  if (report.removed && report.removed.length) parts.push("已删除：" + report.removed.join("、"));
  for (const s of report.skipped || []) parts.push("未索引 " + s.path.split("/").pop() + "：" + s.reason);
  return parts.join("；") || "索引没有变化。";
}

const JOB_POLL_MS = 500;
const JOB_WAIT_MS = 15 * 60 * 1000;

// An upload or a delete is a job (202 + Location): follow it until it is done or has failed.
async function finished(job) {
  const started = Date.now();
  let current = job;
  while (current.status === "queued" || current.status === "running") {
    if (Date.now() - started > JOB_WAIT_MS) throw new Error("索引仍在后台进行，请稍后刷新文档列表。");
    await new Promise((resolve) => setTimeout(resolve, JOB_POLL_MS));
    current = await api("GET", "/jobs/" + encodeURIComponent(current.id));
  }
  if (current.status === "failed") throw new Error(current.error || "索引失败。");
  return current.result || {};
}

async function removeDocument(d) {
  if (!window.confirm("从索引中删除《" + (d.title || d.doc) + "》？")) return;
  try {
    uploadStatus.textContent = "正在删除《" + (d.title || d.doc) + "》…";
    const job = await api("DELETE", "/documents/" + encodeURIComponent(d.doc));
    uploadStatus.textContent = changeSummary(job.id ? await finished(job) : job);
  } catch (err) {
    uploadStatus.replaceChildren(errorNode(err, "error-box"));
  }
  await listDocuments();
  onChange();
}

async function upload() {
  const file = fileInput.files && fileInput.files[0];
  if (!file) {
    uploadStatus.replaceChildren(errorNode(new Error("请先选择要上传的文件。"), "error-box"));
    return;
  }
  const query = new URLSearchParams({ name: file.name });
  if (titleInput.value.trim()) query.set("title", titleInput.value.trim());
  uploadButton.disabled = true;
  uploadStatus.textContent = "正在上传并索引 " + file.name + "…";
  try {
    const res = await send("POST", "/documents?" + query, { body: file, type: "application/octet-stream" });
    const body = await res.json().catch(() => ({}));
    uploadStatus.textContent = "已提交，正在后台索引 " + file.name + "…";
    uploadStatus.textContent = changeSummary(res.status === 202 && body.id ? await finished(body) : body);
    fileInput.value = "";
    titleInput.value = "";
    $("#upload-name").textContent = "未选择文件";
  } catch (err) {
    uploadStatus.replaceChildren(errorNode(err, "error-box"));
  } finally {
    uploadButton.disabled = false;
  }
  await listDocuments();
  onChange();
}

export function initDocuments(changed) {
  onChange = changed;
  fileInput.addEventListener("change", () => {
    $("#upload-name").textContent = fileInput.files && fileInput.files[0] ? fileInput.files[0].name : "未选择文件";
  });
  $("#upload-form").addEventListener("submit", (e) => { e.preventDefault(); upload(); });
}
