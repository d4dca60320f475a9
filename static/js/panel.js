// The incident details panel of the queue: selecting a row (a click on it outside its
// links and controls, or Enter on it) shows the incident beside the list without leaving
// the queue. The row's title link still opens the incident page.
(function () {
  "use strict";

  const panel = () => document.getElementById("incident-panel");
  let selected = null; // The number of the incident the panel shows.

  function markSelected() {
    document.querySelectorAll("tr[data-panel-url]").forEach((row) => {
      const on = selected !== null && row.id === `incident-row-${selected}`;
      row.classList.toggle("selected", on);
      if (on) row.setAttribute("aria-current", "true");
      else row.removeAttribute("aria-current");
    });
  }

  function open(row) {
    const aside = panel();
    if (!aside) return;
    selected = row.id.replace("incident-row-", "");
    markSelected();
    htmx.ajax("GET", row.dataset.panelUrl, { target: aside, swap: "innerHTML" }).then(() => {
      aside.hidden = false;
      aside.closest(".queue-layout")?.classList.add("with-panel");
      document.getElementById("incident-panel-title")?.focus();
    });
  }

  function close() {
    const aside = panel();
    if (!aside) return;
    const row = selected !== null ? document.getElementById(`incident-row-${selected}`) : null;
    aside.hidden = true;
    aside.replaceChildren();
    aside.closest(".queue-layout")?.classList.remove("with-panel");
    selected = null;
    markSelected();
    row?.focus();
  }

  document.addEventListener("click", (event) => {
    if (event.target.closest("[data-panel-close]")) {
      event.preventDefault();
      close();
      return;
    }
    const row = event.target.closest("tr[data-panel-url]");
    // Links, buttons and checkboxes in the row keep their own meaning.
    if (!row || event.target.closest("a, button, input, label, select, textarea")) return;
    open(row);
  });

  document.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && event.target.matches("tr[data-panel-url]")) {
      event.preventDefault();
      open(event.target);
    } else if (event.key === "Escape" && panel()?.contains(event.target) && !document.querySelector("dialog[open]")) {
      close();
    }
  });

  // The list refreshed itself (a change, a new page): keep the selected row marked.
  htmx.onLoad((element) => {
    if (element.id === "incident-list") markSelected();
  });
})();
