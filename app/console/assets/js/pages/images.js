// The images page: search, the table with CVEs by severity, sorting, keyset paging, the total,
// export and delete by query (pages/images-actions.js).

import { api, plainError } from "../api.js";
import {
  clear, errorBox, formatCvss, formatNumber, h, loading, pageHeading, severityCounts, timeElement,
} from "../dom.js";
import { href, imageHref, navigate } from "../router.js";
import { searchBar } from "../search-bar.js";
import { deleteButton, exportButton } from "./images-actions.js";

const PAGE_SIZES = [25, 50, 100];
const DEFAULT_LIMIT = 50;
// Columns: heading, the search label it sorts on, how a row shows it.
const COLUMNS = [
  { title: "Image", sort: "Image", cell: (row, link) => h("td", {}, link) },
  { title: "OS", sort: "Image OS", cell: (row) => h("td", {}, summary(row).operatingSystem || "–") },
  { title: "Components", sort: "Component Count", num: true, cell: (row) => num(row.components) },
  { title: "CVEs by severity", sort: "Image CVE Count", cell: (row) => h("td", {}, severityCounts(summary(row).cvesBySeverity)) },
  { title: "Fixable", sort: "Fixable CVE Count", num: true, cell: (row) => num(row.fixableCves) },
  { title: "Top CVSS", sort: "Image Top CVSS", num: true, cell: (row) => h("td", { class: "num" }, formatCvss(summary(row).topCvss)) },
  { title: "Risk priority", sort: "Image Risk Priority", num: true, cell: (row) => num(row.priority) },
  { title: "Created", sort: "Image Created Time", narrow: true, cell: (row) => h("td", {}, timeElement(row.created)) },
  { title: "Scanned", sort: "Image Scan Time", narrow: true, cell: (row) => h("td", {}, timeElement(summary(row).scanTime)) },
];

// Cursors of the pages before the current one, per query and sort, as this tab paged forward.
const trails = new Map();
// What the next render does after a change made here: the control to give the focus back to
// (by id; null: the search bar), and a message to show once.
let focusAfter = null;
let flash = "";

function summary(row) {
  return row.scanSummary || {};
}

function num(value) {
  return h("td", { class: "num" }, value === undefined || value === null ? "–" : formatNumber(Number(value)));
}

function viewOf(params) {
  const limit = Number(params.get("limit")) || DEFAULT_LIMIT;
  return {
    q: params.get("q") || "",
    sort: params.get("sort") || "",
    desc: params.get("desc") === "1",
    limit: PAGE_SIZES.includes(limit) ? limit : DEFAULT_LIMIT,
    cursor: params.get("cursor") || "",
  };
}

function viewParams(view) {
  return {
    q: view.q, sort: view.sort, desc: view.desc ? "1" : "",
    limit: view.limit === DEFAULT_LIMIT ? "" : view.limit, cursor: view.cursor,
  };
}

function trailKey(view) {
  return JSON.stringify([view.q, view.sort, view.desc, view.limit]);
}

export async function render(main, route, ctx) {
  if (route.segments.length > 1) {
    const detail = await import("./image-detail.js");
    return detail.render(main, route, ctx);
  }
  const view = viewOf(route.params);
  const go = (changes, focusId = null) => {
    focusAfter = focusId;
    navigate("/images", viewParams({ ...view, cursor: "", ...changes }), { reload: focusId === null });
  };

  const { form, input } = searchBar({ value: view.q, onSubmit: (q) => go({ q }) });
  const countText = h("span", { class: "count", role: "status", "aria-live": "polite" }, "");
  const actions = h("div", { class: "actions" });
  const results = h("div", { class: "results" }, placeholderTable());
  const status = h("div", { class: "page-status" });
  main.append(pageHeading("Images", countText), form, h("div", { class: "toolbar" }, actions), status, results);
  const restore = focusAfter;
  focusAfter = null;
  if (!restore) input.focus({ preventScroll: true });
  if (flash) {
    status.append(h("p", { class: "success", role: "status" }, flash));
    flash = "";
  }

  actions.append(exportButton(view.q, status));
  if (ctx.can("Image", "write")) {
    const deleted = (message) => {
      flash = message;
      navigate("/images", viewParams({ ...view, cursor: "" }), { replace: true, reload: true });
    };
    actions.append(deleteButton(view.q, deleted));
  }

  const query = { query: view.q };
  const listQuery = {
    ...query,
    "pagination.limit": view.limit,
    "pagination.sortOption.field": view.sort,
    "pagination.sortOption.reversed": view.sort && view.desc ? "true" : "",
    "pagination.cursor": view.cursor,
    scanSummary: "true",
  };
  const counted = api("/v1/imagescount", { query, signal: ctx.signal });
  counted.catch(() => {}); // read below; this only keeps an early failure from going unhandled
  try {
    const page = await api("/v1/images", { query: listQuery, signal: ctx.signal });
    clear(results).append(
      page.images && page.images.length
        ? table(page.images, view, go)
        : await emptyState(view, counted, ctx),
      pager(view, page, counted),
    );
    if (restore) document.getElementById(restore)?.focus();
  } catch (error) {
    if (ctx.signal.aborted) return;
    clear(results).append(errorBox(plainError(error), () => navigate("/images", viewParams(view), { reload: true })));
    if (error.status === 400) input.focus();
  }
  try {
    const { count } = await counted;
    countText.textContent = `${formatNumber(count)} ${count === 1 ? "image" : "images"}${view.q ? " match" : ""}`;
  } catch (error) {
    if (!ctx.signal.aborted && error.status !== 400) countText.textContent = "count unavailable";
  }
}

function table(images, view, go) {
  const from = href("/images", viewParams(view));
  const head = h(
    "tr",
    {},
    COLUMNS.map((column, index) => {
      const sorted = view.sort === column.sort;
      const direction = sorted ? (view.desc ? "descending" : "ascending") : undefined;
      return h(
        "th",
        { scope: "col", class: [column.num ? "num" : "", column.narrow ? "hide-narrow" : ""].join(" ").trim() || undefined, "aria-sort": direction },
        h(
          "button",
          {
            type: "button", class: "sort", id: `sort-${index}`,
            onclick: () => go({ sort: column.sort, desc: sorted ? !view.desc : false }, `sort-${index}`),
          },
          column.title,
          h("span", { class: "arrow", "aria-hidden": "true" }, sorted ? (view.desc ? "▼" : "▲") : ""),
        ),
      );
    }),
  );
  const rows = images.map((row) => {
    const link = h("a", { class: "name", href: `${imageHref(row.id)}?from=${encodeURIComponent(from)}` }, row.name || row.id);
    return h(
      "tr",
      {},
      COLUMNS.map((column) => {
        const cell = column.cell(row, link);
        if (column.narrow) cell.classList.add("hide-narrow");
        return cell;
      }),
    );
  });
  return h(
    "div",
    { class: "table-wrap" },
    h("table", { "aria-label": "Images" }, h("thead", {}, head), h("tbody", {}, rows)),
  );
}

// Rows of the same height as real ones, so the page does not jump when they arrive.
function placeholderTable() {
  const rows = Array.from({ length: 8 }, () =>
    h("tr", { class: "table-placeholder" }, COLUMNS.map(() => h("td", {}, h("span", { class: "skeleton" })))),
  );
  return h(
    "div",
    { class: "table-wrap", "aria-busy": "true" },
    loading("Loading images…"),
    h("table", { "aria-hidden": "true" }, h("tbody", {}, rows)),
  );
}

function pager(view, page, counted) {
  const key = trailKey(view);
  const trail = trails.get(key) || [];
  // where this page sits in the trail (a link may land on a page the tab never paged to)
  const at = view.cursor ? trail.indexOf(view.cursor) : -1;
  const nav = h("nav", { class: "pager", "aria-label": "Pages" });
  const size = h(
    "select",
    {
      id: "page-size",
      onchange: (event) => {
        focusAfter = "page-size";
        navigate("/images", viewParams({ ...view, cursor: "", limit: Number(event.target.value) }));
      },
    },
    PAGE_SIZES.map((n) => h("option", { value: n, selected: n === view.limit }, String(n))),
  );
  // a page link gets the focus back once the page it opens is shown
  const pageLink = (id, cursor, text) =>
    h("a", { id, href: href("/images", viewParams({ ...view, cursor })), onclick: () => { focusAfter = id; } }, text);
  if (view.cursor) {
    const previous = at > 0 ? trail[at - 1] : at === 0 ? "" : null;
    nav.append(pageLink("page-first", "", "First page"));
    if (previous !== null && previous !== "") nav.append(pageLink("page-previous", previous, "Previous page"));
  }
  const shown = page.images ? page.images.length : 0;
  const position = h("span", { class: "muted" }, shown ? `${shown} on this page` : "");
  let next = null;
  counted.then(({ count }) => {
    if (!shown) return;
    const first = at >= 0 ? (at + 1) * view.limit + 1 : view.cursor ? null : 1;
    position.textContent = first
      ? `${formatNumber(first)}–${formatNumber(first + shown - 1)} of ${formatNumber(count)}`
      : `${shown} on this page of ${formatNumber(count)}`;
    // a full last page still gets a cursor from the service: the count says there is no more
    if (first && next && first + shown - 1 >= count) next.remove();
  }).catch(() => {});
  nav.append(position);
  if (page.nextCursor) {
    next = pageLink("page-next", page.nextCursor, "Next page");
    next.addEventListener("click", () => {
      // trail[i] starts page i + 2; a page reached by a link has no known place in it
      const kept = !view.cursor ? [] : at >= 0 ? trail.slice(0, at + 1) : null;
      if (kept) trails.set(key, [...kept, page.nextCursor]);
    });
    nav.append(next);
  }
  nav.append(h("label", { for: "page-size", class: "inline-field" }, "Per page", size));
  return nav;
}

async function emptyState(view, counted, ctx) {
  if (view.cursor) {
    return h("div", { class: "empty" }, h("h2", {}, "No more images"),
      h("p", {}, h("a", { href: href("/images", viewParams({ ...view, cursor: "" })) }, "Back to the first page"), "."));
  }
  if (view.q) {
    return h("div", { class: "empty" }, h("h2", {}, "No image matches"), h("p", {}, "Change the query, or clear it to see every image."));
  }
  const steps = [
    h("li", {}, "Seed demo data: ", h("code", {}, ".venv/bin/image-service seed --count 200")),
    h("li", {}, "Import an upstream export: ", h("code", {}, ".venv/bin/image-service import images.ndjson")),
  ];
  if (ctx.can("Image", "write")) steps.unshift(h("li", {}, h("a", { href: "#/scan" }, "Scan an image"), " from a registry."));
  await counted.catch(() => null);
  return h("div", { class: "empty" }, h("h2", {}, "No images yet"), h("p", {}, "Fill the inventory:"), h("ul", {}, steps));
}
