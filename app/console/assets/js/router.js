// Hash routes: #/images?q=…, #/images/<id>, #/scan, #/watched, #/access, #/signin. The query of
// a view lives in the hash, so a link reproduces it.

export function currentRoute() {
  const hash = window.location.hash.replace(/^#/, "") || "/images";
  const [rawPath, rawQuery = ""] = splitOnce(hash, "?");
  const segments = rawPath.split("/").filter(Boolean).map(decode);
  // Decoded by hand: URLSearchParams would read a typed "+" (the search language's clause
  // separator) as a space.
  const params = new URLSearchParams();
  for (const pair of rawQuery.split("&").filter(Boolean)) {
    const [key, value = ""] = splitOnce(pair, "=");
    params.append(decode(key), decode(value));
  }
  return { path: `/${segments[0] || "images"}`, segments, params };
}

// A percent-decoded address part; a malformed escape is kept as typed.
function decode(text) {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function splitOnce(text, separator) {
  const at = text.indexOf(separator);
  return at < 0 ? [text] : [text.slice(0, at), text.slice(at + 1)];
}

// "#/images?q=…" from a path and its parameters (empty ones left out).
export function href(path, params = {}) {
  const query = Object.entries(params)
    .filter(([, value]) => value !== undefined && value !== null && value !== "" && value !== false)
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`)
    .join("&");
  return `#${path}${query ? `?${query}` : ""}`;
}

export function imageHref(id) {
  return `#/images/${encodeURIComponent(id)}`;
}

// Go to a view; `replace` keeps the browser history as it is (a refinement of the same view),
// `reload` shows the view again even when it is the one on screen.
export function navigate(path, params = {}, { replace = false, reload = false } = {}) {
  const target = href(path, params);
  if (target === window.location.hash) {
    if (reload) window.dispatchEvent(new HashChangeEvent("hashchange"));
    return;
  }
  if (replace) {
    window.history.replaceState(null, "", target);
    window.dispatchEvent(new HashChangeEvent("hashchange"));
  } else {
    window.location.hash = target;
  }
}
