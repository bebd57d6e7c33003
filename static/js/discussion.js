// Discussion enhancements: a live character count and relative times that keep up.
// Everything works without this file; htmx does the live updates.

function formatCount(textarea) {
  const max = Number(textarea.dataset.maxlength);
  const hint = document.getElementById(`${textarea.id}-count`);
  if (!max || !hint) return;
  const left = max - textarea.value.length;
  const n = Math.abs(left).toLocaleString("en-GB");
  hint.textContent = left >= 0
    ? `You have ${n} character${Math.abs(left) === 1 ? "" : "s"} remaining`
    : `You have ${n} character${Math.abs(left) === 1 ? "" : "s"} too many`;
  hint.classList.toggle("app-count--over", left < 0);
}

function ago(date) {
  const seconds = (Date.now() - date.getTime()) / 1000;
  if (seconds < 60) return "just now";
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) {
    const hours = Math.floor(seconds / 3600);
    return `${hours} hour${hours > 1 ? "s" : ""} ago`;
  }
  const days = Math.floor(seconds / 86400);
  if (days === 1) return "yesterday";
  if (days < 7) return `${days} days ago`;
  return null;
}

function refreshTimes(root) {
  root.querySelectorAll("time.app-time[datetime]").forEach((time) => {
    const text = ago(new Date(time.getAttribute("datetime")));
    const target = time.querySelector(".app-time__ago");
    if (text && target && target.textContent !== text) target.textContent = text;
  });
}

document.addEventListener("input", (event) => {
  if (event.target.matches && event.target.matches("textarea[data-maxlength]")) {
    formatCount(event.target);
  }
});

function init(root) {
  root.querySelectorAll("textarea[data-maxlength]").forEach(formatCount);
  refreshTimes(root);
}

document.addEventListener("htmx:afterSettle", (event) => init(event.detail.elt || document));
document.addEventListener("htmx:oobAfterSwap", (event) => init(event.detail.target || document));
init(document);
setInterval(() => refreshTimes(document), 30000);
