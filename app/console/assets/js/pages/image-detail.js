// One image: its metadata, layers, components and vulnerabilities; rescan for those allowed.
// The CVE filters and the snoozed toggle live in the hash (#/images/<id>?severity=…&fixable=1&snoozed=1),
// so a link reproduces the view. A filter change re-renders from the image already fetched.

import { api, plainError } from "../api.js";
import {
  SEVERITIES, clear, copyButton, errorBox, formatCvss, formatNumber, h, loading, pageHeading,
  severityBadge, severityOf, timeElement,
} from "../dom.js";
import { imageHref, navigate } from "../router.js";

const ROW_LIMIT = 250; // CVE rows drawn before "Show all"

const IMAGE_NOTES = {
  MISSING_METADATA: "No registry metadata is known (layers, labels, command).",
  MISSING_SCAN_DATA: "The image has not been scanned: its components and vulnerabilities are unknown.",
  MISSING_SIGNATURE: "No signature was fetched for this image.",
  MISSING_SIGNATURE_VERIFICATION_DATA: "The image's signature was not verified.",
};
const SCAN_NOTES = {
  OS_UNAVAILABLE: "The operating system could not be identified (no os-release file).",
  PARTIAL_SCAN_DATA:
    "Part of the image could not be read (a package database or a foreign layer): the lists may be incomplete.",
  OS_CVES_UNAVAILABLE:
    "Operating-system packages were not matched against advisories (the feed has none for this distribution, " +
    "or the package database is missing): no vulnerabilities listed does not mean none exist.",
  OS_CVES_STALE: "The advisories for this operating system are out of date.",
  LANGUAGE_CVES_UNAVAILABLE: "The feed has no advisories for a language ecosystem found in the image.",
  CERTIFIED_RHEL_SCAN_UNAVAILABLE: "Red Hat's certified scan is not available for this image.",
};
const SOURCES = {
  OS: "OS package", PYTHON: "Python", JAVA: "Java", RUBY: "Ruby", NODEJS: "Node.js", GO: "Go",
  DOTNETCORERUNTIME: ".NET Core", INFRASTRUCTURE: "Infrastructure",
};
const STATES = { DEFERRED: "deferred", FALSE_POSITIVE: "false positive" };

// Kept between renders of the same image, so that a filter change does not fetch it again.
let last = null; // {id, snoozed, image}
let refining = null; // the hash a filter change on this page went to: its render reuses `last`
let memory = { id: null, expanded: new Set(), showAll: false };
let activeView = null; // the view on screen: {id, snoozed, repaint(), reload()}
const rescans = new Map(); // image id -> the rescan under way
let outcome = null; // {id, kind: "ok"|"error"|"moved", …}: said once after a rescan

export function isSnoozed(vuln) {
  return Boolean(vuln.suppressed) || (vuln.state || "OBSERVED") !== "OBSERVED";
}

function snoozeWords(vuln) {
  const state = STATES[vuln.state];
  return state ? `Snoozed (${state})` : "Snoozed";
}

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

// Vulnerabilities flattened from the components: one row per CVE and component, worst first.
export function cveRows(image) {
  const rows = [];
  components(image).forEach((component, index) => {
    for (const vuln of component.vulns || []) {
      const severity = severityOf(vuln.severity);
      rows.push({
        vuln, component, componentIndex: index, severity,
        rank: SEVERITIES.indexOf(severity),
        cvss: Number(vuln.cvss) || 0,
        fixable: Boolean(vuln.fixedBy),
        snoozed: isSnoozed(vuln),
      });
    }
  });
  rows.sort((a, b) =>
    a.rank - b.rank || b.cvss - a.cvss || String(a.vuln.cve).localeCompare(String(b.vuln.cve)) ||
    String(a.component.name).localeCompare(String(b.component.name)));
  return rows;
}

function components(image) {
  return (image.scan && image.scan.components) || [];
}

function distinctCves(vulns) {
  return new Set((vulns || []).map((v) => v.cve)).size;
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
  fill(
    root,
    backLink(view),
    pageHeading(name, ctx.can("Image", "write") && image.name && image.name.fullName ? rescanButton(state) : null),
    rescanMessages(id),
    problem ? errorBox(plainError(problem), () => activeView && activeView.load()) : null,
    overview(image),
    notes(image),
    vulnerabilitySection(state, rows, busy),
    componentSection(image),
    layerSection(image),
    labelSection(image),
  );
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

// ---------------------------------------------------------------- overview

function overview(image) {
  const v1 = (image.metadata && image.metadata.v1) || null;
  const scan = image.scan || null;
  const others = (image.names || []).map((n) => n.fullName).filter((n) => n && n !== (image.name || {}).fullName);
  const item = (term, ...value) => [h("dt", {}, term), h("dd", {}, ...value)];
  const muted = (text) => h("span", { class: "muted" }, text);
  const command = (list) => (list && list.length ? h("code", {}, JSON.stringify(list)) : muted("not set"));
  return h(
    "section",
    { class: "card detail-overview", "aria-labelledby": "overview-heading" },
    h("h2", { id: "overview-heading" }, "Overview"),
    h(
      "dl",
      { class: "meta" },
      item("Digest", h("code", { class: "name" }, image.id), " ", copyButton(image.id, "Copy digest")),
      item("Other names", others.length ? h("ul", { class: "plain" }, others.map((n) => h("li", {}, h("code", {}, n))))
        : muted("none")),
      item("Operating system", scan && scan.operatingSystem ? scan.operatingSystem : muted("unknown")),
      item("Scanned", scan ? timeElement(scan.scanTime) : muted("never"),
        scan && scan.dataSource && scan.dataSource.name ? h("span", { class: "muted" }, ` with ${scan.dataSource.name}`) : null),
      item("Created", timeElement(v1 && v1.created)),
      v1 && v1.author ? item("Author", v1.author) : null,
      item("User", v1 && v1.user ? h("code", {}, v1.user) : muted(v1 ? "not set (root)" : "unknown")),
      item("Entrypoint", v1 ? command(v1.entrypoint) : muted("unknown")),
      item("Command", v1 ? command(v1.command) : muted("unknown")),
      v1 && v1.volumes && v1.volumes.length ? item("Volumes", h("code", {}, v1.volumes.join(", "))) : null,
      item("Risk priority", image.priority ? `${image.priority}` : muted("–"),
        h("span", { class: "muted" }, " (1 is the riskiest image)")),
      item("Top CVSS", formatCvss(image.topCvss)),
      item("Counts", `${formatNumber(image.components ?? components(image).length)} components, `,
        `${formatNumber(image.cves ?? 0)} CVEs, ${formatNumber(image.fixableCves ?? 0)} fixable`),
    ),
  );
}

function notes(image) {
  const said = [
    ...(image.notes || []).map((n) => IMAGE_NOTES[n] || n),
    ...((image.scan && image.scan.notes) || []).filter((n) => n !== "UNSET").map((n) => SCAN_NOTES[n] || n),
  ];
  if (!said.length) return null;
  return h(
    "section",
    { class: "notice detail-notes", "aria-labelledby": "notes-heading" },
    h("h2", { id: "notes-heading" }, "Notes"),
    h("ul", {}, said.map((text) => h("li", {}, text))),
  );
}

// ---------------------------------------------------------------- vulnerabilities

function vulnerabilitySection(state, rows, busy) {
  const { view, image } = state;
  const shown = rows.filter((r) => view.severities.has(r.severity.key) && (!view.fixable || r.fixable));
  const section = h("section", { "aria-labelledby": "cves-heading", "aria-busy": busy ? "true" : undefined },
    h("h2", { id: "cves-heading" }, "Vulnerabilities"));
  if (!image.scan) {
    section.append(h("p", { class: "empty" }, "This image has not been scanned, so its vulnerabilities are unknown."));
    return section;
  }
  section.append(cveFilters(state, rows));
  const distinct = new Set(shown.map((r) => r.vuln.cve)).size;
  section.append(h(
    "div",
    { class: "count", id: "cve-count", "aria-live": "polite", tabindex: "-1" },
    busy ? loading("Loading the vulnerabilities again…")
      : `${formatNumber(shown.length)} of ${formatNumber(rows.length)} rows (${formatNumber(distinct)} distinct CVEs)`,
  ));
  if (!rows.length) {
    section.append(h("p", { class: "empty" }, view.snoozed
      ? "No vulnerabilities were found in this image."
      : "No vulnerabilities were found in this image, apart from any snoozed ones (show them above)."));
    return section;
  }
  if (!shown.length) {
    section.append(h("p", { class: "empty" }, "No vulnerability matches these filters. Tick more severities or untick “Fixable only”."));
    return section;
  }
  const drawn = memory.showAll ? shown : shown.slice(0, ROW_LIMIT);
  section.append(h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "cve-table", id: "cve-table" },
      h("caption", { class: "visually-hidden" }, "Vulnerabilities of this image, one row per CVE and component, worst first"),
      h("thead", {}, h("tr", {}, ["CVE", "Severity", "CVSS", "Vector", "Fixed by", "Component", "Summary"].map((text) =>
        h("th", { scope: "col", class: text === "CVSS" ? "num" : undefined }, text)))),
      h("tbody", {}, drawn.map(cveRow)),
    ),
  ));
  if (drawn.length < shown.length) {
    section.append(h("p", { class: "pager" }, h("button", {
      type: "button", id: "cve-show-all", class: "secondary",
      onclick: () => {
        memory.showAll = true;
        focusId = "cve-count";
        activeView.paint();
      },
    }, `Show all ${formatNumber(shown.length)} rows`)));
  }
  return section;
}

function cveRow(row) {
  const { vuln, component } = row;
  const vector = (vuln.cvssV3 && vuln.cvssV3.vector) || (vuln.cvssV2 && vuln.cvssV2.vector) || "";
  return h(
    "tr",
    {
      class: row.snoozed ? "snoozed" : undefined,
      dataset: { cve: vuln.cve || "", severity: row.severity.key, component: component.name || "", snoozed: row.snoozed ? "1" : "0" },
    },
    h("th", { scope: "row", class: "cve-id" }, cveLink(vuln), row.snoozed ? [" ", h("span", { class: "tag" }, snoozeWords(vuln))] : null),
    h("td", {}, severityBadge(vuln.severity)),
    h("td", { class: "num" }, formatCvss(vuln.cvss)),
    h("td", { class: "vector" }, vector ? h("code", {}, vector) : h("span", { class: "muted" }, "–")),
    h("td", {}, vuln.fixedBy ? h("code", {}, vuln.fixedBy) : h("span", { class: "muted" }, "not fixed")),
    h("td", {}, component.name, " ", h("span", { class: "muted" }, component.version || "")),
    h("td", { class: "summary" }, vuln.summary || h("span", { class: "muted" }, "–")),
  );
}

function cveLink(vuln) {
  const link = vuln.link || "";
  if (!/^https?:\/\//i.test(link)) return h("span", { class: "mono" }, vuln.cve);
  return h("a", { href: link, rel: "noopener noreferrer", target: "_blank", class: "mono" }, vuln.cve,
    h("span", { class: "visually-hidden" }, " (opens in a new tab)"));
}

function cveFilters(state, rows) {
  const { view } = state;
  const counts = {};
  for (const row of rows) counts[row.severity.key] = (counts[row.severity.key] || 0) + 1;
  const update = (changes, event) => {
    focusId = event.target.id;
    const next = { ...view, ...changes };
    const all = SEVERITIES.every((s) => next.severities.has(s.key));
    const severity = all ? "" : SEVERITIES.filter((s) => next.severities.has(s.key)).map((s) => s.key).join(",") || "none";
    navigate(`/images/${encodeURIComponent(state.id)}`, {
      from: view.from, severity, fixable: next.fixable ? "1" : "", snoozed: next.snoozed ? "1" : "",
    }, { replace: true });
    refining = window.location.hash; // set before the route's render runs (it awaits first)
  };
  const box = (id, label, checked, onchange) =>
    h("label", { class: "inline-field", for: id }, h("input", { type: "checkbox", id, checked, onchange }), label);
  return h(
    "div",
    { class: "cve-filters" },
    h(
      "fieldset",
      { class: "filter-group" },
      h("legend", {}, "Severity"),
      SEVERITIES.map((s) => box(`sev-${s.key}`, [h("span", { class: `sev sev-${s.key}` }, s.label), ` (${formatNumber(counts[s.key] || 0)})`],
        view.severities.has(s.key), (event) => {
          const severities = new Set(view.severities);
          if (event.target.checked) severities.add(s.key);
          else severities.delete(s.key);
          update({ severities }, event);
        })),
    ),
    h(
      "fieldset",
      { class: "filter-group" },
      h("legend", {}, "Show"),
      box("fixable-only", "Fixable only", view.fixable, (event) => update({ fixable: event.target.checked }, event)),
      box("show-snoozed", "Show snoozed vulnerabilities", view.snoozed, (event) => update({ snoozed: event.target.checked }, event)),
    ),
  );
}

// ---------------------------------------------------------------- components

function componentSection(image) {
  const section = h("section", { "aria-labelledby": "components-heading" }, h("h2", { id: "components-heading" }, "Components"));
  const list = components(image);
  if (!image.scan) return null;
  if (!list.length) {
    section.append(h("p", { class: "empty" }, "The scan found no components."));
    return section;
  }
  const layers = (image.metadata && image.metadata.v1 && image.metadata.v1.layers) || [];
  const order = list.map((component, index) => ({ component, index }))
    .sort((a, b) => distinctCves(b.component.vulns) - distinctCves(a.component.vulns) ||
      String(a.component.name).localeCompare(String(b.component.name)));
  const body = h("tbody", {});
  for (const { component, index } of order) body.append(...componentRows(component, index, layers));
  section.append(h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "component-table" },
      h("caption", { class: "visually-hidden" }, "Components of this image; expand one to see its vulnerabilities"),
      h("thead", {}, h("tr", {}, ["Component", "Version", "Source", "Location", "Layer", "Fixable", "CVEs"].map((text) =>
        h("th", { scope: "col", class: text === "CVEs" ? "num" : undefined }, text)))),
      body,
    ),
  ));
  return section;
}

function componentRows(component, index, layers) {
  const vulns = component.vulns || [];
  const count = distinctCves(vulns);
  const key = `component-${index}`;
  const open = memory.expanded.has(key);
  const fixable = component.fixedBy || vulns.some((v) => v.fixedBy);
  const nameCell = count
    ? h("button", {
      type: "button", class: "disclosure", id: `${key}-toggle`, "aria-expanded": open ? "true" : "false",
      "aria-controls": `${key}-vulns`, "aria-label": `${component.name}: ${count} ${count === 1 ? "vulnerability" : "vulnerabilities"}`,
      onclick: () => {
        if (memory.expanded.has(key)) memory.expanded.delete(key);
        else memory.expanded.add(key);
        focusId = `${key}-toggle`;
        activeView.paint();
      },
    }, h("span", { class: "arrow", "aria-hidden": "true" }, open ? "▾" : "▸"), component.name)
    : component.name;
  const layer = Number.isInteger(component.layerIndex) ? component.layerIndex : null;
  const rows = [h(
    "tr",
    { dataset: { component: component.name || "" } },
    h("th", { scope: "row" }, nameCell),
    h("td", {}, h("code", {}, component.version || "")),
    h("td", {}, SOURCES[component.source] || component.source || "–"),
    h("td", { class: "location" }, component.location ? h("code", {}, component.location) : h("span", { class: "muted" }, "–")),
    h("td", {}, layer === null ? h("span", { class: "muted" }, "–")
      : [`${layer}`, layers[layer] && layers[layer].instruction ? h("span", { class: "muted" }, ` ${layers[layer].instruction}`) : null]),
    h("td", {}, fixable ? ["Yes", component.fixedBy ? [", in ", h("code", {}, component.fixedBy)] : null] : h("span", { class: "muted" }, "No")),
    h("td", { class: "num" }, formatNumber(count)),
  )];
  if (count) {
    rows.push(h(
      "tr",
      { id: `${key}-vulns`, class: "component-vulns", hidden: !open },
      h("td", { colspan: "7" }, open ? componentVulns(component) : null),
    ));
  }
  return rows;
}

function componentVulns(component) {
  const vulns = [...(component.vulns || [])].sort((a, b) =>
    SEVERITIES.indexOf(severityOf(a.severity)) - SEVERITIES.indexOf(severityOf(b.severity)) ||
    (Number(b.cvss) || 0) - (Number(a.cvss) || 0));
  return h(
    "table",
    { class: "nested" },
    h("caption", { class: "visually-hidden" }, `Vulnerabilities of ${component.name} ${component.version || ""}`),
    h("thead", {}, h("tr", {}, ["CVE", "Severity", "CVSS", "Fixed by"].map((text) =>
      h("th", { scope: "col", class: text === "CVSS" ? "num" : undefined }, text)))),
    h("tbody", {}, vulns.map((vuln) => h(
      "tr",
      { class: isSnoozed(vuln) ? "snoozed" : undefined },
      h("th", { scope: "row" }, cveLink(vuln), isSnoozed(vuln) ? [" ", h("span", { class: "tag" }, snoozeWords(vuln))] : null),
      h("td", {}, severityBadge(vuln.severity)),
      h("td", { class: "num" }, formatCvss(vuln.cvss)),
      h("td", {}, vuln.fixedBy ? h("code", {}, vuln.fixedBy) : h("span", { class: "muted" }, "not fixed")),
    ))),
  );
}

// ---------------------------------------------------------------- layers and labels

function layerSection(image) {
  const v1 = image.metadata && image.metadata.v1;
  const section = h("section", { "aria-labelledby": "layers-heading" }, h("h2", { id: "layers-heading" }, "Layers"));
  const layers = (v1 && v1.layers) || [];
  if (!layers.length) {
    section.append(h("p", { class: "muted" }, v1 ? "The image's history lists no layers." : "No registry metadata is known."));
    return section;
  }
  const perLayer = new Map();
  for (const component of components(image)) {
    if (!Number.isInteger(component.layerIndex)) continue;
    const seen = perLayer.get(component.layerIndex) || { components: 0, cves: new Set() };
    seen.components += 1;
    for (const vuln of component.vulns || []) seen.cves.add(vuln.cve);
    perLayer.set(component.layerIndex, seen);
  }
  section.append(h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "layer-table" },
      h("caption", { class: "visually-hidden" }, "Layers, oldest first, with the components each one added"),
      h("thead", {}, h("tr", {}, ["Layer", "Instruction", "Value", "Created", "Components", "CVEs"].map((text) =>
        h("th", { scope: "col", class: ["Layer", "Components", "CVEs"].includes(text) ? "num" : undefined }, text)))),
      h("tbody", {}, layers.map((layer, index) => {
        const found = perLayer.get(index);
        return h(
          "tr",
          { class: layer.empty ? "empty-layer" : undefined },
          h("th", { scope: "row", class: "num" }, `${index}`),
          h("td", {}, h("code", {}, layer.instruction || "–"), layer.empty ? h("span", { class: "muted" }, " (no files)") : null),
          h("td", { class: "layer-value" }, layer.value ? h("code", {}, layer.value) : h("span", { class: "muted" }, "–")),
          h("td", {}, timeElement(layer.created)),
          h("td", { class: "num" }, found ? formatNumber(found.components) : "–"),
          h("td", { class: "num" }, found ? formatNumber(found.cves.size) : "–"),
        );
      })),
    ),
  ));
  return section;
}

function labelSection(image) {
  const labels = Object.entries((image.metadata && image.metadata.v1 && image.metadata.v1.labels) || {});
  const section = h("section", { "aria-labelledby": "labels-heading" }, h("h2", { id: "labels-heading" }, "Labels"));
  if (!labels.length) {
    section.append(h("p", { class: "muted" }, "No labels."));
    return section;
  }
  labels.sort(([a], [b]) => a.localeCompare(b));
  section.append(h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "label-table" },
      h("caption", { class: "visually-hidden" }, "Image labels"),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Label"), h("th", { scope: "col" }, "Value"))),
      h("tbody", {}, labels.map(([key, value]) =>
        h("tr", {}, h("th", { scope: "row" }, h("code", {}, key)), h("td", { class: "layer-value" }, value)))),
    ),
  ));
  return section;
}
