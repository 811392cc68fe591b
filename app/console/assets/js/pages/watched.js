// Watched images: names the service keeps scanned; add one (it is scanned at once) or remove one.

import { api, plainError } from "../api.js";
import { confirmDialog } from "../confirm.js";
import { clear, errorBox, h, loading, pageHeading, timeElement } from "../dom.js";

const WATCH_ERRORS = {
  INVALID_IMAGE_NAME: "That name cannot be watched: it must be a valid image name with a tag and no digest.",
  NO_VALID_INTEGRATION: "No registry integration can pull this image, so it is not watched.",
  SCAN_FAILED: "The image could not be scanned, so it is not watched.",
};

export async function render(main, _route, ctx) {
  const writable = ctx.can("WatchedImage", "write");
  const list = h("section", { class: "watched-list", "aria-labelledby": "watched-list-heading" });
  const heading = h("h2", { id: "watched-list-heading", tabindex: "-1" }, "Watched names");

  async function load() {
    clear(list).append(heading, loading("Loading the watched images…"));
    try {
      const data = await api("/v1/watchedimages", { signal: ctx.signal });
      if (ctx.signal.aborted) return;
      const entries = [...(data.watchedImages || [])].sort((a, b) => a.name.localeCompare(b.name));
      clear(list).append(heading, entries.length ? table(entries) : emptyState());
    } catch (error) {
      if (ctx.signal.aborted || error.name === "AbortError") return;
      clear(list).append(heading, errorBox(`The watched images could not be loaded. ${plainError(error)}`, load));
    }
  }

  function table(entries) {
    return h(
      "div",
      { class: "table-wrap", tabindex: "0", role: "region", "aria-label": "Watched images table" },
      h(
        "table",
        {},
        h("caption", { class: "visually-hidden" }, `${entries.length} watched ${entries.length === 1 ? "name" : "names"}`),
        h("thead", {}, h("tr", {},
          h("th", { scope: "col" }, "Name"),
          h("th", { scope: "col" }, "Last checked"),
          h("th", { scope: "col" }, "Digest"),
          h("th", { scope: "col" }, "Error"),
          writable ? h("th", { scope: "col" }, "Actions") : null)),
        h("tbody", {}, entries.map(row)),
      ),
    );
  }

  function row(entry) {
    return h(
      "tr",
      { dataset: { name: entry.name } },
      h("td", { class: "name mono" }, entry.name),
      h("td", {}, timeElement(entry.lastChecked)),
      h("td", { class: "mono digest" }, entry.digest || h("span", { class: "muted" }, "–")),
      h("td", {}, entry.error ? h("span", { class: "error" }, entry.error) : h("span", { class: "muted" }, "none")),
      writable
        ? h("td", {}, h("button", {
          type: "button", class: "secondary small", "aria-label": `Remove ${entry.name}`,
          onclick: () => remove(entry.name),
        }, "Remove"))
        : null,
    );
  }

  async function remove(name) {
    const confirmed = await confirmDialog({
      title: "Stop watching this image?",
      text: `${name} will no longer be scanned on a schedule. Its stored scans stay.`,
      confirm: "Remove",
    });
    if (!confirmed || ctx.signal.aborted) return;
    try {
      await api("/v1/watchedimages", { method: "DELETE", query: { name }, signal: ctx.signal });
      say(h("p", { class: "success", role: "status" }, `Stopped watching ${name}.`));
    } catch (error) {
      if (ctx.signal.aborted || error.name === "AbortError") return;
      say(errorBox(`${name} could not be removed. ${plainError(error)}`));
    }
    await load();
    heading.focus();
  }

  // The answer to the last add or remove, above the list.
  const messages = h("div", { class: "form-message" });
  function say(node) {
    clear(messages).append(node);
  }

  const parts = [
    pageHeading("Watched images"),
    h("p", { class: "muted" },
      "A watched name is scanned when it is added and then again on a schedule, so a tag that moves to a new ",
      "digest gets scanned without anyone asking. The last check, the digest it found and any error show here."),
  ];
  if (writable) parts.push(addForm(ctx, say, load));
  parts.push(messages, list);
  clear(main).append(...parts);
  await load();
}

function addForm(ctx, say, reload) {
  const input = h("input", {
    id: "watch-name", name: "name", type: "text", required: true, autocomplete: "off", spellcheck: false,
    "aria-describedby": "watch-name-help",
  });
  const button = h("button", { type: "submit" }, "Watch");
  const busy = h("div", { class: "watch-busy" });
  const form = h(
    "form",
    { class: "card watch-form", novalidate: true, "aria-labelledby": "watch-form-heading" },
    h("h2", { id: "watch-form-heading" }, "Watch an image"),
    h("div", { class: "field" },
      h("label", { for: "watch-name" }, "Image name"),
      input,
      h("p", { id: "watch-name-help", class: "help" },
        "With a tag and no digest, for example registry.example.com/team/app:latest. It is scanned now."),
    ),
    h("div", { class: "actions" }, button, busy),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = input.value.trim();
    if (!name) {
      say(h("div", { class: "error", role: "alert" }, h("p", {}, "Enter an image name to watch.")));
      input.focus();
      return;
    }
    button.disabled = true;
    clear(busy).append(loading(`Scanning ${name}…`));
    try {
      const answer = await api("/v1/watchedimages", { method: "POST", body: { name }, signal: ctx.signal });
      if (ctx.signal.aborted) return;
      const type = answer.errorType || "NO_ERROR";
      if (type === "NO_ERROR") {
        say(h("p", { class: "success", role: "status" }, "Now watching ",
          h("code", {}, answer.normalizedName || name), "."));
        input.value = "";
        await reload();
      } else {
        say(h("div", { class: "error", role: "alert" },
          h("p", {}, WATCH_ERRORS[type] || `The name was not watched (${type}).`),
          answer.errorMessage ? h("p", { class: "detail" }, "The service said: ", h("code", {}, answer.errorMessage)) : null));
      }
    } catch (error) {
      if (ctx.signal.aborted || error.name === "AbortError") return;
      say(errorBox(`The name was not watched. ${plainError(error)}`));
    } finally {
      button.disabled = false;
      clear(busy);
      input.focus();
    }
  });
  return form;
}

function emptyState() {
  return h(
    "div",
    { class: "empty" },
    h("p", {}, "No image is watched yet."),
    h("p", { class: "muted" },
      "Watch the tags you deploy, such as registry.example.com/team/app:prod: the service scans them now and ",
      "re-scans them on a schedule, so new CVEs and moved tags show up on the Images page without a manual scan."),
  );
}
