// Conversations kept in this browser (localStorage): the current one survives a reload, older ones are listed.
const STORE = "reportqa.conversations";
const MAX_CONVERSATIONS = 40;
const TITLE_CHARS = 40;

const newId = () => Date.now().toString(36) + Math.random().toString(36).slice(2, 8);

export function loadConversations() {
  try {
    const saved = JSON.parse(localStorage.getItem(STORE) || "null");
    if (saved && Array.isArray(saved.items)) return saved;
  } catch { /* unreadable: start afresh */ }
  return { current: null, items: [] };
}

// Saved whole; when the browser's quota is reached the oldest conversations go first.
export function saveConversations(store) {
  store.items = store.items.slice(0, MAX_CONVERSATIONS);
  for (;;) {
    try {
      localStorage.setItem(STORE, JSON.stringify(store));
      return;
    } catch {
      if (store.items.length <= 1) return;
      store.items.pop();
    }
  }
}

export function currentConversation(store) {
  return store.items.find((c) => c.id === store.current) || null;
}

export function startConversation(store) {
  const conversation = { id: newId(), title: "", updated: Date.now(), turns: [] };
  store.items.unshift(conversation);
  store.current = conversation.id;
  return conversation;
}

export function addTurn(store, question, data, via) {
  const conversation = currentConversation(store) || startConversation(store);
  conversation.turns.push({ question, data, via });
  conversation.title = conversation.title || question.slice(0, TITLE_CHARS);
  conversation.updated = Date.now();
  store.items = [conversation, ...store.items.filter((c) => c !== conversation)];
  saveConversations(store);
  return conversation;
}

export function removeConversation(store, id) {
  store.items = store.items.filter((c) => c.id !== id);
  if (store.current === id) store.current = null;
  saveConversations(store);
}

// The conversation as the chat endpoints take it: questions and the answers given.
export function messagesOf(conversation, noAnswer) {
  const messages = [];
  for (const turn of conversation ? conversation.turns : []) {
    const d = turn.data || {};
    messages.push({ role: "user", content: turn.question },
      { role: "assistant", content: d.abstained || !d.answer ? noAnswer + "。" : String(d.answer) });
  }
  return messages;
}
