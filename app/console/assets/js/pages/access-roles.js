// Roles on the Access page: each role's access per resource, and a form to create one.

import { api, plainError } from "../api.js";
import { clear, errorBox, h, loading } from "../dom.js";

const LEVELS = [
  { name: "NO_ACCESS", label: "No access" },
  { name: "READ_ACCESS", label: "Read" },
  { name: "READ_WRITE_ACCESS", label: "Read and write" },
];

function levelLabel(name) {
  return (LEVELS.find((level) => level.name === name) || LEVELS[0]).label;
}

export function rolesSection(ctx) {
  const heading = h("h2", { id: "roles-heading", tabindex: "-1" }, "Roles");
  const messages = h("div", { class: "form-message" });
  const body = h("div", { class: "roles-body" }, loading("Loading the roles…"));
  const formSlot = h("div", { class: "role-form-slot" });
  const node = h("section", { class: "roles", "aria-labelledby": "roles-heading" },
    heading,
    h("p", { class: "muted" }, "What each role may do, per resource. Built-in roles cannot change."),
    body, formSlot);

  async function reload() {
    clear(body).append(loading("Loading the roles…"));
    try {
      const data = await api("/v1/roles", { signal: ctx.signal });
      if (ctx.signal.aborted) return;
      const roles = data.roles || [];
      const resources = [...new Set(roles.flatMap((role) => Object.keys(role.resourceToAccess || {})))].sort();
      clear(body).append(table(roles, resources));
      if (ctx.can("Access", "write") && !formSlot.firstChild) formSlot.append(createForm(resources));
    } catch (error) {
      if (ctx.signal.aborted || error.name === "AbortError") return;
      clear(body).append(errorBox(`The roles could not be loaded. ${plainError(error)}`, reload));
    }
  }

  function table(roles, resources) {
    return h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": "Roles table" },
      h("table", { class: "roles-table" },
      h("thead", {}, h("tr", {},
        h("th", { scope: "col" }, "Role"),
        resources.map((resource) => h("th", { scope: "col" }, resource)))),
      h("tbody", {}, roles.map((role) => h("tr", { dataset: { role: role.name } },
        h("th", { scope: "row" }, role.name,
          role.description ? h("span", { class: "help role-description" }, role.description) : null),
        resources.map((resource) => {
          const level = (role.resourceToAccess || {})[resource] || "NO_ACCESS";
          return h("td", { class: level === "NO_ACCESS" ? "muted" : undefined }, levelLabel(level));
        }))))));
  }

  function createForm(resources) {
    const name = h("input", { id: "role-name", name: "name", type: "text", required: true, autocomplete: "off" });
    const description = h("input", { id: "role-description", name: "description", type: "text", autocomplete: "off" });
    const selects = resources.map((resource, index) => ({
      resource,
      select: h("select", { id: `role-access-${index}`, name: resource },
        LEVELS.map((level) => h("option", { value: level.name }, level.label))),
    }));
    const button = h("button", { type: "submit" }, "Create role");
    const form = h("form", { class: "card role-form", novalidate: true, "aria-labelledby": "role-form-heading" },
      h("h3", { id: "role-form-heading" }, "Create a role"),
      h("div", { class: "field" }, h("label", { for: "role-name" }, "Role name"), name),
      h("div", { class: "field" }, h("label", { for: "role-description" }, "Description (optional)"), description),
      h("fieldset", { class: "access-grid" }, h("legend", {}, "Access per resource"),
        selects.map(({ resource, select }) => h("div", { class: "field" },
          h("label", { for: select.id }, resource), select))),
      h("p", { class: "help" }, "A role may give at most the access your own roles hold."),
      messages,
      h("div", { class: "actions" }, button));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const roleName = name.value.trim();
      if (!roleName) {
        clear(messages).append(h("div", { class: "error", role: "alert" }, h("p", {}, "Enter a name for the role.")));
        name.focus();
        return;
      }
      const resourceToAccess = Object.fromEntries(selects.map(({ resource, select }) => [resource, select.value]));
      button.disabled = true;
      try {
        await api(`/v1/roles/${encodeURIComponent(roleName)}`, {
          method: "POST", body: { name: roleName, resourceToAccess, description: description.value.trim() },
          signal: ctx.signal,
        });
        clear(messages).append(h("p", { class: "success", role: "status" }, `Created the role "${roleName}".`));
        form.reset();
        await reload();
        heading.focus();
      } catch (error) {
        if (ctx.signal.aborted || error.name === "AbortError") return;
        const detail = error.status === 403 ? ` ${error.message}` : "";
        clear(messages).append(errorBox(`The role was not created. ${plainError(error)}${detail}`));
        name.focus();
      } finally {
        button.disabled = false;
      }
    });
    return form;
  }

  reload();
  return node;
}
