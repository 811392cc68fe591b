// One image: its metadata, layers, components and vulnerabilities; rescan for those allowed.
// The CVE filters and the snoozed toggle live in the hash (#/images/<id>?severity=…&fixable=1&snoozed=1),
// so a link reproduces the view. A filter change re-renders from the image already fetched.
// This module is the page (fetch, loading and failure states, rescan, focus kept across repaints);
// the sections come from image-overview.js, image-cves.js and image-components.js.

import { api, plainError } from "../api.js";
import { SEVERITIES, clear, errorBox, h, loading, pageHeading, timeElement } from "../dom.js";
import { imageHref, navigate } from "../router.js";
import { componentSection } from "./image-components.js";
import { cveRows, vulnerabilitySection } from "./image-cves.js";
import { labelSection, layerSection, notes, overview } from "./image-overview.js";

// Kept between renders of the same image, so that a filter change does not fetch it again.
let last = null; // {id, snoozed, image}
let refining = null; // the hash a filter change on this page went to: its render reuses `last`
let memory = { id: null, expanded: new Set(), showAll: false };
let activeView = null; // the view on screen: {id, snoozed, signal, paint(), load(), state}
const rescans = new Map(); // image id -> the rescan under way
let outcome = null; // {id, kind: "ok"|"error"|"moved", …}: said once after a rescan

function readView(params) {
  const severity = params.get("severity");
  const keys = SEVERITIES.map((s) => s.key);
  const shown = severity === null || severity === ""
    ? new Set(keys)
    : new Set(severity.split(",").filter((key) => keys.includes(key)));
  const from = params.get("from") || "";
  return {
    severities: shown,
    fixable: params.get("fixable") === "1",
    snoozed: params.get("snoozed") === "1",
    // only a hash of this console goes back: never a script or another site
    back: /^#\/[a-z]/.test(from) ? from : "#/images",
    from,
  };
}

// The hash parameters of a view: the inverse of readView (all severities = none said).
function writeView(view) {
  const all = SEVERITIES.every((s) => view.severities.has(s.key));
  const severity = all ? "" : SEVERITIES.filter((s) => view.severities.has(s.key)).map((s) => s.key).join(",") || "none";
  return { from: view.from, severity, fixable: view.fixable ? "1" : "", snoozed: view.snoozed ? "1" : "" };
}

export async function render(main, route, ctx) {
  const id = route.segments[1] || "";
  const view = readView(route.params);
  const reuse = refining === window.location.hash && last && last.id === id ? last : null;
  refining = null;
  if (memory.id !== id) memory = { id, expanded: new Set(), showAll: false };
  if (outcome && outcome.id !== id) outcome = null;
  const root = h("div", { class: "image-detail" });
  clear(main).append(root);

  const state = { id, view, image: null };
  const paint = (options = {}) => keepingFocus(root, () => paintImage(root, state, ctx, options));
  const load = async () => {
    if (!state.image) paintLoading(root, id, view);
    try {
      const image = await api(`/v1/images/${encodeURIComponent(id)}`, {
        query: { includeSnoozed: view.snoozed ? "true" : undefined },
        signal: ctx.signal,
      });
      if (ctx.signal.aborted) return;
      last = { id, snoozed: view.snoozed, image };
      state.image = image;
      paint();
    } catch (error) {
      if (ctx.signal.aborted || error.name === "AbortError") return;
      if (state.image) {
        paint({ problem: error });
        return;
      }
      keepingFocus(root, () => paintFailure(root, id, view, error, load, ctx));
    }
  };
  activeView = { id, snoozed: view.snoozed, signal: ctx.signal, paint, load, state };

  if (reuse && reuse.snoozed === view.snoozed) {
    state.image = reuse.image;
    paint();
    return;
  }
  if (reuse) {
    // the snoozed toggle changed: the page stays, marked busy, while the image is fetched again
    state.image = reuse.image;
    paint({ busy: true });
  }
  await load();
}

// Re-renders keep keyboard focus on the control that had it (same id in the new content).
let focusId = null;
function keepingFocus(root, draw) {
  const active = document.activeElement;
  const wanted = focusId || (active && root.contains(active) && active.id) || null;
  focusId = null;
  const scroll = window.scrollY;
  draw();
  if (wanted) {
    const again = document.getElementById(wanted);
    if (again) again.focus({ preventScroll: true });
  }
  if (window.scrollY !== scroll) window.scrollTo({ top: scroll });
}

// Element.append would write "null" for a section left out
function fill(root, ...children) {
  clear(root).append(...children.filter((child) => child !== null && child !== undefined));
}

function backLink(view) {
  return h("p", { class: "back" }, h("a", { href: view.back }, h("span", { "aria-hidden": "true" }, "← "), "Images"));
}

function paintLoading(root, id, view) {
  fill(
    root,
    backLink(view),
    pageHeading("Image"),
    h("p", { class: "mono muted digest-line" }, id),
    h("div", { class: "detail-placeholder", "aria-busy": "true" }, loading("Loading the image…")),
  );
}

function paintFailure(root, id, view, error, retry, ctx) {
  document.title = "Image · Image Service";
  if (error.status === 404) {
    fill(
      root,
      backLink(view),
      pageHeading("Image not found"),
      h(
        "div",
        { class: "empty", role: "alert" },
        h("p", {}, "This image is not in the inventory: ", h("code", {}, id), "."),
        h("p", {}, "It may have been deleted, or never scanned. ",
          ctx.can("Image", "write") ? [h("a", { href: "#/scan" }, "Scan it by name"), ", or go back to "] : "Go back to ",
          h("a", { href: view.back }, "the images list"), "."),
      ),
    );
    return;
  }
  fill(root, backLink(view), pageHeading("Image"), h("p", { class: "mono muted digest-line" }, id),
    errorBox(plainError(error), retry));
}

function paintImage(root, state, ctx, { busy = false, problem = null } = {}) {
  const { image, view, id } = state;
  const name = (image.name && image.name.fullName) || image.id || id;
  document.title = `${name} · Image Service`;
  const rows = cveRows(image);
  const page = pageActions(state);
  fill(
    root,
    backLink(view),
    pageHeading(name, ctx.can("Image", "write") && image.name && image.name.fullName ? rescanButton(state) : null),
    rescanMessages(id),
    problem ? errorBox(plainError(problem), () => activeView && activeView.load()) : null,
    overview(image),
    notes(image),
    vulnerabilitySection(state, rows, busy, page),
    componentSection(image, page),
    layerSection(image),
    labelSection(image),
  );
}

// What a section may do to the page: draw it again (focus going to `focus`), or change the view's
// filters in the hash (the route's render then reuses the image fetched).
function pageActions(state) {
  return {
    memory,
    repaint(focus) {
      focusId = focus;
      activeView.paint();
    },
    refine(focus, changes) {
      focusId = focus;
      navigate(`/images/${encodeURIComponent(state.id)}`, writeView({ ...state.view, ...changes }), { replace: true });
      refining = window.location.hash; // set before the route's render runs (it awaits first)
    },
  };
}

// ---------------------------------------------------------------- rescan

function rescanButton(state) {
  const running = rescans.has(state.id);
  // aria-disabled, not disabled: the button keeps keyboard focus while the scan runs
  return h("div", { class: "actions" }, h("button", {
    type: "button", id: "rescan", class: "secondary", "aria-disabled": running ? "true" : undefined,
    onclick: () => {
      if (!rescans.has(state.id)) startRescan(state);
    },
  }, running ? "Rescanning…" : "Rescan"));
}

function rescanMessages(id) {
  const status = h("p", { class: "rescan-status", role: "status" });
  const alert = h("div", { class: "rescan-alert" });
  if (rescans.has(id)) {
    status.append(h("span", { class: "spinner", "aria-hidden": "true" }),
      `Rescanning ${rescans.get(id).name}: every layer is downloaded and analysed again. This can take a minute.`);
  } else if (outcome && outcome.id === id) {
    const said = outcome;
    if (said.kind === "ok") {
      status.append(`Rescanned. Scan time: `, timeElement(said.scanTime), ".");
    } else if (said.kind === "moved") {
      status.append(`Rescanned: ${said.name} now points to another image, `,
        h("a", { href: imageHref(said.newId) }, said.newId), ". This page still shows the image scanned before.");
    } else {
      alert.append(errorBox(`The rescan failed. ${said.text}`));
    }
  }
  return h("div", { class: "rescan-messages" }, status, alert);
}

async function startRescan(state) {
  const { id } = state;
  const name = state.image.name.fullName;
  const snoozed = state.view.snoozed;
  const task = api("/v1/images/scan", { method: "POST", body: { imageName: name, force: true, includeSnoozed: snoozed } });
  rescans.set(id, { name, task });
  outcome = null;
  focusId = "rescan";
  if (activeView && activeView.id === id) activeView.paint();
  let refetch = false;
  try {
    const result = await task;
    if (result.id && result.id !== id) {
      outcome = { id, kind: "moved", name, newId: result.id };
      refetch = true;
    } else {
      outcome = { id, kind: "ok", scanTime: result.scan && result.scan.scanTime };
      if (activeView && activeView.id === id && activeView.snoozed === snoozed) {
        last = { id, snoozed, image: result };
        activeView.state.image = result;
      } else {
        refetch = true;
      }
    }
  } catch (error) {
    outcome = { id, kind: "error", text: plainError(error) || "The request was stopped." };
  } finally {
    rescans.delete(id);
  }
  if (!activeView || activeView.id !== id || activeView.signal.aborted) return;
  focusId = document.activeElement && document.activeElement.id === "rescan" ? "rescan" : null;
  if (refetch) await activeView.load();
  else activeView.paint();
}
