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
