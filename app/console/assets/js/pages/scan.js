// Scan: an image name in, the scanned image (or why the scan failed, in words) out.

import { ApiError, api, plainError } from "../api.js";
import { SEVERITIES, clear, formatCvss, formatNumber, h, pageHeading, severityCounts, severityOf, timeElement }
  from "../dom.js";
import { imageHref } from "../router.js";

export async function render(main, route, ctx) {
  const input = h("input", {
    id: "scan-name", name: "imageName", type: "text", required: true, autocomplete: "off",
    spellcheck: false, value: route.params.get("name") || "", "aria-describedby": "scan-name-help",
  });
  const force = h("input", { id: "scan-force", name: "force", type: "checkbox", "aria-describedby": "scan-force-help" });
  const button = h("button", { type: "submit" }, "Scan");
  const progress = h("div", { class: "scan-progress" });
  const outcome = h("div", { class: "scan-outcome" });
  const form = h(
    "form",
    { class: "card scan-form", novalidate: true },
    h("div", { class: "field" },
      h("label", { for: "scan-name" }, "Image name"),
      input,
      h("p", { id: "scan-name-help", class: "help" },
        "registry/repository:tag or …@sha256:digest, for example registry.example.com/team/app:1.4. ",
        "A name without a registry means Docker Hub."),
    ),
    h("div", { class: "field" },
      h("label", { class: "inline-field", for: "scan-force" }, force, "Force a fresh scan"),
      h("p", { id: "scan-force-help", class: "help" },
        "Ask the registry again and analyse every layer, instead of reusing a stored scan of the same digest."),
    ),
    h("div", { class: "actions" }, button),
  );

  let running = false;
  async function scan() {
    const name = input.value.trim();
    clear(outcome);
    if (!name) {
      outcome.append(failureBox("Enter an image name, such as registry.example.com/team/app:1.4."));
      input.focus();
      return;
    }
    if (running) return;
    running = true;
    button.disabled = true;
    const stop = showProgress(progress, name);
    try {
      const image = await api("/v1/images/scan", {
        method: "POST", body: { imageName: name, force: force.checked }, signal: ctx.signal,
      });
      if (ctx.signal.aborted) return;
      const result = resultCard(image);
      outcome.append(result);
      result.querySelector("h2").focus();
    } catch (error) {
      if (ctx.signal.aborted || error.name === "AbortError") return;
      const [headline, detail] = scanFailure(error);
      outcome.append(failureBox(headline, detail, scan));
      input.focus();
    } finally {
      stop();
      running = false;
      button.disabled = false;
    }
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    scan();
  });

  clear(main).append(
    pageHeading("Scan an image"),
    h("p", { class: "muted" },
      "The service pulls the image's manifest and layers from its registry, lists the installed packages and ",
      "matches them against the vulnerability feed. The result is stored and appears on the Images page."),
    form,
    progress,
    outcome,
  );
  if (!input.value) input.focus();
}

// "Scanning … 12 s" while the request runs; returns what stops it.
function showProgress(region, name) {
  const seconds = h("span", { class: "elapsed", "aria-live": "off" }, "0 s");
  const started = Date.now();
  const timer = setInterval(() => {
    seconds.textContent = `${Math.floor((Date.now() - started) / 1000)} s`;
  }, 1000);
  clear(region).append(
    h("p", { class: "loading", role: "status" },
      h("span", { class: "spinner", "aria-hidden": "true" }),
      h("span", {}, "Scanning ", h("code", {}, name), "… this can take a minute for a large image. "),
      h("span", { class: "muted" }, "Elapsed: ", seconds)),
  );
  return () => {
    clearInterval(timer);
    clear(region);
  };
}

function failureBox(headline, detail, retry) {
  return h(
    "div",
    { class: "error", role: "alert" },
    h("p", {}, headline),
    detail ? h("p", { class: "detail" }, "The service said: ", h("code", {}, detail)) : null,
    retry
      ? h("button", { type: "button", class: "secondary", onclick: () => { retry(); document.getElementById("scan-name")?.focus(); } }, "Try again")
      : null,
  );
}

function resultCard(image) {
  const scan = image.scan || {};
  const components = scan.components || [];
  const name = (image.name && image.name.fullName) || ((image.names || [])[0] || {}).fullName || image.id;
  const counts = cveCounts(components);
  const total = SEVERITIES.reduce((sum, s) => sum + counts[s.key], 0);
  const notes = image.notes || [];
  return h(
    "section",
    { class: "card scan-result", "aria-labelledby": "scan-result-heading" },
    h("h2", { id: "scan-result-heading", tabindex: "-1" }, "Scanned ", h("span", { class: "name" }, name)),
    h("dl", { class: "meta" },
      h("dt", {}, "Name"), h("dd", { class: "mono" }, name),
      h("dt", {}, "Digest"), h("dd", { class: "mono" }, image.id),
      h("dt", {}, "Operating system"), h("dd", {}, scan.operatingSystem || h("span", { class: "muted" }, "not identified")),
      h("dt", {}, "Scanned"), h("dd", {}, timeElement(scan.scanTime)),
      h("dt", {}, "Components"), h("dd", {}, formatNumber(image.components ?? components.length)),
      h("dt", {}, "CVEs"), h("dd", {}, h("span", { class: "cve-total" }, `${formatNumber(image.cves ?? total)} `),
        severityCounts(counts)),
      h("dt", {}, "Fixable CVEs"), h("dd", {}, formatNumber(image.fixableCves)),
      h("dt", {}, "Top CVSS"), h("dd", {}, formatCvss(image.topCvss)),
      notes.length ? [h("dt", {}, "Notes"), h("dd", {}, notes.map(noteText).join("; "))] : null,
    ),
    h("p", { class: "actions" }, h("a", { href: imageHref(image.id) }, "Open the image: components and CVEs")),
  );
}

// Distinct CVEs by severity (a CVE found in several components counts once, at its highest).
function cveCounts(components) {
  const rank = new Map(SEVERITIES.map((s, index) => [s.key, index]));
  const worst = new Map();
  for (const component of components) {
    for (const vuln of component.vulns || []) {
      const key = severityOf(vuln.severity).key;
      const seen = worst.get(vuln.cve);
      if (seen === undefined || rank.get(key) < rank.get(seen)) worst.set(vuln.cve, key);
    }
  }
  const counts = Object.fromEntries(SEVERITIES.map((s) => [s.key, 0]));
  for (const key of worst.values()) counts[key] += 1;
  return counts;
}

function noteText(note) {
  const text = String(note).toLowerCase().replaceAll("_", " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

// Why a scan failed, as [a sentence, the service's own words]; app/error_rendering.py and
// app/scanner/errors.py say which status each failure gets.
export function scanFailure(error) {
  if (!(error instanceof ApiError)) return [plainError(error), ""];
  const detail = error.message || "";
  const wait = error.retryAfter ? ` Try again in ${error.retryAfter} s.` : " Try again shortly.";
  switch (error.status) {
    case 400:
      if (/is not allowed: it resolves to/.test(detail) || /which is not allowed/.test(detail)) {
        return ["The service's outbound policy does not allow connecting to this registry: it is on a loopback, " +
          "private or link-local address. An operator can allow it with IMAGE_SERVICE_REGISTRY_ALLOWLIST.", detail];
      }
      if (/reference format|image name must be specified|checksum digest|repository name/.test(detail)) {
        return ["That is not a valid image name. Use registry/repository:tag, in lower case, " +
          "for example registry.example.com/team/app:1.4.", detail];
      }
      return ["The image cannot be scanned as it is.", detail];
    case 401:
      return [plainError(error), ""];
    case 403:
      if (/^registry /.test(detail)) {
        return ["The registry denied access to this image: it needs credentials the service does not have, " +
          "or refused the ones it has.", detail];
      }
      return ["Your role does not allow scanning images.", detail];
    case 404:
      return ["The registry has no such image or tag. Check the repository name and the tag.", detail];
    case 429:
      return [`The scanner is busy with other scans.${wait}`, detail];
    case 503:
      if (/unreachable: HTTP (429|5\d\d)/.test(detail)) {
        return [`The registry is busy or failing and kept refusing the scanner.${wait}`, detail];
      }
      if (/unreachable/.test(detail)) {
        return ["The registry could not be reached: check the registry part of the name, and that the registry " +
          "is up and reachable from the service.", detail];
      }
      if (/^registry /.test(detail)) {
        return ["The registry answered something the scanner cannot use.", detail];
      }
      return [`The service is unavailable right now.${wait}`, detail];
    case 504:
      if (/did not answer within/.test(detail)) return ["The registry did not answer in time. Try again later.", detail];
      return ["The scan took too long and was stopped.", detail];
    default:
      return [`The scan failed inside the service (HTTP ${error.status}).`, detail];
  }
}
