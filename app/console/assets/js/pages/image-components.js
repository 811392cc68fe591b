// The components the scan found in one image, most vulnerable first. A component with vulnerabilities
// has a disclosure button that opens a row listing them; which ones are open survives a repaint.

import { SEVERITIES, formatCvss, formatNumber, h, severityBadge, severityOf } from "../dom.js";
import { componentsOf, cveLink, fixedBy, isSnoozed, snoozedTag } from "./image-cves.js";

const SOURCES = {
  OS: "OS package", PYTHON: "Python", JAVA: "Java", RUBY: "Ruby", NODEJS: "Node.js", GO: "Go",
  DOTNETCORERUNTIME: ".NET Core", INFRASTRUCTURE: "Infrastructure",
};

function distinctCves(vulns) {
  return new Set((vulns || []).map((v) => v.cve)).size;
}

// `page`: {memory: {expanded: Set}, repaint(focusId)} from the page module.
export function componentSection(image, page) {
  const section = h("section", { "aria-labelledby": "components-heading" }, h("h2", { id: "components-heading" }, "Components"));
  const list = componentsOf(image);
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
  for (const { component, index } of order) body.append(...componentRows(component, index, layers, page));
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

function componentRows(component, index, layers, page) {
  const vulns = component.vulns || [];
  const count = distinctCves(vulns);
  const key = `component-${index}`;
  const { expanded } = page.memory;
  const open = expanded.has(key);
  const fixable = component.fixedBy || vulns.some((v) => v.fixedBy);
  const nameCell = count
    ? h("button", {
      type: "button", class: "disclosure", id: `${key}-toggle`, "aria-expanded": open ? "true" : "false",
      "aria-controls": `${key}-vulns`, "aria-label": `${component.name}: ${count} ${count === 1 ? "vulnerability" : "vulnerabilities"}`,
      onclick: () => {
        if (expanded.has(key)) expanded.delete(key);
        else expanded.add(key);
        page.repaint(`${key}-toggle`);
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
      h("th", { scope: "row" }, cveLink(vuln), snoozedTag(vuln)),
      h("td", {}, severityBadge(vuln.severity)),
      h("td", { class: "num" }, formatCvss(vuln.cvss)),
      h("td", {}, fixedBy(vuln)),
    ))),
  );
}
