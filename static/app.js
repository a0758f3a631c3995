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

// Parts of the feedback form that belong to some answers only carry data-shown-for (the
// rating and kudos: "met"; why not: "will_not_meet"; would meet again: either). Shown for those answers; for the others hidden
// and disabled, so nothing in them is sent. A part showing an error from the server stays.
function showPartsForAnswer(form) {
  const checked = form.querySelector("input[name=status]:checked");
  const answer = checked ? checked.value : "";
  for (const part of form.querySelectorAll("[data-shown-for]")) {
    const shown = part.dataset.shownFor.split(" ").includes(answer) || !!part.querySelector(".error");
    part.hidden = !shown;
    for (const control of part.querySelectorAll("input, select, textarea")) control.disabled = !shown;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  for (const form of document.querySelectorAll("form")) {
    if (!form.querySelector("[data-shown-for]")) continue;
    showPartsForAnswer(form);
    form.addEventListener("change", (event) => {
      if (event.target.name === "status") showPartsForAnswer(form);
    });
  }
});

// Comma-separated lists (projects, interests) suggest names for the entry being typed: the
// datalist's options become "what is typed up to the last comma" + a name not chosen yet,
// so the browser's own suggestion list completes the last entry. Without this file the
// datalist still completes the first entry.
document.addEventListener("DOMContentLoaded", () => {
  for (const input of document.querySelectorAll("input[data-tags][list]")) {
    const list = document.getElementById(input.getAttribute("list"));
    if (!list) continue;
    const names = [...list.options].map((option) => option.value);
    const key = (name) => name.trim().replace(/\s+/g, " ").toLowerCase();
    const update = () => {
      const cut = input.value.lastIndexOf(",");
      const head = input.value.slice(0, cut + 1);
      const rest = input.value.slice(cut + 1);
      let spacing = rest.match(/^\s*/)[0];
      if (cut >= 0 && rest === "") spacing = " ";
      const chosen = new Set(head.split(",").map(key));
      const options = names
        .filter((name) => !chosen.has(key(name)))
        .map((name) => {
          const option = document.createElement("option");
          option.value = head + spacing + name;
          return option;
        });
      list.replaceChildren(...options);
    };
    input.addEventListener("input", update);
    update();
  }
});

// Sign-up: a programme for some teams or offices (data-open-to, data-open-values) is shown
// only when the team or office typed above is one of them, or when it is ticked or carries
// an error. Without this file all are shown; the server checks again on submit.
document.addEventListener("DOMContentLoaded", () => {
  const limited = document.querySelectorAll("[data-open-to][data-open-values]");
  if (!limited.length) return;
  const key = (value) => value.trim().replace(/\s+/g, " ").toLowerCase();
  const update = () => {
    for (const part of limited) {
      const name = part.dataset.openTo === "teams" ? "team" : "location";
      const input = part.closest("form").querySelector(`input[name=${name}]`);
      const values = part.dataset.openValues.split("|").map(key);
      const box = part.querySelector("input[type=checkbox]");
      part.hidden = !(
        (input && values.includes(key(input.value))) ||
        (box && box.checked) ||
        part.querySelector(".error")
      );
    }
  };
  document.addEventListener("input", update);
  update();
});
