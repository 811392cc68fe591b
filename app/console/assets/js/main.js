// Boot: who is signed in, what they may do, which page the address names.

import { api, forgetToken, getToken, plainError } from "./api.js";
import { clear, errorBox, h, loading } from "./dom.js";
import { currentRoute, navigate } from "./router.js";

const PAGES = {
  "/images": { title: "Images", load: () => import("./pages/images.js"), needs: ["Image", "read"] },
  "/scan": { title: "Scan", load: () => import("./pages/scan.js"), needs: ["Image", "write"] },
  "/watched": { title: "Watched images", load: () => import("./pages/watched.js"), needs: ["WatchedImage", "read"] },
  "/access": { title: "Access", load: () => import("./pages/access.js"), needs: ["Integration", "read"] },
};
const NAV = ["/images", "/scan", "/watched", "/access"];
const LEVELS = { NO_ACCESS: 0, READ_ACCESS: 1, READ_WRITE_ACCESS: 2 };

const main = document.getElementById("main");
let session = null; // {user, access: {resource: level}}
let current = null; // the AbortController of the page on screen
let notice = ""; // said once on the sign-in page (why the session ended)

function can(resource, what = "read") {
  const level = LEVELS[(session && session.access[resource]) || "NO_ACCESS"] || 0;
  return level >= (what === "write" ? 2 : 1);
}

async function loadSession(known) {
  const status = known || (await api("/v1/auth/status"));
  const info = status.userInfo || {};
  const access = (info.permissions && info.permissions.resourceToAccess) || {};
  session = { user: info.friendlyName || info.username || status.userId || "signed in", access };
}

function signOut(message = "") {
  forgetToken();
  session = null;
  notice = message;
  renderChrome();
  const there = currentRoute().path === "/signin";
  navigate("/signin"); // a change of address renders the page itself (hashchange)
  if (there) route();
}

function renderChrome() {
  const nav = document.getElementById("nav");
  const who = document.getElementById("session");
  clear(nav);
  clear(who);
  nav.hidden = who.hidden = !session;
  if (!session) return;
  const here = currentRoute().path;
  const links = NAV.filter((path) => can(...PAGES[path].needs)).map((path) =>
    h("a", { href: `#${path}`, "aria-current": path === here ? "page" : undefined }, PAGES[path].title),
  );
  nav.append(h("ul", {}, links.map((link) => h("li", {}, link))));
  who.append(
    h("span", { class: "user", title: "Signed in as" }, session.user),
    h("button", { type: "button", class: "secondary small", onclick: () => signOut("You signed out.") }, "Sign out"),
  );
}

async function route() {
  try {
    await showRoute();
  } catch (error) {
    // a page module that failed to load, an address that does not decode
    if (error.name === "AbortError") return;
    clear(main).append(errorBox(plainError(error), route));
  }
}

async function showRoute() {
  if (current) current.abort();
  current = new AbortController();
  const signal = current.signal;
  const here = currentRoute();
  if (!getToken()) {
    session = null;
    renderChrome();
    const page = await import("./pages/signin.js");
    document.title = "Sign in · Image Service";
    page.render(main, here, { signedIn, notice });
    notice = "";
    return;
  }
  if (!session) {
    clear(main).append(loading("Checking your access…"));
    try {
      await loadSession();
    } catch (error) {
      if (error.status === 401) return; // auth-lost signs out
      clear(main).append(errorBox(plainError(error), route));
      return;
    }
  }
  if (here.path === "/signin") {
    navigate("/images", {}, { replace: true });
    return;
  }
  renderChrome();
  const page = PAGES[here.path];
  if (!page) {
    showMessage("Page not found", "This address names no page of the console.");
    return;
  }
  if (!can(...page.needs)) {
    showMessage(page.title, "Your role does not allow this page.");
    return;
  }
  document.title = `${page.title} · Image Service`;
  const module = await page.load();
  if (signal.aborted) return;
  clear(main);
  try {
    await module.render(main, here, { can, signal, user: session.user });
  } catch (error) {
    // a page left before its requests finished, or one that failed without saying so itself
    if (signal.aborted || error.name === "AbortError") return;
    if (error.status === 401) return; // auth-lost signs out
    main.append(errorBox(plainError(error), route));
  }
}

function showMessage(title, text) {
  document.title = `${title} · Image Service`;
  clear(main).append(h("h1", { tabindex: "-1" }, title), h("p", {}, text));
}

// After sign-in: the status the token was checked with says who it is, no need to ask again.
async function signedIn(status) {
  await loadSession(status);
  const target = currentRoute();
  if (target.path === "/signin") navigate("/images");
  else route();
}

window.addEventListener("hashchange", () => {
  const before = document.activeElement;
  route().then(() => {
    // a new page: focus its heading, so keyboard and screen-reader users start there
    if (before === document.body || !main.contains(document.activeElement)) {
      const heading = main.querySelector("h1");
      if (heading) heading.focus({ preventScroll: true });
    }
  });
});
// The skip link moves the focus; following its "#main" would be read as a route.
document.querySelector(".skip-link").addEventListener("click", (event) => {
  event.preventDefault();
  main.focus();
});
window.addEventListener("auth-lost", () => {
  if (session || getToken()) signOut("Your session ended: the token was refused. Sign in again.");
});

route();
