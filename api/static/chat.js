// The ask view: streamed answers, conversations that survive a reload, and the list to go back to them.
import { pendingAnswer, renderAnswer } from "./answer.js";
import { $, el, errorNode } from "./dom.js";
import { api, streamAnswer } from "./http.js";
import {
  addTurn, currentConversation, loadConversations, messagesOf, removeConversation, saveConversations,
  startConversation,
} from "./history.js";
import { closePassage, passageOpen } from "./passage.js";
import { LABELS, languageOf, stripMarkers } from "./text.js";

const EXAMPLES = ["2026年全球AI支出预计是多少？", "全球半导体市场规模预计多大？", "量子计算的主要技术路线有哪些？"];
const messages = $("#messages");
const question = $("#question");
const send = $("#send");
const list = $("#conv-list");
const conversationsNav = $("#conversations");
const historyToggle = $("#history-toggle");
const state = { store: loadConversations(), busy: false, endpoint: "stream" };

function emptyState() {
  return el("div", { class: "empty", id: "empty" },
    el("h2", { text: "向研究报告提问" }),
    el("p", {}, "答案只来自已索引的报告，每句话都标注出处，点击 ", el("span", { class: "marker", "aria-hidden": "true" }, "1"), " 查看原文。"),
    el("div", { class: "examples", "aria-label": "示例问题" }, EXAMPLES.map((text) => el("button", {
      type: "button", class: "example", text, onclick: () => { question.value = text; autoGrow(); question.focus(); },
    }))));
}

const when = (ms) => new Date(ms).toLocaleString("zh-CN", { month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit" });

function renderList() {
  const current = state.store.current;
  const items = state.store.items.filter((c) => c.turns.length);
  list.replaceChildren(...items.map((c) => el("li", { class: "conv-item", "aria-current": c.id === current ? "true" : "false", "data-id": c.id },
    el("button", { type: "button", class: "conv-open", onclick: () => showConversation(c.id) },
      el("span", { class: "conv-name", text: c.title || "（无标题）" }),
      el("span", { class: "conv-when", text: when(c.updated) + " · " + c.turns.length + " 问" })),
    el("button", { type: "button", class: "conv-delete", "aria-label": "删除对话：" + (c.title || ""), text: "×",
      onclick: () => { removeConversation(state.store, c.id); if (!state.store.current) showConversation(null); else renderList(); } }))));
  if (!items.length) list.replaceChildren(el("li", { class: "conv-empty", text: "还没有对话。" }));
  const conversation = currentConversation(state.store);
  $("#conv-title").textContent = conversation && conversation.title ? conversation.title : "新对话";
}

function appendTurn(turn, conversationId) {
  messages.append(el("div", { class: "msg user", "aria-label": "问题", lang: languageOf(turn.question) === "en" ? "en" : "zh-CN" }, turn.question));
  const { node } = renderAnswer({ ...turn.data, question: turn.question }, { via: turn.via, conversation: conversationId });
  messages.append(node);
}

// Show a saved conversation (or a fresh one for null); the source panel belongs to the old one and closes.
export function showConversation(id) {
  closePassage();
  state.store.current = id;
  saveConversations(state.store);
  const conversation = currentConversation(state.store);
  messages.replaceChildren();
  if (!conversation || !conversation.turns.length) messages.append(emptyState());
  else for (const turn of conversation.turns) appendTurn(turn, conversation.id);
  renderList();
  conversationsNav.classList.remove("open");
  historyToggle.setAttribute("aria-expanded", "false");
  const last = messages.lastElementChild;
  if (last) last.scrollIntoView({ block: "end" });
}

// The answer, streamed where the server offers it; /chat, then /ask, for servers without streaming.
async function runQuestion(q, history, onText) {
  const msgs = history.concat([{ role: "user", content: q }]);
  const gone = (err) => err.status === 404 || err.status === 405;
  if (state.endpoint === "stream") {
    try { return { data: await streamAnswer(msgs, onText), via: "stream" }; } catch (err) {
      if (!gone(err)) throw err;
      state.endpoint = "chat";
    }
  }
  if (state.endpoint === "chat") {
    try { return { data: await api("POST", "/chat", { messages: msgs }), via: "chat" }; } catch (err) {
      if (!gone(err)) throw err;
      state.endpoint = "ask";
    }
  }
  return { data: await api("POST", "/ask", { question: q }), via: "ask" };
}

function reveal(node) {
  const tall = node.getBoundingClientRect().height > window.innerHeight - 260;
  node.scrollIntoView({ block: tall ? "start" : "nearest" });
}

async function submitQuestion() {
  const q = question.value.trim();
  if (!q || state.busy) return;
  state.busy = true;
  send.disabled = true;
  const empty = $("#empty");
  if (empty) empty.remove();
  const conversation = currentConversation(state.store) || startConversation(state.store);
  const history = messagesOf(conversation, LABELS.zh.noAnswer);
  messages.append(el("div", { class: "msg user", "aria-label": "问题", lang: languageOf(q) === "en" ? "en" : "zh-CN" }, q));
  const pending = pendingAnswer(q);
  messages.append(pending);
  question.value = "";
  autoGrow();
  reveal(pending);
  const followPanel = passageOpen();
  try {
    const { data, via } = await runQuestion(q, history, (text) => { pending.firstChild.textContent = stripMarkers(text).replace(/\[\d*$/, ""); });
    const saved = { ...data, question: q };
    const { node, openFirst } = renderAnswer(saved, { via, conversation: conversation.id });
    pending.replaceWith(node);
    addTurn(state.store, q, saved, via);
    renderList();
    if (followPanel) { if (openFirst) openFirst(); else closePassage(); } // the panel follows the latest answer
    reveal(node);
  } catch (err) {
    pending.replaceWith(errorNode(err, "msg error"));
    if (!question.value) question.value = q; // give the question back so it can be retried
    autoGrow();
  } finally {
    state.busy = false;
    send.disabled = false;
    question.focus();
  }
}

function autoGrow() {
  question.style.height = "auto";
  question.style.height = Math.min(question.scrollHeight, 220) + "px";
}

export function initChat() {
  question.addEventListener("input", autoGrow);
  question.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      submitQuestion();
    }
  });
  $("#ask-form").addEventListener("submit", (e) => { e.preventDefault(); submitQuestion(); });
  $("#new-chat").addEventListener("click", () => { showConversation(null); question.focus(); });
  historyToggle.addEventListener("click", () => {
    const open = conversationsNav.classList.toggle("open");
    historyToggle.setAttribute("aria-expanded", String(open));
  });
  showConversation(state.store.current);
}
