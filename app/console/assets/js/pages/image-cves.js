// The vulnerabilities of one image: the CVE table (one row per CVE and component, worst first) and its
// filters. The pieces of one vulnerability that the components table shows as well (its link, its
// snoozed tag, its fix) come from here too.

import { SEVERITIES, formatCvss, formatNumber, h, loading, severityBadge, severityOf } from "../dom.js";

const ROW_LIMIT = 250; // CVE rows drawn before "Show all"

const STATES = { DEFERRED: "deferred", FALSE_POSITIVE: "false positive" };

export function componentsOf(image) {
  return (image.scan && image.scan.components) || [];
}

export function isSnoozed(vuln) {
  return Boolean(vuln.suppressed) || (vuln.state || "OBSERVED") !== "OBSERVED";
}

// " Snoozed (deferred)" after a CVE id, or nothing
export function snoozedTag(vuln) {
  if (!isSnoozed(vuln)) return null;
  const state = STATES[vuln.state];
  return [" ", h("span", { class: "tag" }, state ? `Snoozed (${state})` : "Snoozed")];
}

// A link only to a web page: any other scheme (javascript:, data:…) is shown as the bare CVE id.
export function cveLink(vuln) {
  const link = vuln.link || "";
  if (!/^https?:\/\//i.test(link)) return h("span", { class: "mono" }, vuln.cve);
  return h("a", { href: link, rel: "noopener noreferrer", target: "_blank", class: "mono" }, vuln.cve,
    h("span", { class: "visually-hidden" }, " (opens in a new tab)"));
}

export function fixedBy(vuln) {
  return vuln.fixedBy ? h("code", {}, vuln.fixedBy) : h("span", { class: "muted" }, "not fixed");
}

// Vulnerabilities flattened from the components: one row per CVE and component, worst first.
export function cveRows(image) {
  const rows = [];
  componentsOf(image).forEach((component, index) => {
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

// `page`: {memory: {showAll}, repaint(focusId), refine(focusId, viewChanges)} from the page module.
export function vulnerabilitySection(state, rows, busy, page) {
  const { view, image } = state;
  const shown = rows.filter((r) => view.severities.has(r.severity.key) && (!view.fixable || r.fixable));
  const section = h("section", { "aria-labelledby": "cves-heading", "aria-busy": busy ? "true" : undefined },
    h("h2", { id: "cves-heading" }, "Vulnerabilities"));
  if (!image.scan) {
    section.append(h("p", { class: "empty" }, "This image has not been scanned, so its vulnerabilities are unknown."));
    return section;
  }
  section.append(cveFilters(view, rows, page));
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
  const drawn = page.memory.showAll ? shown : shown.slice(0, ROW_LIMIT);
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
        page.memory.showAll = true;
        page.repaint("cve-count");
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
    h("th", { scope: "row", class: "cve-id" }, cveLink(vuln), snoozedTag(vuln)),
    h("td", {}, severityBadge(vuln.severity)),
    h("td", { class: "num" }, formatCvss(vuln.cvss)),
    h("td", { class: "vector" }, vector ? h("code", {}, vector) : h("span", { class: "muted" }, "–")),
    h("td", {}, fixedBy(vuln)),
    h("td", {}, component.name, " ", h("span", { class: "muted" }, component.version || "")),
    h("td", { class: "summary" }, vuln.summary || h("span", { class: "muted" }, "–")),
  );
}

// Severity boxes (with their row counts), "Fixable only" and "Show snoozed": each change goes to the hash.
function cveFilters(view, rows, page) {
  const counts = {};
  for (const row of rows) counts[row.severity.key] = (counts[row.severity.key] || 0) + 1;
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
          page.refine(event.target.id, { severities });
        })),
    ),
    h(
      "fieldset",
      { class: "filter-group" },
      h("legend", {}, "Show"),
      box("fixable-only", "Fixable only", view.fixable, (event) => page.refine(event.target.id, { fixable: event.target.checked })),
      box("show-snoozed", "Show snoozed vulnerabilities", view.snoozed,
        (event) => page.refine(event.target.id, { snoozed: event.target.checked })),
    ),
  );
}
