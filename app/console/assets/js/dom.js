// Building the page: elements from data (text only, never parsed HTML), formats, shared pieces.

// h("a", {href: "#/x", class: "link", onclick: fn}, "text", child, ...)
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "spellcheck") {
      node.setAttribute("spellcheck", String(Boolean(value))); // false must be written out
      continue;
    }
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      node.addEventListener(key.slice(2), value);
    } else if (key === "class") {
      node.className = value;
    } else if (key === "dataset") {
      Object.assign(node.dataset, value);
    } else if (value === true) {
      node.setAttribute(key, "");
    } else if (key in node && !key.includes("-") && key !== "list" && key !== "form") {
      node[key] = value;
    } else {
      node.setAttribute(key, String(value));
    }
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else node.append(child instanceof Node ? child : String(child));
  }
}

export function clear(node) {
  node.replaceChildren();
  return node;
}

const DATE = new Intl.DateTimeFormat("en-CA", {
  year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
  hour12: false, timeZone: "UTC",
});

// "2026-12-07 01:23 UTC", or "–" when absent.
export function formatDate(value) {
  if (!value) return "–";
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return "–";
  return `${DATE.format(date).replace(",", "")} UTC`;
}

export function timeElement(value) {
  if (!value) return h("span", { class: "muted" }, "–");
  return h("time", { datetime: value }, formatDate(value));
}

export function formatNumber(value) {
  return new Intl.NumberFormat("en").format(value || 0);
}

export function formatCvss(value) {
  return value ? Number(value).toFixed(1) : "–";
}

// Highest first, as the wire's enum names say them.
export const SEVERITIES = [
  { key: "critical", label: "Critical", name: "CRITICAL_VULNERABILITY_SEVERITY" },
  { key: "important", label: "Important", name: "IMPORTANT_VULNERABILITY_SEVERITY" },
  { key: "moderate", label: "Moderate", name: "MODERATE_VULNERABILITY_SEVERITY" },
  { key: "low", label: "Low", name: "LOW_VULNERABILITY_SEVERITY" },
  { key: "unknown", label: "Unknown", name: "UNKNOWN_VULNERABILITY_SEVERITY" },
];

export function severityOf(name) {
  return SEVERITIES.find((s) => s.name === name || s.key === name) || SEVERITIES[4];
}

// A severity as a coloured badge that also says it in words.
export function severityBadge(name) {
  const severity = severityOf(name);
  return h("span", { class: `sev sev-${severity.key}` }, severity.label);
}

// Counts by severity: "3 Critical", "1 Important"…, zero counts left out.
export function severityCounts(counts) {
  const shown = SEVERITIES.filter((s) => (counts || {})[s.key] > 0);
  if (!shown.length) return h("span", { class: "muted" }, "none");
  return h(
    "ul",
    { class: "sev-counts" },
    shown.map((s) =>
      h("li", { class: `sev sev-${s.key}`, title: `${counts[s.key]} ${s.label}` }, `${counts[s.key]} ${s.label}`),
    ),
  );
}

export function loading(text) {
  return h("p", { class: "loading", role: "status" }, h("span", { class: "spinner", "aria-hidden": "true" }), text);
}

// An error in words, with a way to try again when there is one.
export function errorBox(message, retry) {
  return h(
    "div",
    { class: "error", role: "alert" },
    h("p", {}, message),
    retry ? h("button", { type: "button", class: "secondary", onclick: retry }, "Try again") : null,
  );
}

export function pageHeading(text, ...extra) {
  return h("div", { class: "page-head" }, h("h1", { tabindex: "-1" }, text), ...extra);
}

export function copyButton(text, label = "Copy") {
  const button = h("button", { type: "button", class: "secondary small" }, label);
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = "Copied";
    } catch {
      button.textContent = "Select and copy";
    }
  });
  return button;
}
