// Sign-in with an API token; the token is checked against the service before it is kept.

import { api, plainError, setToken } from "../api.js";
import { clear, h } from "../dom.js";

export function render(main, _route, { signedIn, notice }) {
  const input = h("input", {
    id: "token", name: "token", type: "password", autocomplete: "off", required: true,
    spellcheck: false, "aria-describedby": "token-help",
  });
  const message = h("div", { class: "form-message", "aria-live": "polite" });
  const button = h("button", { type: "submit" }, "Sign in");
  const form = h(
    "form",
    { class: "card signin", novalidate: true },
    h("h1", { tabindex: "-1" }, "Sign in"),
    notice ? h("p", { class: "notice", role: "status" }, notice) : null,
    h("label", { for: "token" }, "API token"),
    input,
    h(
      "p",
      { id: "token-help", class: "help" },
      "An API token of this service. `make run` writes an Admin token to .data/admin-token; ",
      "operators make more with `image-service token create`. It is kept for this browser tab only.",
    ),
    message,
    button,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const token = input.value.trim();
    clear(message);
    if (!token) {
      message.append(h("p", { class: "error", role: "alert" }, "Enter a token."));
      input.focus();
      return;
    }
    button.disabled = true;
    button.textContent = "Signing in…";
    try {
      const status = await api("/v1/auth/status", { token });
      setToken(token);
      await signedIn(status);
    } catch (error) {
      const text = error.status === 401 ? "That token was refused: it is wrong, expired or revoked." : plainError(error);
      message.append(h("p", { class: "error", role: "alert" }, text));
      input.select();
      input.focus();
    } finally {
      button.disabled = false;
      button.textContent = "Sign in";
    }
  });
  clear(main).append(form);
  input.focus();
}
