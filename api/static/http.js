// Requests to the API: the stored key as a Bearer token, JSON errors as ApiError, and the streamed chat answer.
const KEY_STORE = "reportqa.apiKey";

export class ApiError extends Error {
  constructor(message, status) { super(message); this.status = status; }
}

export function storedKey() {
  try { return localStorage.getItem(KEY_STORE) || ""; } catch { return ""; }
}

export function storeKey(value) {
  try {
    if (value) localStorage.setItem(KEY_STORE, value); else localStorage.removeItem(KEY_STORE);
  } catch { /* private mode: the key stays in the input for this page only */ }
}

let typedKey = () => "";
export function keyFrom(read) { typedKey = read; }

async function errorOf(res) {
  const raw = await res.text();
  let data = null;
  try { data = raw ? JSON.parse(raw) : null; } catch { data = null; }
  let msg = data && typeof data.error === "string" ? data.error : "";
  if (!msg && data && typeof data.detail === "string") msg = data.detail;
  return new ApiError(msg || (raw || res.statusText || "request failed").slice(0, 400), res.status);
}

// fetch with the key; a non-2xx answer becomes an ApiError carrying the server's message.
export async function send(method, path, { json, body, accept = "application/json", type } = {}) {
  const headers = { Accept: accept };
  const key = typedKey() || storedKey();
  if (key) headers.Authorization = "Bearer " + key;
  if (json !== undefined) headers["Content-Type"] = "application/json";
  else if (type) headers["Content-Type"] = type;
  let res;
  try {
    res = await fetch(path, { method, headers, body: json !== undefined ? JSON.stringify(json) : body });
  } catch (err) {
    throw new ApiError("无法连接服务器（" + (err && err.message ? err.message : "network error") + "）", 0);
  }
  if (!res.ok) throw await errorOf(res);
  return res;
}

export async function api(method, path, json) {
  const res = await send(method, path, { json });
  const raw = await res.text();
  try {
    const data = raw ? JSON.parse(raw) : null;
    if (data && typeof data === "object") return data;
  } catch { /* reported below */ }
  throw new ApiError("服务器返回了无法解析的响应", res.status);
}

// Server-sent events of /v1/chat/completions: onText(textSoFar) per piece; resolves to the answer data.
export async function streamAnswer(messages, onText) {
  const res = await send("POST", "/v1/chat/completions", {
    json: { model: "reportqa", stream: true, messages }, accept: "text/event-stream",
  });
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let text = "";
  let last = null;
  const take = (block) => {
    for (const line of block.split("\n")) {
      if (!line.startsWith("data:")) continue;
      const payload = line.slice(5).trim();
      if (!payload || payload === "[DONE]") continue;
      const chunk = JSON.parse(payload);
      const choice = (chunk.choices || [])[0] || {};
      if (choice.delta && choice.delta.content) { text += choice.delta.content; onText(text); }
      if (choice.finish_reason) last = chunk;
    }
  };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) !== -1) { take(buffer.slice(0, cut)); buffer = buffer.slice(cut + 2); }
  }
  take(buffer);
  if (!last) throw new ApiError("回答流意外中断", res.status);
  const citations = Array.isArray(last.citations) ? last.citations : [];
  return {
    answer: text, citations, resolved_question: last.resolved_question ?? null,
    abstained: typeof last.abstained === "boolean" ? last.abstained : citations.length === 0,
    confidence: typeof last.confidence === "number" ? last.confidence : undefined,
    low_confidence: last.low_confidence === true,
    degraded: Array.isArray(last.degraded) ? last.degraded : [],
  };
}
