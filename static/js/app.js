// Progressive enhancement only: every task works without this file.
import { initAll } from "../vendor/nhsuk-frontend/nhsuk-frontend.min.js";

initAll();

// htmx marks the saving item so people see that their choice is being stored.
document.addEventListener("htmx:beforeRequest", (event) => {
  const target = event.detail.target;
  if (target && target.classList && target.classList.contains("app-save-status")) {
    target.textContent = "Saving…";
    target.className = "app-save-status";
  }
});
