// The search bar: the search language with completion of labels and of enum/bool values.
// A query is "Label:value,value+Label:value"; completion works on the clause under the caret.

import { h } from "./dom.js";

let labelsPromise = null;

function searchLabels() {
  if (!labelsPromise) {
    labelsPromise = fetch("/console/search-labels.json", { credentials: "omit" })
      .then((response) => (response.ok ? response.json() : { labels: [] }))
      .then((data) => data.labels || [])
      .catch(() => []);
  }
  return labelsPromise;
}

// What the caret is in: a label being typed, or a value of a known label.
function clauseAt(text, caret) {
  const start = text.lastIndexOf("+", caret - 1) + 1;
  const clause = text.slice(start, caret);
  const colon = clause.indexOf(":");
  if (colon < 0) return { kind: "label", start, prefix: clause.trimStart() };
  const label = clause.slice(0, colon).trim();
  const values = clause.slice(colon + 1);
  const comma = values.lastIndexOf(",");
  const typed = values.slice(comma + 1);
  const negated = typed.startsWith("!") ? 1 : 0; // a completion keeps the "!"
  const valueStart = start + colon + 1 + (comma + 1) + negated;
  return { kind: "value", label, start: valueStart, prefix: typed.slice(negated) };
}

function suggestions(labels, clause) {
  const prefix = clause.prefix.toLowerCase();
  if (clause.kind === "label") {
    const matching = labels.filter((l) => l.label.toLowerCase().includes(prefix));
    matching.sort((a, b) => a.label.toLowerCase().startsWith(prefix) === b.label.toLowerCase().startsWith(prefix)
      ? 0 : a.label.toLowerCase().startsWith(prefix) ? -1 : 1);
    return matching.map((l) => ({ text: `${l.label}:`, shown: l.label, kind: l.kind }));
  }
  const label = labels.find((l) => l.label.toLowerCase() === clause.label.toLowerCase());
  if (!label || !label.values.length) return [];
  return label.values
    .filter((v) => v.toLowerCase().includes(prefix))
    .map((v) => ({ text: v, shown: v, kind: label.kind }));
}

// A labelled search input with a listbox of completions (ARIA combobox pattern).
export function searchBar({ value = "", onSubmit, id = "search" }) {
  const listId = `${id}-completions`;
  const input = h("input", {
    id, type: "search", name: "q", value, autocomplete: "off", spellcheck: false,
    role: "combobox", "aria-autocomplete": "list", "aria-expanded": "false", "aria-controls": listId,
    "aria-describedby": `${id}-help`, placeholder: "Severity:CRITICAL_VULNERABILITY_SEVERITY+Fixable:true",
  });
  const list = h("ul", { id: listId, class: "completions", role: "listbox", "aria-label": "Completions", hidden: true });
  let items = [];
  let active = -1;
  let clause = null;

  function close() {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    items = [];
    active = -1;
  }

  function show(found) {
    items = found.slice(0, 50);
    active = -1;
    list.replaceChildren(
      ...items.map((item, index) =>
        h(
          "li",
          {
            id: `${listId}-${index}`, role: "option", "aria-selected": "false",
            onmousedown: (event) => { event.preventDefault(); accept(index); },
          },
          h("span", {}, item.shown),
          h("span", { class: "kind" }, item.kind),
        ),
      ),
    );
    const open = items.length > 0;
    list.hidden = !open;
    input.setAttribute("aria-expanded", String(open));
  }

  function highlight(index) {
    active = index;
    [...list.children].forEach((li, i) => li.setAttribute("aria-selected", String(i === index)));
    if (index >= 0) {
      input.setAttribute("aria-activedescendant", `${listId}-${index}`);
      list.children[index].scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function accept(index) {
    const item = items[index];
    if (!item || !clause) return;
    const caret = input.selectionStart ?? input.value.length;
    const before = input.value.slice(0, clause.start);
    const after = input.value.slice(caret);
    input.value = `${before}${item.text}${after}`;
    const at = (before + item.text).length;
    input.setSelectionRange(at, at);
    close();
    if (clause.kind === "label") update();
    input.focus();
  }

  async function update() {
    const caret = input.selectionStart ?? input.value.length;
    clause = clauseAt(input.value, caret);
    const labels = await searchLabels();
    if (document.activeElement !== input) return;
    show(suggestions(labels, clause));
  }

  input.addEventListener("input", update);
  input.addEventListener("blur", () => setTimeout(close, 100));
  input.addEventListener("keydown", (event) => {
    const open = !list.hidden;
    if ((event.key === "ArrowDown" && !open) || (event.key === " " && event.ctrlKey)) {
      event.preventDefault();
      update();
    } else if (event.key === "ArrowDown" && open) {
      event.preventDefault();
      highlight((active + 1) % items.length);
    } else if (event.key === "ArrowUp" && open) {
      event.preventDefault();
      highlight(active <= 0 ? items.length - 1 : active - 1);
    } else if ((event.key === "Enter" || event.key === "Tab") && open && active >= 0) {
      event.preventDefault();
      accept(active);
    } else if (event.key === "Escape" && open) {
      event.preventDefault();
      close();
    } else if (event.key === "Enter") {
      close();
    }
  });

  const form = h(
    "form",
    { class: "search", role: "search" },
    h(
      "div",
      { class: "field" },
      h("label", { for: id }, "Search"),
      input,
      list,
    ),
    h("button", { type: "submit" }, "Search"),
    h(
      "p",
      { id: `${id}-help`, class: "help" },
      "The search language: Label:value, clauses joined by +, values by a comma. ",
      "Completions appear as you type (Down arrow or Ctrl+Space to open them); Enter searches.",
    ),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    close();
    onSubmit(input.value.trim());
  });
  return { form, input };
}
