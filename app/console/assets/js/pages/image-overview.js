// What is known of one image besides its vulnerabilities: the overview (names, OS, scan, command…),
// the notes of the image and its scan in words, the layers with the components each one added, and
// the labels.

import { copyButton, formatCvss, formatNumber, h, timeElement } from "../dom.js";
import { componentsOf } from "./image-cves.js";

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

export function overview(image) {
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
      item("Counts", `${formatNumber(image.components ?? componentsOf(image).length)} components, `,
        `${formatNumber(image.cves ?? 0)} CVEs, ${formatNumber(image.fixableCves ?? 0)} fixable`),
    ),
  );
}

// The image's and its scan's notes in words; null when there are none.
export function notes(image) {
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

export function layerSection(image) {
  const v1 = image.metadata && image.metadata.v1;
  const section = h("section", { "aria-labelledby": "layers-heading" }, h("h2", { id: "layers-heading" }, "Layers"));
  const layers = (v1 && v1.layers) || [];
  if (!layers.length) {
    section.append(h("p", { class: "muted" }, v1 ? "The image's history lists no layers." : "No registry metadata is known."));
    return section;
  }
  const perLayer = new Map();
  for (const component of componentsOf(image)) {
    if (!Number.isInteger(component.layerIndex)) continue;
    const seen = perLayer.get(component.layerIndex) || { components: 0, cves: new Set() };
    seen.components += 1;
    for (const vuln of component.vulns || []) seen.cves.add(vuln.cve);
    perLayer.set(component.layerIndex, seen);
  }
  section.append(h(
    "div",
    { class: "table-wrap", tabindex: "0", role: "region", "aria-label": "Layers table" },
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

export function labelSection(image) {
  const labels = Object.entries((image.metadata && image.metadata.v1 && image.metadata.v1.labels) || {});
  const section = h("section", { "aria-labelledby": "labels-heading" }, h("h2", { id: "labels-heading" }, "Labels"));
  if (!labels.length) {
    section.append(h("p", { class: "muted" }, "No labels."));
    return section;
  }
  labels.sort(([a], [b]) => a.localeCompare(b));
  section.append(h(
    "div",
    { class: "table-wrap", tabindex: "0", role: "region", "aria-label": "Labels table" },
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
