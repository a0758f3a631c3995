// Small progressive enhancements; every page works without this file.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // On a fresh sign-up form, preselect the browser's own time zone.
  const zone = document.querySelector("form select[name=timezone]");
  if (zone && zone.value === "UTC" && !document.querySelector(".has-error")) {
    const local = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (local && [...zone.options].some((o) => o.value === local)) zone.value = local;
  }
});

// Actions that are hard to undo (publish a round, deactivate someone...) carry a
// data-confirm question on their form or button: ask it, and send nothing if refused.
// Without JavaScript the form simply posts.
document.addEventListener("submit", (event) => {
  const form = event.target;
  const button = event.submitter;
  const question =
    (button && button.dataset && button.dataset.confirm) ||
    (form instanceof HTMLFormElement && form.dataset.confirm);
  if (question && !window.confirm(question)) event.preventDefault();
});
