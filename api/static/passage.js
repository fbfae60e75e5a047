// The source panel: one passage with the answer's sentence marked, and the other sources of the same answer.
import { $, el, fillMarked } from "./dom.js";
import { LABELS, highlightRanges, linesLabel, pagesLabel } from "./text.js";

const layout = $("#layout");
const panel = $("#passage");
const state = { trigger: null, owner: null };

export function whereChips(c, labels) {
  const chips = [el("span", { class: "chip doc", title: labels.file }, c.doc)];
  if (c.section) chips.push(el("span", { class: "chip sec", title: labels.section }, c.section));
  const lines = linesLabel(c, labels);
  if (lines) chips.push(el("span", { class: "chip" }, lines));
  const pages = pagesLabel(c, labels);
  if (pages) chips.push(el("span", { class: "chip" }, pages));
  if (c.members && c.members.length > 1) chips.push(el("span", { class: "chip merged-note" }, labels.merged(c.members.length)));
  return chips;
}

function setExpanded(trigger) {
  document.querySelectorAll('[aria-expanded="true"][data-n]').forEach((b) => b.setAttribute("aria-expanded", "false"));
  if (trigger) trigger.setAttribute("aria-expanded", "true");
}

// ctx: {sources, answer, extra, owner, labels}; owner is the element whose buttons open these sources.
export function openPassage(c, ctx, trigger, focus = true) {
  const labels = ctx.labels || LABELS.zh;
  $("#passage-heading").textContent = labels.source + " [" + c.n + "] · " + labels.passage;
  $(".passage-title", panel).textContent = c.title || c.doc;
  $(".passage-where", panel).replaceChildren(...whereChips(c, labels));
  const text = String(c.text || "");
  const ranges = highlightRanges(text, ctx.answer || "", ctx.extra || []);
  const body = $(".passage-text", panel);
  body.replaceChildren();
  fillMarked(body, text, ranges);
  const note = $(".passage-note", panel);
  note.hidden = ranges.length > 0 || !ctx.answer;
  note.textContent = labels.notVerbatim;
  const nav = $(".passage-nav", panel);
  const all = ctx.sources || [];
  nav.replaceChildren();
  nav.hidden = all.length < 2;
  if (all.length > 1) {
    nav.append(el("span", { text: labels.allSources }));
    for (const other of all) {
      nav.append(el("button", {
        type: "button", "aria-current": other.n === c.n ? "true" : "false", title: other.title || other.doc,
        "aria-label": labels.source + " " + other.n,
        onclick: () => {
          const t = ctx.owner && ctx.owner.querySelector('.marker[data-n="' + other.n + '"], .cite-item[data-n="' + other.n + '"]');
          openPassage(other, ctx, t || null);
        },
      }, String(other.n)));
    }
  }
  panel.hidden = false;
  layout.classList.add("with-panel");
  setExpanded(trigger);
  state.owner = ctx.owner || null;
  if (trigger) state.trigger = trigger;
  panel.scrollTop = 0;
  if (focus) $("#passage-heading").focus({ preventScroll: true });
}

export function closePassage() {
  if (panel.hidden) return;
  panel.hidden = true;
  layout.classList.remove("with-panel");
  setExpanded(null);
  state.owner = null;
  if (state.trigger && document.body.contains(state.trigger)) state.trigger.focus();
}

export const passageOpen = () => !panel.hidden;
export const passageOwner = () => state.owner;

$("#passage-close").addEventListener("click", closePassage);
document.addEventListener("keydown", (e) => {
  if (e.key === "Escape" && !panel.hidden) { e.preventDefault(); closePassage(); }
});
