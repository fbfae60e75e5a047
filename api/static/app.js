// The page: tabs, the API key setting, the index status; each view lives in its own module.
import { initChat } from "./chat.js";
import { $ } from "./dom.js";
import { initDocuments, listDocuments } from "./documents.js";
import { initDraft } from "./draft.js";
import { keyFrom, storeKey, storedKey } from "./http.js";
import { closePassage } from "./passage.js";

const keyInput = $("#api-key");
const keyState = $("#api-key-state");
keyFrom(() => keyInput.value.trim());

function initKey() {
  keyInput.value = storedKey();
  keyState.textContent = storedKey() ? "已保存" : "";
  $("#api-key-save").addEventListener("click", () => {
    storeKey(keyInput.value.trim());
    keyState.textContent = keyInput.value.trim() ? "已保存" : "已清除";
  });
  $("#api-key-clear").addEventListener("click", () => {
    keyInput.value = "";
    storeKey("");
    keyState.textContent = "已清除";
  });
  keyInput.addEventListener("keydown", (e) => {
    if (e.key === "Enter") { e.preventDefault(); $("#api-key-save").click(); }
  });
}

async function health() {
  const box = $("#health");
  try {
    const data = await (await fetch("/healthz")).json();
    if (data.status === "ok" && data.index) {
      box.className = "health ok";
      box.textContent = "索引 · " + (data.index.documents ?? "?") + " 份报告 · " + (data.index.chunks ?? "?") + " 段";
      box.title = data.index.version || "";
    } else {
      box.className = "health bad";
      box.textContent = "索引不可用";
      box.title = data.problem || data.status || "";
    }
  } catch {
    box.className = "health bad";
    box.textContent = "服务器未连接";
  }
}

const TABS = [["#tab-ask", "#ask"], ["#tab-cite", "#check"], ["#tab-docs", "#docs"]];
const tabs = TABS.map(([id]) => $(id));

function selectTab(tab, focus) {
  for (const t of tabs) {
    const on = t === tab;
    t.setAttribute("aria-selected", on ? "true" : "false");
    t.tabIndex = on ? 0 : -1;
    $("#" + t.getAttribute("aria-controls")).hidden = !on;
  }
  closePassage();
  if (focus) tab.focus();
  const hash = TABS[tabs.indexOf(tab)][1];
  if (location.hash !== hash) history.replaceState(null, "", hash);
  if (tab.id === "tab-docs") listDocuments();
}

function initTabs() {
  tabs.forEach((t, i) => {
    t.addEventListener("click", () => selectTab(t, false));
    t.addEventListener("keydown", (e) => {
      if (e.key === "ArrowRight" || e.key === "ArrowLeft") {
        e.preventDefault();
        selectTab(tabs[(i + (e.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length], true);
      }
    });
  });
  const start = TABS.findIndex(([, hash]) => hash === location.hash);
  if (start > 0) selectTab(tabs[start], false);
}

initKey();
initChat();
initDraft();
initDocuments(health);
initTabs();
health();
if (!location.hash || location.hash === "#ask") $("#question").focus();
