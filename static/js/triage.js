// Triage's behaviour on top of htmx: selection and toolbar, expandable rows, the flyout
// <dialog>, the incident typeahead, "More actions" menus and notifications. No inline
// scripts anywhere, so a strict Content-Security-Policy holds.
(function () {
  "use strict";

  const flyout = () => document.getElementById("flyout");
  let opener = null; // The control that opened the flyout gets focus back when it closes.
  let reExpand = []; // Rows expanded before a list refreshed itself, to expand again.
  let pendingFocus = null; // The id to focus once the incident page has refreshed itself.

  // --- filter bars ----------------------------------------------------------------

  // Back to a queue: the browser puts back the filters as they were last edited, which
  // may not be the ones the list was filtered by (choose High, filter, press Back: the
  // unfiltered list said High). Each filter bar shows what its page was served with.
  // Only then: on a page just opened, a choice made before "pageshow" would be lost.
  window.addEventListener("pageshow", (event) => {
    const [entry] = performance.getEntriesByType("navigation");
    if (!event.persisted && entry?.type !== "back_forward") return;
    document.querySelectorAll("form.filters").forEach((form) => form.reset());
  });

  // --- selection and toolbar ----------------------------------------------------

  function syncSelection(scope) {
    const boxes = [...scope.querySelectorAll("input[data-select]")];
    const checked = boxes.filter((box) => box.checked).length;
    const action = scope.querySelector("[data-selection-action]");
    if (action) action.disabled = checked === 0;
    const count = scope.querySelector("[data-selection-count]");
    if (count) count.textContent = checked ? `${checked} selected` : "Select alerts to link them";
    const all = scope.querySelector("input[data-select-all]");
    if (all) {
      all.checked = boxes.length > 0 && checked === boxes.length;
      all.indeterminate = checked > 0 && checked < boxes.length;
      all.disabled = boxes.length === 0;
    }
  }

  document.addEventListener("change", (event) => {
    const scope = event.target.closest("[data-selection]");
    if (!scope) return;
    if (event.target.matches("input[data-select-all]")) {
      scope.querySelectorAll("input[data-select]").forEach((box) => {
        box.checked = event.target.checked;
      });
    }
    syncSelection(scope);
  });

  // --- incidents selected in the queue ("Merge incidents") ------------------------

  function syncIncidentSelection(scope) {
    const checked = scope.querySelectorAll("input[data-select-incident]:checked").length;
    const action = scope.querySelector("[data-merge-action]");
    if (action) action.disabled = checked < 2;
    // Assign owner, change status, close, add label: for one selected incident or more.
    scope.querySelectorAll("[data-bulk-action]").forEach((button) => {
      button.disabled = checked === 0;
    });
    const count = scope.querySelector("[data-merge-count]");
    if (count) {
      count.textContent =
        checked === 0 ? "Select incidents to act on them, two or more to merge them" : checked === 1 ? "1 selected" : `${checked} selected`;
    }
  }

  document.addEventListener("change", (event) => {
    if (!event.target.matches("input[data-select-incident]")) return;
    const scope = event.target.closest("[data-incident-selection]");
    if (scope) syncIncidentSelection(scope);
  });

  // --- expandable incident rows -------------------------------------------------

  function expand(link) {
    const url = link.dataset.expandUrl;
    return htmx.ajax("GET", url, { target: "#" + link.dataset.expandRow, swap: "afterend" }).then(() => {
      link.setAttribute("aria-expanded", "true");
    });
  }

  function collapse(link) {
    document.getElementById(link.getAttribute("aria-controls"))?.remove();
    link.setAttribute("aria-expanded", "false");
  }

  document.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-expand-url]");
    if (!link) return;
    event.preventDefault();
    if (link.getAttribute("aria-expanded") === "true") collapse(link);
    else expand(link);
  });

  // Links that act as buttons answer the space bar too.
  document.addEventListener("keydown", (event) => {
    if (event.key === " " && event.target.matches("a[role='button']")) {
      event.preventDefault();
      event.target.click();
    }
  });

  // --- the flyout ---------------------------------------------------------------

  function focusPanel(panel) {
    const target =
      panel.querySelector("[role='alert']") ||
      panel.querySelector("[data-initial-focus]") ||
      panel.querySelector("input[name='target']:checked") ||
      panel.querySelector("input[name='target']") ||
      panel.querySelector(".panel-body :is(input, select, textarea):not([type='hidden'])");
    if (!target) return;
    if (target.matches("[role='alert']")) target.setAttribute("tabindex", "-1");
    target.focus();
  }

  function openFlyout(panel) {
    const dialog = flyout();
    if (!dialog.open) {
      opener = document.activeElement;
      dialog.showModal();
    }
    focusPanel(panel);
  }

  document.addEventListener("click", (event) => {
    const close = event.target.closest("[data-dialog-close]");
    const dialog = close?.closest("dialog");
    if (!dialog) return;
    event.preventDefault();
    dialog.close();
  });

  document.addEventListener(
    "close",
    (event) => {
      if (event.target !== flyout()) return;
      document.getElementById("flyout-body").replaceChildren();
      if (opener && opener.isConnected) opener.focus();
      opener = null;
    },
    true,
  );

  // --- the incident typeahead ("Incident name or ID") -----------------------------

  function listboxOf(input) {
    return document.getElementById(input.getAttribute("aria-controls"));
  }

  function options(listbox) {
    return [...listbox.querySelectorAll("[role='option']:not([aria-disabled='true'])")];
  }

  function closeListbox(input) {
    listboxOf(input).replaceChildren();
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  function activate(input, option) {
    const listbox = listboxOf(input);
    listbox.querySelectorAll("[aria-selected='true']").forEach((o) => o.setAttribute("aria-selected", "false"));
    option.setAttribute("aria-selected", "true");
    input.setAttribute("aria-activedescendant", option.id);
    option.scrollIntoView({ block: "nearest" });
  }

  function choose(input, option) {
    input.value = option.dataset.value;
    input.dataset.chosen = input.value;
    closeListbox(input);
    const existing = input.form?.querySelector("input[name='target'][value='existing']");
    if (existing) existing.checked = true;
    input.focus();
    // Panels that preview the chosen incident ("Merge incidents") refresh on change.
    input.dispatchEvent(new Event("change", { bubbles: true }));
  }

  document.addEventListener("keydown", (event) => {
    const input = event.target.closest("input[data-combobox]");
    if (!input) return;
    const found = options(listboxOf(input));
    const current = found.findIndex((o) => o.id === input.getAttribute("aria-activedescendant"));
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!found.length) return;
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      activate(input, found[(current + step + found.length) % found.length]);
    } else if (event.key === "Enter" && current >= 0) {
      event.preventDefault(); // Choosing an incident must not submit the panel.
      choose(input, found[current]);
    } else if (event.key === "Escape" && found.length) {
      event.preventDefault(); // Close the list, not the dialog.
      event.stopPropagation();
      closeListbox(input);
    }
  });

  // Keep focus in the field while an option is clicked.
  document.addEventListener("mousedown", (event) => {
    if (event.target.closest("[role='listbox'] [role='option']")) event.preventDefault();
  });

  document.addEventListener("click", (event) => {
    const option = event.target.closest("[role='listbox'] [role='option']:not([aria-disabled='true'])");
    if (!option) return;
    const input = document.querySelector(`[aria-controls='${option.parentElement.id}']`);
    if (input) choose(input, option);
  });

  document.addEventListener("input", (event) => {
    if (event.target.matches("input[data-combobox]")) delete event.target.dataset.chosen;
  });

  // choose() announced the choice already: the browser's own change on leaving the field
  // would ask the preview for the same incident again, racing Save.
  document.addEventListener(
    "change",
    (event) => {
      const input = event.target;
      if (event.isTrusted && input.matches("input[data-combobox]") && input.dataset.chosen === input.value) {
        event.stopPropagation();
      }
    },
    true,
  );

  document.addEventListener("focusout", (event) => {
    if (event.target.matches("input[data-combobox]")) closeListbox(event.target);
  });

  document.addEventListener("htmx:afterSwap", (event) => {
    // A swap restored from history names no target.
    const listbox = event.detail.target;
    if (!listbox || listbox.getAttribute("role") !== "listbox") return;
    const input = document.querySelector(`[aria-controls='${listbox.id}']`);
    if (!input) return;
    if (document.activeElement !== input || input.dataset.chosen === input.value) {
      closeListbox(input); // The answer came after the user left the field or made a choice.
      return;
    }
    // Keep the option the user had reached if the new answer still lists it.
    const kept = document.getElementById(input.getAttribute("aria-activedescendant"));
    if (kept && listbox.contains(kept)) activate(input, kept);
    else input.removeAttribute("aria-activedescendant");
    input.setAttribute("aria-expanded", listbox.children.length ? "true" : "false");
  });

  // --- "More actions" menus -----------------------------------------------------

  function menuOf(button) {
    return document.getElementById(button.getAttribute("aria-controls"));
  }

  function menuItems(menu) {
    return [...menu.querySelectorAll("[role='menuitem']:not([disabled])")];
  }

  function openMenu(button, last) {
    closeMenus();
    const menu = menuOf(button);
    menu.hidden = false;
    button.setAttribute("aria-expanded", "true");
    const items = menuItems(menu);
    items[last ? items.length - 1 : 0]?.focus();
  }

  function closeMenu(button, refocus) {
    if (!button) return; // The menu's button went with a refreshed fragment.
    const menu = menuOf(button);
    if (menu) menu.hidden = true;
    button.setAttribute("aria-expanded", "false");
    if (refocus) button.focus();
  }

  function closeMenus() {
    document.querySelectorAll("[aria-haspopup='menu'][aria-expanded='true']").forEach((b) => closeMenu(b, false));
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[aria-haspopup='menu']");
    if (button) {
      event.preventDefault(); // Without JavaScript the button is a link to a confirmation page.
      if (button.getAttribute("aria-expanded") === "true") closeMenu(button, true);
      else openMenu(button, false);
      return;
    }
    const item = event.target.closest("[role='menuitem']");
    const menu = item?.closest("[role='menu']");
    if (menu) {
      closeMenu(document.querySelector(`[aria-controls='${menu.id}']`), true);
      return;
    }
    closeMenus();
  });

  document.addEventListener("keydown", (event) => {
    const button = event.target.closest("[aria-haspopup='menu']");
    if (button && (event.key === "ArrowDown" || event.key === "ArrowUp")) {
      event.preventDefault();
      openMenu(button, event.key === "ArrowUp");
      return;
    }
    const menu = event.target.closest("[role='menu']");
    if (!menu) return;
    const menuButton = document.querySelector(`[aria-controls='${menu.id}']`);
    const items = menuItems(menu);
    const current = items.indexOf(event.target);
    const moves = { ArrowDown: current + 1, ArrowUp: current - 1, Home: 0, End: items.length - 1 };
    if (event.key in moves) {
      event.preventDefault();
      items[(moves[event.key] + items.length) % items.length].focus();
    } else if (event.key === "Escape") {
      event.preventDefault(); // Close the menu, not a dialog around it.
      event.stopPropagation();
      closeMenu(menuButton, true);
    } else if (event.key === "Tab") {
      closeMenu(menuButton, false);
    }
  });

  // --- notifications and refreshing lists ---------------------------------------

  function notify(message, url, linkText, kind, undo) {
    const note = document.createElement("p");
    note.className = "notice" + (kind ? ` notice-${kind}` : "");
    if (kind === "error") note.setAttribute("role", "alert");
    note.append(message);
    if (url) {
      const link = document.createElement("a");
      link.href = url;
      link.textContent = linkText;
      note.append(" ", link);
    }
    if (undo) {
      // Undo posts through htmx (the CSRF header comes from <body>); the answer is
      // a changeUndone or actionRefused event.
      const button = document.createElement("button");
      button.type = "button";
      button.className = "button-link undo";
      button.textContent = "Undo";
      button.setAttribute("hx-post", undo);
      button.setAttribute("hx-swap", "none");
      button.setAttribute("hx-disabled-elt", "this");
      note.append(" ", button);
    }
    document.getElementById("notifications").replaceChildren(note);
    if (undo) htmx.process(note);
  }

  document.body.addEventListener("alertsLinked", (event) => {
    const { message, url, number } = event.detail;
    reExpand = [...document.querySelectorAll("a[data-expand-url][aria-expanded='true']")].map(
      (link) => link.getAttribute("aria-controls"),
    );
    if (flyout().open) flyout().close();
    notify(message, url, `Open incident #${number}`, null, event.detail.undo);
  });

  document.body.addEventListener("incidentsMerged", (event) => {
    const { message, url, number, undo } = event.detail;
    if (flyout().open) flyout().close();
    notify(message, url, `Open incident #${number}`, null, undo);
  });

  // The queue's bulk actions: the list refreshes itself (it listens for the event).
  document.body.addEventListener("incidentsChanged", (event) => {
    if (flyout().open) flyout().close();
    notify(event.detail.message);
  });

  document.body.addEventListener("changeUndone", (event) => {
    if (flyout().open) flyout().close();
    notify(event.detail.message);
  });

  // A change on the incident page: the page refreshes itself (it listens for the event).
  document.body.addEventListener("incidentChanged", (event) => {
    pendingFocus = event.detail.focus || null;
    if (flyout().open) flyout().close();
    notify(event.detail.message, null, null, null, event.detail.undo);
  });

  document.body.addEventListener("actionRefused", (event) => {
    if (flyout().open) flyout().close();
    notify(event.detail.message, null, null, "error");
  });

  document.body.addEventListener("htmx:responseError", (event) => {
    const status = event.detail.xhr.status;
    const message =
      status === 403
        ? "Your role in this workspace does not allow this."
        : status === 404
          ? "That is no longer there: reload the page."
          : `Something went wrong (HTTP ${status}); nothing was changed.`;
    notify(message, null, null, "error");
  });

  htmx.onLoad((element) => {
    const root = element.nodeType === Node.ELEMENT_NODE ? element : document.body;
    const scopes = root.matches("[data-selection]") ? [root] : root.querySelectorAll("[data-selection]");
    scopes.forEach(syncSelection);
    const incidentScopes = root.matches("[data-incident-selection]")
      ? [root]
      : root.querySelectorAll("[data-incident-selection]");
    incidentScopes.forEach(syncIncidentSelection);
    if (root.matches("[data-link-panel], [data-dialog-panel]") && root.closest("dialog")) {
      openFlyout(root);
    }
    // A panel's preview refreshed: Save waits while it says the change would be refused.
    if (root.matches("[data-preview]")) {
      const save = root.closest("form")?.querySelector(".panel-foot button[type='submit']");
      if (save) save.disabled = !!root.querySelector("[data-refusal]");
    }
    if (root.matches("[data-refresh-list]") && pendingFocus) {
      document.getElementById(pendingFocus)?.focus();
      pendingFocus = null;
    }
    if (root.matches("[data-refresh-list]") && reExpand.length) {
      const again = reExpand;
      reExpand = [];
      again.forEach((id) => {
        const link = root.querySelector(`a[data-expand-url][aria-controls='${id}']`);
        if (link) expand(link);
      });
    }
  });
})();
