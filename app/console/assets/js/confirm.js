// A confirm step before an action that cannot be undone: a modal <dialog> (focus kept inside,
// Escape cancels), Cancel focused first so that Enter alone never confirms.

import { h } from "./dom.js";

let counter = 0;

// Resolves to true when the person confirmed, false on Cancel or Escape.
export function confirmDialog({ title, text, confirm = "Confirm", danger = true }) {
  counter += 1;
  const titleId = `confirm-title-${counter}`;
  const textId = `confirm-text-${counter}`;
  const cancelButton = h("button", { type: "submit", value: "cancel", class: "secondary" }, "Cancel");
  const dialog = h(
    "dialog",
    { class: "confirm", "aria-labelledby": titleId, "aria-describedby": textId },
    h("h2", { id: titleId }, title),
    h("p", { id: textId }, text),
    h(
      "form",
      { method: "dialog", class: "actions" },
      cancelButton,
      h("button", { type: "submit", value: "confirm", class: danger ? "danger" : undefined }, confirm),
    ),
  );
  const before = document.activeElement;
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      const confirmed = dialog.returnValue === "confirm";
      dialog.remove();
      if (before && before.isConnected) before.focus();
      resolve(confirmed);
    });
    document.body.append(dialog);
    dialog.showModal();
    cancelButton.focus();
  });
}
