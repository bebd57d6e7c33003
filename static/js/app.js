// Progressive enhancement only: every task works without this file.
import { initAll } from "../vendor/nhsuk-frontend/nhsuk-frontend.min.js";

initAll();

const isSaveStatus = (element) =>
  Boolean(element && element.classList && element.classList.contains("app-save-status"));

// htmx marks the saving item so people see that their choice is being stored.
document.addEventListener("htmx:beforeRequest", (event) => {
  const target = event.detail.target;
  if (isSaveStatus(target)) {
    target.textContent = "Saving…";
    target.className = "app-save-status";
  }
});

// A save that never reached the server (a phone losing its signal) or that the server failed
// must not sit at "Saving…": say so, keep the choice on screen, and send it again when the
// connection is back (and every 10 seconds while it is not saved).
const unsent = new Set();

function notSaved(event, message) {
  if (!isSaveStatus(event.detail.target)) return;
  event.detail.target.textContent = message;
  event.detail.target.className = "app-save-status app-save-status--error";
  unsent.add(event.detail.elt);
}

document.addEventListener("htmx:sendError", (event) =>
  notSaved(event, "Not saved: no connection. It will be sent again when you are back online."),
);
document.addEventListener("htmx:responseError", (event) => {
  if (event.detail.xhr && event.detail.xhr.status >= 500) {
    notSaved(event, "Not saved: the server had a problem. It will be tried again shortly.");
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
