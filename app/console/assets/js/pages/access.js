// Access: API tokens (list, generate with the secret shown once, revoke) and roles.

import { api, plainError } from "../api.js";
import { confirmDialog } from "../confirm.js";
import { clear, copyButton, errorBox, h, loading, pageHeading, timeElement } from "../dom.js";
import { rolesSection } from "./access-roles.js";

export async function render(main, _route, ctx) {
  const mayGenerate = ctx.can("Access", "read") && ctx.can("Integration", "write");
  const mayRevoke = ctx.can("Integration", "write");
  const tokens = tokensSection(ctx, mayRevoke);
  const parts = [
    pageHeading("Access"),
    h("p", { class: "muted" },
      "API tokens let scripts, CI jobs and people sign in to this service; each carries roles, and a role ",
      "says what may be read or changed. Revoked tokens stop working at once."),
  ];
  if (mayGenerate) parts.push(generateSection(ctx, tokens.reload));
  parts.push(tokens.node);
  if (ctx.can("Access", "read")) parts.push(rolesSection(ctx));
  clear(main).append(...parts);
  await tokens.reload();
}

function tokenState(token) {
  if (token.revoked) return "Revoked";
  if (token.expiration && new Date(token.expiration).getTime() <= Date.now()) return "Expired";
  return "Active";
}

function tokensSection(ctx, mayRevoke) {
  const heading = h("h2", { id: "tokens-heading", tabindex: "-1" }, "API tokens");
  const messages = h("div", { class: "form-message" });
  const body = h("div", { class: "tokens-body" });
  const node = h("section", { class: "tokens", "aria-labelledby": "tokens-heading" }, heading, messages, body);
  let ownId = ""; // the token this browser signed in with (its id is the session's userId)

  async function reload() {
    clear(body).append(loading("Loading the API tokens…"));
    try {
      const [data, me] = await Promise.all([
        api("/v1/apitokens", { signal: ctx.signal }),
        api("/v1/auth/status", { signal: ctx.signal }).catch(() => ({})),
      ]);
      if (ctx.signal.aborted) return;
      ownId = me.userId || "";
      const list = [...(data.tokens || [])].sort((a, b) => String(b.issuedAt).localeCompare(String(a.issuedAt)));
      clear(body).append(list.length ? table(list) : h("p", { class: "empty" }, "No API token was issued yet."));
    } catch (error) {
      if (ctx.signal.aborted || error.name === "AbortError") return;
      clear(body).append(errorBox(`The API tokens could not be loaded. ${plainError(error)}`, reload));
    }
  }

  function table(list) {
    return h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": "API tokens table" },
      h("table", { class: "tokens-table" },
      h("thead", {}, h("tr", {},
        h("th", { scope: "col" }, "Name"),
        h("th", { scope: "col" }, "Roles"),
        h("th", { scope: "col" }, "Issued"),
        h("th", { scope: "col" }, "Expiration"),
        h("th", { scope: "col" }, "State"),
        mayRevoke ? h("th", { scope: "col" }, "Actions") : null)),
      h("tbody", {}, list.map(row))));
  }

  function row(token) {
    const state = tokenState(token);
    return h("tr", { dataset: { id: token.id } },
      h("td", { class: "name" }, token.name,
        token.id === ownId ? [" ", h("span", { class: "tag" }, "this session")] : null),
      h("td", {}, (token.roles || []).join(", ") || h("span", { class: "muted" }, "none")),
      h("td", {}, timeElement(token.issuedAt)),
      h("td", {}, timeElement(token.expiration)),
      h("td", {}, h("span", { class: `token-state token-${state.toLowerCase()}` }, state)),
      mayRevoke
        ? h("td", {}, state === "Active"
          ? h("button", {
            type: "button", class: "secondary small", "aria-label": `Revoke ${token.name}`,
            onclick: () => revoke(token),
          }, "Revoke")
          : null)
        : null);
  }

  async function revoke(token) {
    const confirmed = await confirmDialog({
      title: "Revoke this token?",
      text: `"${token.name}" (${(token.roles || []).join(", ")}) stops working at once, for everyone using it. ` +
        (token.id === ownId ? "You are signed in with it: revoking it signs you out. " : "") +
        "This cannot be undone.",
      confirm: "Revoke",
    });
    if (!confirmed || ctx.signal.aborted) return;
    try {
      await api(`/v1/apitokens/revoke/${encodeURIComponent(token.id)}`, { method: "PATCH", signal: ctx.signal });
      clear(messages).append(h("p", { class: "success", role: "status" }, `Revoked "${token.name}".`));
    } catch (error) {
      if (ctx.signal.aborted || error.name === "AbortError") return;
      clear(messages).append(errorBox(`"${token.name}" could not be revoked. ${plainError(error)}`));
    }
    await reload();
    heading.focus();
  }

  return { node, reload };
}

function generateSection(ctx, reloadTokens) {
  const name = h("input", {
    id: "token-name", name: "name", type: "text", required: true, autocomplete: "off", maxlength: 256,
    "aria-describedby": "token-name-help",
  });
  const expiration = h("input", { id: "token-expiration", name: "expiration", type: "date", "aria-describedby": "token-expiration-help" });
  const roles = h("div", { class: "role-choices" }, loading("Loading the roles you may give…"));
  const button = h("button", { type: "submit" }, "Generate token");
  const result = h("div", { class: "generated" });
  const form = h("form", { class: "card generate-form", novalidate: true, "aria-labelledby": "generate-heading" },
    h("h2", { id: "generate-heading" }, "Generate a token"),
    h("div", { class: "field" },
      h("label", { for: "token-name" }, "Token name"),
      name,
      h("p", { id: "token-name-help", class: "help" }, "What or who the token is for, such as ci-release."),
    ),
    h("fieldset", { class: "roles-fieldset" }, h("legend", {}, "Roles"), roles),
    h("div", { class: "field" },
      h("label", { for: "token-expiration" }, "Expiration (optional)"),
      expiration,
      h("p", { id: "token-expiration-help", class: "help" },
        "The token stops working at the end of this day (UTC). Left empty: one year from now."),
    ),
    h("div", { class: "actions" }, button),
    result,
  );

  async function loadRoles() {
    clear(roles).append(loading("Loading the roles you may give…"));
    try {
      const data = await api("/v1/apitokens/generate/allowed-roles", { signal: ctx.signal });
      if (ctx.signal.aborted) return;
      const names = data.roleNames || [];
      clear(roles).append(...(names.length
        ? names.map((role, index) => h("label", { class: "inline-field", for: `token-role-${index}` },
          h("input", { id: `token-role-${index}`, type: "checkbox", name: "roles", value: role }), role))
        : [h("p", { class: "muted" }, "Your roles allow no role to be given to a token.")]));
    } catch (error) {
      if (ctx.signal.aborted || error.name === "AbortError") return;
      clear(roles).append(errorBox(`The roles could not be loaded. ${plainError(error)}`, loadRoles));
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clear(result);
    const chosen = [...roles.querySelectorAll("input[type=checkbox]:checked")].map((box) => box.value);
    const problem = !name.value.trim() ? [name, "Enter a name for the token."]
      : !chosen.length ? [roles.querySelector("input") || name, "Choose at least one role."] : null;
    if (problem) {
      result.append(h("div", { class: "error", role: "alert" }, h("p", {}, problem[1])));
      problem[0].focus();
      return;
    }
    const body = { name: name.value.trim(), roles: chosen };
    if (expiration.value) body.expiration = `${expiration.value}T23:59:59Z`;
    button.disabled = true;
    result.append(loading("Generating…"));
    try {
      const answer = await api("/v1/apitokens/generate", { method: "POST", body, signal: ctx.signal });
      if (ctx.signal.aborted) return;
      clear(result).append(shownOnce(answer, () => { clear(result); name.focus(); }));
      result.querySelector("h3").focus();
      form.reset();
      reloadTokens();
    } catch (error) {
      if (ctx.signal.aborted || error.name === "AbortError") return;
      const detail = error.status === 403 ? ` ${error.message}` : "";
      clear(result).append(errorBox(`No token was generated. ${plainError(error)}${detail}`));
    } finally {
      button.disabled = false;
    }
  });
  loadRoles();
  return form;
}

// The secret, shown this once: the service keeps only its hash.
function shownOnce(answer, done) {
  const meta = answer.metadata || {};
  return h("section", { class: "token-shown", "aria-labelledby": "new-token-heading" },
    h("h3", { id: "new-token-heading", tabindex: "-1" }, `Token "${meta.name || ""}" generated`),
    h("p", { class: "warning", role: "alert" },
      "Copy it now: it will not be shown again. The service keeps only a hash of it."),
    h("p", { class: "token-once mono", id: "new-token" }, answer.token),
    h("div", { class: "actions" },
      copyButton(answer.token, "Copy token"),
      h("button", { type: "button", class: "secondary small", onclick: done }, "I have copied it")),
  );
}
