// The API client: the token for this browser session, requests, and errors in plain words.

const TOKEN_KEY = "image-service.token";

export class ApiError extends Error {
  constructor(status, body, retryAfter) {
    super((body && body.message) || `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.code = body ? body.code : undefined;
    this.retryAfter = retryAfter ? Number(retryAfter) : undefined;
  }
}

// sessionStorage: the token lives as long as this tab's session and is never sent anywhere
// but this service.
export function getToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

export function apiUrl(path, query) {
  const url = new URL(path, window.location.origin);
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") {
      url.searchParams.set(key, String(value));
    }
  }
  return url;
}

// Fetch with the session's token (or `token`); resolves to the response when it is OK.
export async function request(path, { method = "GET", query, body, signal, token } = {}) {
  const sent = token || getToken();
  const headers = { Accept: "application/json" };
  if (sent) headers.Authorization = `Bearer ${sent}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(apiUrl(path, query), {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
    cache: "no-store",
    credentials: "omit",
  });
  if (!response.ok) {
    let data = null;
    try {
      data = await response.json();
    } catch {
      data = null;
    }
    const error = new ApiError(response.status, data, response.headers.get("Retry-After"));
    if (response.status === 401 && !token) {
      window.dispatchEvent(new CustomEvent("auth-lost", { detail: error }));
    }
    throw error;
  }
  return response;
}

export async function api(path, options = {}) {
  const response = await request(path, options);
  const text = await response.text();
  return text ? JSON.parse(text) : {};
}

// What to tell a person about a failed request.
export function plainError(error) {
  if (!error) return "";
  if (error.name === "AbortError") return "";
  if (!(error instanceof ApiError)) {
    return "The service did not answer. Check that it is running and that this page can reach it.";
  }
  const detail = error.message;
  switch (error.status) {
    case 400:
      return detail;
    case 401:
      return "The token was refused: it is wrong, expired or revoked.";
    case 403:
      return "Your role does not allow this.";
    case 404:
      return detail || "Not found.";
    case 413:
      return "The request is too large.";
    case 429: {
      const wait = error.retryAfter ? ` Try again in ${error.retryAfter} s.` : " Try again shortly.";
      return `The service is busy.${wait}`;
    }
    case 503:
      return `The service is unavailable right now: ${detail}`;
    case 504:
      return `The service took too long: ${detail}`;
    default:
      return `The service failed (HTTP ${error.status}): ${detail}`;
  }
}
