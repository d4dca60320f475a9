// Long comments and descriptions ({{ …|collapsible }}): folded to a few lines with a
// "Show more" button that unfolds them. Without this script they are shown whole.
(function () {
  "use strict";

  let count = 0;

  function fold(box) {
    if (box.dataset.folded) return; // Already set up (htmx calls onLoad for every swap).
    box.dataset.folded = "true";
    const body = box.querySelector(".long-text-body");
    const button = box.querySelector(".long-text-toggle");
    if (!body || !button) return;
    body.id ||= `long-text-${++count}`;
    button.setAttribute("aria-controls", body.id);
    body.classList.add("folded");
    // Shown text that fits needs no button; hidden text (a closed panel) cannot be measured.
    if (body.offsetParent !== null && body.scrollHeight <= body.clientHeight + 1) {
      body.classList.remove("folded");
      return;
    }
    button.hidden = false;
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest(".long-text-toggle");
    if (!button) return;
    const body = document.getElementById(button.getAttribute("aria-controls"));
    const expanded = button.getAttribute("aria-expanded") !== "true";
    body.classList.toggle("folded", !expanded);
    button.setAttribute("aria-expanded", String(expanded));
    button.textContent = expanded ? "Show less" : "Show more";
  });

  htmx.onLoad((element) => {
    const root = element.nodeType === Node.ELEMENT_NODE ? element : document.body;
    if (root.matches("[data-long-text]")) fold(root);
    root.querySelectorAll("[data-long-text]").forEach(fold);
  });
})();
