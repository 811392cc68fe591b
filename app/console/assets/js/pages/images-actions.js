// The images page's actions on a query: export as NDJSON (downloaded by the browser) and
// delete (after a dry-run count).

import { api, plainError, request } from "../api.js";
import { confirmDialog } from "../confirm.js";
import { clear, errorBox, formatNumber, h, loading } from "../dom.js";

// Above this many images an export is confirmed first: the browser holds the whole file in
// memory before saving it, where the command line streams it to disk.
const LARGE_EXPORT = 10_000;

export function exportButton(query, status) {
  const button = h("button", { type: "button", class: "secondary" }, "Export NDJSON");
  let controller = null;
  button.addEventListener("click", async () => {
    if (controller) {
      controller.abort();
      return;
    }
    controller = new AbortController();
    button.textContent = "Cancel export";
    const progress = h("p", { role: "status" }, "Exporting…");
    clear(status).append(progress);
    try {
      if (!(await exportConfirmed(query, controller.signal))) {
        clear(status);
        return;
      }
      const response = await request("/v1/export/images", { query: { query }, signal: controller.signal });
      const reader = response.body.getReader();
      const chunks = [];
      let lines = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
        for (const byte of value) if (byte === 10) lines += 1;
        progress.textContent = `Exporting… ${formatNumber(lines)} lines`;
      }
      const blob = new Blob(chunks, { type: "application/x-ndjson" });
      const link = h("a", { href: URL.createObjectURL(blob), download: `images-${new Date().toISOString().slice(0, 19).replace(/:/g, "")}.ndjson` });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
      progress.textContent = `Exported ${formatNumber(lines)} lines.`;
    } catch (error) {
      clear(status);
      if (error.name !== "AbortError") status.append(errorBox(plainError(error)));
      else status.append(h("p", { role: "status" }, "Export cancelled."));
    } finally {
      controller = null;
      button.textContent = "Export NDJSON";
    }
  });
  return button;
}

async function exportConfirmed(query, signal) {
  const { count } = await api("/v1/imagescount", { query: { query }, signal });
  if (count <= LARGE_EXPORT) return true;
  const url = new URL("/v1/export/images", window.location.origin);
  if (query) url.searchParams.set("query", query);
  return confirmDialog({
    title: "A large export",
    text: `${formatNumber(count)} images: the browser keeps the whole file in memory until it is saved. ` +
      `The command line writes it straight to disk: curl -sN -H "Authorization: Bearer $TOKEN" '${url}' > images.ndjson`,
    confirm: `Export ${formatNumber(count)} images here`,
    danger: false,
  });
}

// `deleted(message)` is called once images were deleted.
export function deleteButton(query, deleted) {
  const button = h("button", { type: "button", class: "danger", disabled: !query }, "Delete matching…");
  if (!query) button.title = "Search first: deleting needs a query (Image:* selects every image).";
  button.addEventListener("click", () => confirmDelete(query, deleted, button));
  return button;
}

async function confirmDelete(query, deleted, opener) {
  const body = h("div", {}, loading("Counting what the query selects…"));
  const dialog = h("dialog", { "aria-labelledby": "delete-title" }, h("h2", { id: "delete-title" }, "Delete images"), body);
  document.body.append(dialog);
  dialog.addEventListener("close", () => { dialog.remove(); opener.focus(); });
  dialog.showModal();
  const cancel = h("button", { type: "button", class: "secondary", onclick: () => dialog.close() }, "Cancel");
  try {
    const dry = await api("/v1/images", { method: "DELETE", query: { "query.query": query } });
    const n = Number(dry.numDeleted);
    if (!n) {
      clear(body).append(h("p", {}, "No image matches this query; nothing to delete."), h("div", { class: "actions" }, cancel));
      cancel.focus();
      return;
    }
    const confirm = h("button", { type: "button", class: "danger" }, `Delete ${formatNumber(n)} ${n === 1 ? "image" : "images"}`);
    clear(body).append(
      h("p", {}, `${formatNumber(n)} ${n === 1 ? "image matches" : "images match"} `, h("code", {}, query), "."),
      h("p", {}, "Deleting cannot be undone."),
      h("div", { class: "actions" }, confirm, cancel),
    );
    cancel.focus();
    confirm.addEventListener("click", async () => {
      confirm.disabled = true;
      confirm.textContent = "Deleting…";
      try {
        const done = await api("/v1/images", { method: "DELETE", query: { "query.query": query, confirm: "true" } });
        dialog.close();
        deleted(`Deleted ${formatNumber(Number(done.numDeleted))} images.`);
      } catch (error) {
        clear(body).append(errorBox(plainError(error)), h("div", { class: "actions" }, cancel));
        cancel.focus();
      }
    });
  } catch (error) {
    clear(body).append(errorBox(plainError(error)), h("div", { class: "actions" }, cancel));
    cancel.focus();
  }
}
