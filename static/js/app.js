// Progressive enhancement only: every task works without this file.
import { initAll } from "../vendor/nhsuk-frontend/nhsuk-frontend.min.js";

initAll();

const isSaveStatus = (element) =>
  Boolean(element && element.classList && element.classList.contains("app-save-status"));

function flagNotSaved(status, text) {
  status.textContent = text;
  status.className = "app-save-status app-save-status--error";
}

// Where each request's answer was to go, to put an error message there instead.
const targets = new WeakMap();

// htmx marks the saving item so people see that their choice is being stored.
document.addEventListener("htmx:beforeRequest", (event) => {
  const target = event.detail.target;
  targets.set(event.detail.elt, target);
  if (isSaveStatus(target)) {
    target.textContent = "Saving…";
    target.className = "app-save-status";
  }
});

// Polls and read markers run by themselves and change nothing on screen: when they fail,
// the page says nothing (it would interrupt every few seconds).
const isBackground = (element) =>
  Boolean(
    element && element.matches && element.matches("[hx-trigger*='every'], [hx-swap='none']"),
  );

// A problem with something the person did, other than an autosave: an error summary at the
// top of the page, focused so that screen readers announce it (focused once per message).
function showProblem(message) {
  const main = document.querySelector("main");
  if (!main) return;
  let summary = document.getElementById("app-failure");
  if (!summary) {
    summary = document.createElement("div");
    summary.id = "app-failure";
    summary.className = "nhsuk-error-summary";
    summary.setAttribute("role", "alert");
    summary.tabIndex = -1;
    const title = document.createElement("h2");
    title.className = "nhsuk-error-summary__title";
    title.textContent = "There is a problem";
    const body = document.createElement("p");
    body.className = "nhsuk-error-summary__body";
    summary.append(title, body);
    main.prepend(summary);
  }
  const body = summary.querySelector(".nhsuk-error-summary__body");
  if (body.textContent === message && summary.contains(document.activeElement)) return;
  body.textContent = message;
  summary.focus();
}

// A save that never reached the server (a phone losing its signal) or that the server failed
// must not sit at "Saving…": say so, keep the choice on screen, and send it again when the
// connection is back (and every 10 seconds while it is not saved). Anything else the person
// sent (a message, say) stays on the page, and the page says it was not sent.
const unsent = new Set();

function notSaved(event, message, otherwise) {
  if (isBackground(event.detail.elt)) return;
  if (!isSaveStatus(event.detail.target)) {
    showProblem(otherwise);
    return;
  }
  flagNotSaved(event.detail.target, message);
  unsent.add(event.detail.elt);
}

document.addEventListener("htmx:sendError", (event) =>
  notSaved(
    event,
    "Not saved: no connection. It will be sent again when you are back online.",
    "No connection, so this was not sent. Anything you typed is still here: send it again " +
      "when you are back online.",
  ),
);
document.addEventListener("htmx:responseError", (event) => {
  if (event.detail.xhr && event.detail.xhr.status >= 500) {
    notSaved(
      event,
      "Not saved: the server had a problem. It will be tried again shortly.",
      "Sorry, there is a problem with the service, so this was not done. Try again later.",
    );
  }
});
document.addEventListener("htmx:afterRequest", (event) => {
  if (event.detail.successful) unsent.delete(event.detail.elt);
});

function resend() {
  for (const element of [...unsent]) {
    unsent.delete(element);
    if (element.isConnected) window.htmx.trigger(element, "change");
  }
}

window.addEventListener("online", resend);
setInterval(() => {
  if (unsent.size && navigator.onLine) resend();
}, 10000);

// The server refused an htmx request (app/errors.py, "app:failed"): an autosave says so in
// its status line, anything else in the error summary.
document.addEventListener("app:failed", (event) => {
  const message = event.detail.message;
  if (isBackground(event.target)) return;
  const target = targets.get(event.target);
  if (isSaveStatus(target)) {
    flagNotSaved(target, `Not saved. ${message}`);
    return;
  }
  showProblem(message);
});

// A "Copy link" button beside each invitation link to pass on (the link is on the page as
// text, to select and copy by hand without this). It says in words whether it worked.
function addCopyButtons() {
  if (!navigator.clipboard) return;
  for (const link of document.querySelectorAll("code.app-invite-link")) {
    const row = document.createElement("div");
    row.className = "app-copy";
    const button = document.createElement("button");
    button.type = "button";
    button.className = "nhsuk-button nhsuk-button--secondary nhsuk-button--small";
    button.textContent = "Copy link";
    const whose = document.createElement("span");
    whose.className = "nhsuk-u-visually-hidden";
    whose.textContent = ` for ${link.dataset.copyFor || ""}`;
    button.append(whose);
    const said = document.createElement("span");
    said.className = "nhsuk-body-s app-copy__status";
    said.setAttribute("role", "status");
    button.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(link.textContent.trim());
        said.textContent = "Copied";
      } catch {
        said.textContent = "Could not copy: select the link and copy it";
      }
    });
    row.append(button, said);
    link.after(row);
  }
}

addCopyButtons();
