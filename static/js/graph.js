// The investigation graph (/incidents/<n>/graph/): the incident's alerts and entities
// drawn with Cytoscape.js, the explorations an entity offers ("Related alerts", "Related
// incidents"), and a node list beside the canvas with the same nodes and actions, for the
// keyboard and screen readers. Adding and removing alerts open the entity timeline's
// dialogs (the flyout); the incident page then refreshes itself and the graph is drawn
// again where it was, so it grows in place. No inline scripts or styles: the strict CSP holds.
(function () {
  "use strict";

  const SEVERITY_COLOURS = { High: "#c62828", Medium: "#e66a00", Low: "#d8a600", Informational: "#5a7fa8" };
  // A shield for alerts (Cytoscape polygon points, -1…1).
  const SHIELD = "-1 -0.72 0 -1 1 -0.72 1 0.12 0.55 0.68 0 1 -0.55 0.68 -1 0.12";
  // Above this many nodes the force-directed layout would keep the tab busy: rings instead.
  const FORCE_LAYOUT_MAX = 120;
  const LABEL_MAX = 24;

  // What a graph keeps while the incident page refreshes around it (after an add or a
  // remove), by incident number: positions, the view, explorations, selection, filters.
  const memory = new Map();

  let graph = null; // The graph on the page now.

  // --- small helpers ------------------------------------------------------------

  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    Object.entries(attributes || {}).forEach(([name, value]) => {
      if (value === null || value === undefined || value === false) return;
      if (name === "className") node.className = value;
      else if (name === "text") node.textContent = value;
      else node.setAttribute(name, value === true ? "" : value);
    });
    children.flat(Infinity).forEach((child) => {
      if (child !== null && child !== undefined && child !== false) node.append(child);
    });
    return node;
  }

  const short = (text) => (text.length > LABEL_MAX ? text.slice(0, LABEL_MAX - 1) + "…" : text);
  const when = (iso) => iso.slice(0, 16).replace("T", " ");
  const fill = (pattern, values) => pattern.replace(/\{(\w+)\}/g, (_, name) => encodeURIComponent(values[name]));
  const alertNode = (id) => `a:${id}`;
  const entityNode = (id) => `e:${id}`;
  const domId = (nodeId) => "graph-node-" + nodeId.replace(":", "-");

  async function getJSON(url) {
    const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (!response.ok) {
      throw new Error(response.status === 404 ? "That is no longer there: reload the page." : `The server answered ${response.status}.`);
    }
    return response.json();
  }

  function notifyError(message) {
    const note = el("p", { className: "notice notice-error", role: "alert", text: message });
    document.getElementById("notifications").replaceChildren(note);
  }

  // --- the graph ------------------------------------------------------------------

  class Graph {
    constructor(root) {
      this.root = root;
      this.number = root.dataset.incident;
      this.next = root.dataset.next;
      this.canvas = root.querySelector("#graph-canvas");
      this.popover = root.querySelector("#graph-popover");
      this.status = root.querySelector("#graph-status");
      this.tree = root.querySelector("#graph-tree");
      this.details = root.querySelector("#graph-details");
      this.kinds = root.querySelector("[data-graph-kinds]");
      this.timeline = root.querySelector("#graph-timeline");
      const kept = memory.get(this.number) || {};
      this.positions = kept.positions || {};
      this.view = kept.view || null;
      this.related = kept.related || new Map(); // entity id → its "Related alerts" answer
      this.relatedIncidents = kept.relatedIncidents || new Map();
      this.hiddenKinds = kept.hiddenKinds || new Set();
      this.selected = kept.selected || null;
      this.focusAfter = kept.focusAfter || null;
      this.acting = null; // The node whose Add or Remove dialog is open.
      this.hideTimer = null;
      this.cy = cytoscape({
        container: this.canvas,
        style: this.style(),
        minZoom: 0.15,
        maxZoom: 3,
        wheelSensitivity: undefined,
        boxSelectionEnabled: false,
        autoungrabify: false,
      });
      // For the console and the browser tests: the Cytoscape instance behind the canvas.
      this.canvas.cytoscape = this.cy;
      this.listen();
      this.load();
    }

    style() {
      return [
        {
          selector: "node",
          style: {
            label: "data(short)",
            "font-size": 9,
            color: "#1b1f24",
            "text-valign": "bottom",
            "text-margin-y": 4,
            "text-background-color": "#ffffff",
            "text-background-opacity": 0.85,
            "text-background-padding": 1,
            "min-zoomed-font-size": 6,
          },
        },
        {
          selector: "node.alert",
          style: {
            shape: "polygon",
            "shape-polygon-points": SHIELD,
            width: 30,
            height: 34,
            "background-color": "data(colour)",
            "border-width": 1.5,
            "border-color": "#1b1f24",
          },
        },
        {
          selector: "node.related",
          style: { "background-opacity": 0.3, "border-style": "dashed", "border-color": "#7a8590", color: "#5c6670", label: "" },
        },
        // Related alerts come in dozens: their names show on hover and selection only.
        { selector: "node.related.hovered, node.related:selected", style: { label: "data(short)", "z-index": 10 } },
        {
          selector: "node.entity",
          style: {
            shape: "ellipse",
            width: 30,
            height: 30,
            "background-color": "#eef3f9",
            "background-image": "data(icon)",
            "background-width": "62%",
            "background-height": "62%",
            "border-width": 1.5,
            "border-color": "#1f3a5f",
          },
        },
        {
          selector: "edge",
          style: { width: 1.5, "line-color": "#8796a5", "curve-style": "straight" },
        },
        {
          selector: "edge.related",
          style: { "line-style": "dotted", "line-color": "#9aa5b1", width: 2 },
        },
        {
          selector: "node:selected",
          style: { "border-width": 4, "border-color": "#0b5cad", "border-style": "solid", "overlay-opacity": 0 },
        },
        { selector: ".hidden", style: { display: "none" } },
        { selector: "node.explored", style: { "border-width": 3 } },
      ];
    }

    // --- data ---------------------------------------------------------------------

    async load() {
      try {
        this.data = await getJSON(this.root.dataset.graphUrl);
        // Explorations kept from before a change are asked again: what they found may have
        // joined the incident since.
        const explored = [...this.related.keys()];
        const answers = await Promise.all(explored.map((id) => getJSON(fill(this.data.urls.relatedAlerts, { entity: id })).catch(() => null)));
        explored.forEach((id, i) => {
          if (answers[i]) this.related.set(id, answers[i]);
          else this.related.delete(id);
        });
      } catch (error) {
        this.say(`The graph could not be loaded: ${error.message}`);
        return;
      }
      performance.mark("graph-data"); // For scripts/bench_graph.py, as are the two below.
      await this.draw();
      performance.mark("graph-ready");
    }

    // Every node and edge the graph should show now: the incident's alerts and entities,
    // then the related alerts of each explored entity (greyed, on dotted edges).
    elements() {
      const nodes = new Map();
      const edges = new Map();
      const entities = new Map(this.data.entities.map((e) => [e.id, e]));
      this.alerts = new Map();
      this.data.entities.forEach((entity) => {
        nodes.set(entityNode(entity.id), {
          group: "nodes",
          classes: `entity kind-${entity.kind}`,
          data: {
            id: entityNode(entity.id),
            short: short(entity.label),
            label: entity.label,
            icon: entity.icon,
            kind: entity.kind,
          },
        });
      });
      const addAlert = (alert, related) => {
        const id = alertNode(alert.id);
        if (nodes.has(id)) return;
        this.alerts.set(alert.id, alert);
        nodes.set(id, {
          group: "nodes",
          classes: related ? "alert related" : "alert",
          data: { id, short: short(alert.name), label: alert.name, colour: SEVERITY_COLOURS[alert.severity] || "#5a7fa8" },
        });
        alert.entities
          .filter((entityId) => entities.has(entityId))
          .forEach((entityId) => {
            const edge = `${id}|${entityNode(entityId)}`;
            edges.set(edge, {
              group: "edges",
              classes: related ? "related" : "",
              data: { id: edge, source: id, target: entityNode(entityId) },
            });
          });
      };
      this.data.alerts.forEach((alert) => addAlert(alert, false));
      // An explored entity that left the incident takes its exploration with it.
      [...this.related.keys()].filter((id) => !entities.has(id)).forEach((id) => this.related.delete(id));
      this.related.forEach((answer) => answer.alerts.forEach((alert) => addAlert(alert, true)));
      return { nodes, edges, entities };
    }

    // The canvas first; the list, details and timeline in a task of their own, so the tab
    // answers in between even for the largest incident.
    async draw() {
      delete this.root.dataset.ready;
      const { nodes, edges, entities } = this.elements();
      this.entities = entities;
      const cy = this.cy;
      const wanted = new Map([...nodes, ...edges]);
      const fresh = [];
      cy.batch(() => {
        cy.elements().forEach((element) => {
          if (!wanted.has(element.id())) cy.remove(element);
        });
        wanted.forEach((definition, id) => {
          const existing = cy.getElementById(id);
          if (existing.nonempty()) {
            existing.classes(definition.classes);
            existing.data(definition.data);
          } else {
            const position = this.positions[id];
            const added = cy.add(position ? { ...definition, position: { ...position } } : definition);
            if (!position && added.isNode()) fresh.push(added);
          }
        });
        cy.nodes(".entity").forEach((node) => node.toggleClass("explored", this.related.has(Number(node.id().slice(2)))));
      });
      if (fresh.length === cy.nodes().length) {
        this.layout(true);
      } else {
        this.placeNear(fresh);
        if (this.view) {
          cy.viewport(this.view);
          this.view = null;
        }
        // What just joined must be in sight: widen the view when it landed outside.
        if (fresh.some((node) => !this.inView(node))) this.fitAll();
      }
      this.applyKinds();
      const selected = this.selected && cy.getElementById(this.selected);
      if (selected && selected.nonempty()) selected.select();
      else this.selected = null;
      this.say(this.data.alerts.length ? "" : `Incident #${this.number} has no alerts: there is nothing to draw.`);
      await new Promise((resolve) => setTimeout(resolve, 0));
      if (this.cy.destroyed()) return; // The page moved on meanwhile.
      this.renderKinds();
      this.renderTree();
      this.renderDetails();
      this.renderTimeline();
      if (this.focusAfter) {
        this.focusInList(document.getElementById(this.focusAfter) || document.getElementById("graph-nodes-heading"));
        this.focusAfter = null;
      }
      this.root.dataset.ready = "true";
    }

    // Focus a control of the side pane without scrolling the page away from the graph.
    focusInList(target) {
      if (!target) return;
      target.focus({ preventScroll: true });
      const pane = this.root.querySelector(".graph-side");
      const top = target.getBoundingClientRect().top - pane.getBoundingClientRect().top + pane.scrollTop;
      pane.scrollTop = Math.max(0, top - pane.clientHeight / 3);
    }

    layout(fit) {
      const count = this.cy.nodes().length;
      const options =
        count <= FORCE_LAYOUT_MAX
          ? { name: "cose", animate: false, randomize: true, nodeRepulsion: () => 14000, idealEdgeLength: () => 90, numIter: 1500, padding: 30, fit }
          : {
              name: "concentric",
              animate: false,
              padding: 30,
              fit,
              minNodeSpacing: 8,
              concentric: (node) => (node.hasClass("alert") && !node.hasClass("related") ? 3 : node.hasClass("entity") ? 2 : 1),
              levelWidth: () => 1,
            };
      const started = performance.now();
      this.cy.layout(options).run();
      performance.measure("graph-layout", { start: started, end: performance.now() });
      // A handful of nodes would fill the canvas at full zoom: keep them at a readable size.
      if (fit) this.fitAll();
      this.remember();
    }

    // Everything visible in view; a handful of nodes stays at a readable size, not blown up.
    fitAll() {
      const visible = this.cy.elements(":visible");
      this.cy.fit(visible, 30);
      if (this.cy.zoom() > 1.25) {
        this.cy.zoom(1.25);
        this.cy.center(visible);
      }
      this.placePopover();
    }

    // New nodes (an alert's entities, related alerts) appear around the nodes they join,
    // away from the middle of the picture, so nothing else moves.
    placeNear(nodes) {
      if (!nodes.length) return;
      const centre = this.cy.nodes().difference(this.cy.collection(nodes)).boundingBox();
      const middle = { x: (centre.x1 + centre.x2) / 2, y: (centre.y1 + centre.y2) / 2 };
      const around = new Map();
      nodes.forEach((node) => {
        const anchors = node.neighborhood("node").filter((n) => !nodes.includes(n));
        // Related alerts gather around the entity that was explored, not another they share.
        const hinted = anchors.filter((n) => n.id() === this.anchorHint);
        const anchor = hinted.nonempty() ? hinted[0] : anchors.nonempty() ? anchors[0] : null;
        const key = anchor ? anchor.id() : "";
        around.set(key, [...(around.get(key) || []), node]);
      });
      around.forEach((group, key) => {
        const anchor = key ? this.cy.getElementById(key).position() : middle;
        const away = Math.atan2(anchor.y - middle.y, anchor.x - middle.x) || 0;
        // Rings of a fan that faces away from the picture: many related alerts stay compact.
        let ring = 0;
        let placed = 0;
        while (placed < group.length) {
          const radius = 100 + 42 * ring;
          const spread = Math.min(Math.PI * 1.3, 0.5 * group.length);
          const room = Math.max(1, Math.floor((spread * radius) / 40));
          const row = group.slice(placed, placed + room);
          row.forEach((node, i) => {
            const angle = away + (row.length > 1 ? -spread / 2 + (spread * i) / (row.length - 1) : 0);
            node.position({ x: anchor.x + radius * Math.cos(angle), y: anchor.y + radius * Math.sin(angle) });
          });
          placed += row.length;
          ring += 1;
        }
      });
      this.remember();
    }

    remember() {
      this.cy.nodes().forEach((node) => {
        this.positions[node.id()] = { ...node.position() };
      });
    }

    // Called before the incident page swaps the graph out: keep what the analyst had.
    save() {
      this.remember();
      memory.set(this.number, {
        positions: this.positions,
        view: { zoom: this.cy.zoom(), pan: { ...this.cy.pan() } },
        related: this.related,
        relatedIncidents: this.relatedIncidents,
        hiddenKinds: this.hiddenKinds,
        selected: this.selected,
        focusAfter: this.focusAfter,
      });
      clearTimeout(this.hideTimer);
      this.cy.destroy();
    }

    say(message) {
      this.status.textContent = message;
      this.status.hidden = !message;
    }

    // --- interaction on the canvas ---------------------------------------------------

    listen() {
      const cy = this.cy;
      cy.on("tap", "node", (event) => this.select(event.target.id(), false));
      cy.on("tap", (event) => {
        if (event.target === cy) this.select(null, false);
      });
      cy.on("mouseover", "node", (event) => {
        clearTimeout(this.hideTimer);
        cy.nodes(".hovered").removeClass("hovered");
        event.target.addClass("hovered");
        this.showPopover(event.target.id());
      });
      cy.on("mouseout", "node", (event) => {
        event.target.removeClass("hovered");
        this.hidePopoverSoon();
      });
      cy.on("viewport", () => this.placePopover());
      cy.on("dragfree", "node", () => this.remember());
      this.popover.addEventListener("mouseenter", () => clearTimeout(this.hideTimer));
      this.popover.addEventListener("mouseleave", () => this.hidePopoverSoon());
      this.root.addEventListener("click", (event) => this.onClick(event));
      this.root.addEventListener("keydown", (event) => {
        if (event.key === "Escape" && !this.popover.hidden) this.popover.hidden = true;
      });
      this.root.addEventListener("change", (event) => {
        if (!event.target.matches("[data-kind]")) return;
        if (event.target.checked) this.hiddenKinds.delete(event.target.dataset.kind);
        else this.hiddenKinds.add(event.target.dataset.kind);
        this.applyKinds();
      });
    }

    onClick(event) {
      const button = event.target.closest("button[data-action], button[data-graph-zoom], button[data-graph-fit], button[data-graph-layout]");
      if (!button) return;
      if (button.dataset.graphZoom) {
        const zoom = this.cy.zoom() * Number(button.dataset.graphZoom);
        this.cy.zoom({ level: zoom, renderedPosition: { x: this.cy.width() / 2, y: this.cy.height() / 2 } });
        return;
      }
      if (button.hasAttribute("data-graph-fit")) {
        this.fitAll();
        return;
      }
      if (button.hasAttribute("data-graph-layout")) {
        this.layout(true);
        this.placePopover();
        return;
      }
      const node = button.dataset.node;
      const action = button.dataset.action;
      if (action === "select") this.select(node, true);
      else if (action === "related-alerts") this.toggleRelated(Number(node.slice(2)), button);
      else if (action === "related-incidents") this.showRelatedIncidents(Number(node.slice(2)));
      else if (action === "add" || action === "remove") this.openDialog(action, node.slice(2));
    }

    select(id, fromList) {
      this.cy.$(":selected").unselect();
      this.selected = id;
      if (id) {
        const node = this.cy.getElementById(id);
        node.select();
        if (fromList && !this.inView(node)) this.cy.animate({ center: { eles: node }, duration: 200 });
        this.showPopover(id);
      } else {
        this.popover.hidden = true;
      }
      this.tree.querySelectorAll(".node-button[aria-pressed='true']").forEach((b) => b.setAttribute("aria-pressed", "false"));
      if (id) this.tree.querySelectorAll(`.node-button[data-node='${CSS.escape(id)}']`).forEach((b) => b.setAttribute("aria-pressed", "true"));
      this.renderDetails();
    }

    inView(node) {
      const box = node.renderedBoundingBox();
      return box.x1 >= 0 && box.y1 >= 0 && box.x2 <= this.cy.width() && box.y2 <= this.cy.height();
    }

    // --- the popover: a node's actions beside it ---------------------------------------

    showPopover(id) {
      const node = this.cy.getElementById(id);
      if (node.empty()) return;
      this.popoverNode = id;
      this.popover.replaceChildren(el("p", { className: "popover-title", text: node.data("label") }), ...this.actions(id, "popover"));
      this.popover.hidden = false;
      this.placePopover();
    }

    placePopover() {
      if (this.popover.hidden || !this.popoverNode) return;
      const node = this.cy.getElementById(this.popoverNode);
      if (node.empty() || !node.visible()) {
        this.popover.hidden = true;
        return;
      }
      const box = node.renderedBoundingBox({ includeLabels: false });
      const left = Math.min(box.x2 + 8, this.cy.width() - this.popover.offsetWidth - 4);
      this.popover.style.left = `${Math.max(4, left)}px`;
      this.popover.style.top = `${Math.max(4, box.y1)}px`;
    }

    hidePopoverSoon() {
      clearTimeout(this.hideTimer);
      this.hideTimer = setTimeout(() => {
        // Back to the selected node's actions, if a node is selected.
        if (this.selected) this.showPopover(this.selected);
        else this.popover.hidden = true;
      }, 400);
    }

    // The buttons a node offers, the same in the popover and in the node list.
    actions(id, where) {
      const buttons = [];
      const describedBy = where === "list" ? domId(id) : null;
      if (id.startsWith("e:")) {
        const entityId = Number(id.slice(2));
        const explored = this.related.has(entityId);
        buttons.push(
          el("button", { type: "button", "data-action": "related-alerts", "data-node": id, "aria-expanded": String(explored), "aria-describedby": describedBy, text: "Related alerts" }),
          el("button", { type: "button", "data-action": "related-incidents", "data-node": id, "aria-describedby": describedBy, text: "Related incidents" }),
          el("a", { href: fill(this.data.urls.timeline, { entity: entityId }), "aria-describedby": describedBy, text: "Timeline" }),
        );
        return buttons;
      }
      const alert = this.alerts.get(id.slice(2));
      if (!alert) return buttons;
      if (this.data.canAct && alert.inIncident && alert.removeRefusal) {
        const reason = `${domId(id)}-${where}-refusal`;
        buttons.push(
          el("button", { type: "button", disabled: true, "aria-describedby": reason, text: "Remove alert" }),
          el("span", { id: reason, className: "refusal", text: alert.removeRefusal }),
        );
      } else if (this.data.canAct && alert.inIncident) {
        buttons.push(el("button", { type: "button", "data-action": "remove", "data-node": id, "aria-describedby": describedBy, text: "Remove alert" }));
      } else if (this.data.canAct) {
        buttons.push(el("button", { type: "button", className: "primary", "data-action": "add", "data-node": id, "aria-describedby": describedBy, text: "Add alert to incident" }));
      }
      if (where === "popover") buttons.push(el("button", { type: "button", "data-action": "select", "data-node": id, text: "Details" }));
      return buttons;
    }

    // --- explorations --------------------------------------------------------------

    async toggleRelated(entityId, button) {
      if (this.related.has(entityId)) {
        this.related.delete(entityId);
        await this.draw();
        return;
      }
      button.disabled = true;
      try {
        const answer = await getJSON(fill(this.data.urls.relatedAlerts, { entity: entityId }));
        this.related.set(entityId, answer);
      } catch (error) {
        notifyError(`Related alerts could not be loaded: ${error.message}`);
        button.disabled = false;
        return;
      }
      this.focusAfter = `graph-related-${entityId}-summary`;
      this.selected = entityNode(entityId);
      this.anchorHint = entityNode(entityId);
      const drawing = this.draw();
      this.anchorHint = null; // Used by the synchronous part of draw() only.
      // The related alerts gather beside the entity, where its popover was: out of their way.
      this.popover.hidden = true;
      await drawing;
    }

    async showRelatedIncidents(entityId) {
      if (!this.relatedIncidents.has(entityId)) {
        try {
          this.relatedIncidents.set(entityId, await getJSON(fill(this.data.urls.relatedIncidents, { entity: entityId })));
        } catch (error) {
          notifyError(`Related incidents could not be loaded: ${error.message}`);
          return;
        }
      }
      this.select(entityNode(entityId), true);
      const heading = document.getElementById("graph-related-incidents");
      heading?.focus({ preventScroll: true });
      heading?.scrollIntoView({ block: "nearest" });
    }

    // "Add alert to incident" and "Remove alert" open the entity timeline's dialogs; the
    // incident page refreshes itself when one succeeds, and the graph is drawn again.
    openDialog(action, alertId) {
      this.acting = alertNode(alertId);
      const pattern = action === "add" ? this.data.urls.addAlert : this.data.urls.removeAlert;
      const url = `${fill(pattern, { alert: alertId })}?next=${encodeURIComponent(this.next)}`;
      htmx.ajax("GET", url, { target: "#flyout-body", swap: "innerHTML" });
    }

    // --- the entity-kind filter ------------------------------------------------------

    renderKinds() {
      const counts = new Map();
      this.data.entities.forEach((e) => {
        const [label, icon, n] = counts.get(e.kind) || [e.kindLabel, e.icon, 0];
        counts.set(e.kind, [label, icon, n + 1]);
      });
      const boxes = [...counts].map(([kind, [label, icon, n]]) =>
        el(
          "label",
          { className: "kind-toggle" },
          el("input", { type: "checkbox", "data-kind": kind, checked: !this.hiddenKinds.has(kind) }),
          el("img", { src: icon, alt: "", width: "16", height: "16" }),
          ` ${label} `,
          el("span", { className: "badge", text: String(n) }),
        ),
      );
      this.kinds.replaceChildren(el("legend", { text: "Show" }), ...boxes);
      this.kinds.hidden = boxes.length === 0;
    }

    applyKinds() {
      this.cy.batch(() => {
        this.cy.nodes(".entity").forEach((node) => node.toggleClass("hidden", this.hiddenKinds.has(node.data("kind"))));
      });
      this.tree.querySelectorAll("li[data-kind]").forEach((item) => {
        item.hidden = this.hiddenKinds.has(item.dataset.kind);
      });
      this.placePopover();
    }

    // --- the node list ----------------------------------------------------------------

    renderTree() {
      const members = this.data.alerts;
      const alertItems = members.map((alert) => this.alertItem(alert, alertNode(alert.id)));
      const entityItems = this.data.entities.map((entity) => this.entityItem(entity));
      this.tree.replaceChildren(
        el("h3", { id: "graph-alerts-heading", text: `Alerts in this incident (${members.length})` }),
        el("ul", { className: "node-list", "aria-labelledby": "graph-alerts-heading" }, alertItems.length ? alertItems : el("li", { className: "empty", text: "No alerts." })),
        el("h3", { id: "graph-entities-heading", text: `Entities (${this.data.entities.length})` }),
        el("ul", { className: "node-list", "aria-labelledby": "graph-entities-heading" }, entityItems.length ? entityItems : el("li", { className: "empty", text: "No entities." })),
      );
      this.applyKinds();
    }

    nodeButton(id, buttonId, content, title) {
      return el("button", { type: "button", className: "node-button", id: buttonId, "data-action": "select", "data-node": id, "aria-pressed": String(id === this.selected), title }, content);
    }

    alertItem(alert, id, buttonId) {
      const severity = el("span", { className: `sev sev-${alert.severity.toLowerCase()}`, text: alert.severity });
      const where = alert.inIncident ? "" : el("span", { className: "visually-hidden", text: " Not in this incident." });
      const button = this.nodeButton(id, buttonId || domId(id), [severity, " ", el("span", { className: "node-name", text: alert.name }), " ", el("time", { datetime: alert.time, className: "muted", text: when(alert.time) }), where], alert.name);
      return el("li", { className: `node node-alert${alert.inIncident ? "" : " node-related"}` }, button, el("span", { className: "node-actions" }, this.actions(id, "list")));
    }

    entityItem(entity) {
      const id = entityNode(entity.id);
      const icon = el("img", { src: entity.icon, alt: "", width: "16", height: "16" });
      const content = [icon, " ", el("span", { className: "kind", text: entity.kindLabel }), " ", el("span", { className: "node-name", text: entity.label })];
      const item = el("li", { className: "node node-entity", "data-kind": entity.kind }, this.nodeButton(id, domId(id), content, entity.identifier), el("span", { className: "node-actions" }, this.actions(id, "list")));
      const answer = this.related.get(entity.id);
      if (answer) {
        // An alert found earlier that has since joined the incident is listed there instead.
        const shown = answer.alerts.filter((alert) => !this.alerts.get(alert.id).inIncident);
        item.append(
          el(
            "div",
            { className: "related-alerts", id: `graph-related-${entity.id}` },
            el("p", { className: "help", id: `graph-related-${entity.id}-summary`, tabindex: "-1", text: answer.summary }),
            el("ul", { className: "node-list", "aria-label": `Related alerts of ${entity.label}` }, shown.map((alert) => this.alertItem(alert, alertNode(alert.id), `graph-node-r${entity.id}-${alert.id}`))),
          ),
        );
      }
      return item;
    }

    // --- the details pane -----------------------------------------------------------

    renderDetails() {
      const id = this.selected;
      const heading = el("h2", { id: "graph-details-heading", text: "Details" });
      if (!id) {
        this.details.replaceChildren(heading, el("p", { className: "muted", text: "Select a node in the graph or in the list below to see its details and what you can do with it." }));
        return;
      }
      if (id.startsWith("e:")) this.details.replaceChildren(heading, ...this.entityDetails(this.entities.get(Number(id.slice(2)))));
      else this.details.replaceChildren(heading, ...this.alertDetails(this.alerts.get(id.slice(2))));
    }

    entityDetails(entity) {
      if (!entity) return [];
      const rows = [
        ["Kind", entity.kindLabel],
        ["Identifier", el("code", { text: entity.identifier })],
        ...entity.properties,
        ["In this incident", `${entity.alerts} alert${entity.alerts === 1 ? "" : "s"}`],
        ["Open incidents", `in ${entity.otherOpenIncidentsLabel} other open incident${entity.otherOpenIncidents === 1 ? "" : "s"}`],
      ];
      const parts = [el("p", { className: "details-title", text: entity.label }), this.definitions(rows), el("p", {}, el("a", { href: fill(this.data.urls.timeline, { entity: entity.id }), text: "Timeline" }), el("span", { className: "muted", text: " — every alert with this entity, on the Entities tab" }))];
      const answer = this.related.get(entity.id);
      if (answer) parts.push(el("p", { className: "help", text: answer.summary + (answer.more ? " The Timeline lists them all." : "") }));
      const incidents = this.relatedIncidents.get(entity.id);
      if (incidents) {
        const items = incidents.incidents.map((i) =>
          el("li", {}, el("a", { href: fill(this.data.urls.incident, { number: i.number }), text: `#${i.number} ${i.title}` }), " ", el("span", { className: `status status-${i.status.toLowerCase()}`, text: i.status }), el("span", { className: "muted", text: ` ${i.alertCount} alert${i.alertCount === 1 ? "" : "s"}` })),
        );
        parts.push(
          el("h3", { id: "graph-related-incidents", tabindex: "-1", text: "Related incidents" }),
          el("p", { className: "help", text: incidents.summary }),
          el("ul", { className: "plain", "aria-labelledby": "graph-related-incidents" }, items.length ? items : el("li", { className: "muted", text: "No other incident has this entity." })),
        );
      }
      return parts;
    }

    alertDetails(alert) {
      if (!alert) return [];
      const incidents = alert.incidents.map((i, n) => [n ? ", " : "", el("a", { href: fill(this.data.urls.incident, { number: i.number }), title: `${i.title} (${i.status})`, text: `#${i.number}` })]);
      const rows = [
        ["Severity", el("span", { className: `sev sev-${alert.severity.toLowerCase()}`, text: alert.severity })],
        ["Product", alert.product || "—"],
        ["Provider", alert.provider || "—"],
        ["Time", el("time", { datetime: alert.time, text: when(alert.time) })],
        ["Tactics", alert.tactics.length ? alert.tactics.join(", ") : "—"],
        ["Incidents", incidents.length ? el("span", {}, incidents.flat()) : "none"],
      ];
      if (alert.why) rows.push(["Why it is here", alert.why]);
      return [
        el("p", { className: "details-title", text: alert.name }),
        el("p", { className: alert.inIncident ? "muted" : "note-outside", text: alert.inIncident ? `In incident #${this.number}.` : `Not in incident #${this.number}: a related alert.` }),
        this.definitions(rows),
        el("p", {}, el("a", { href: fill(this.data.urls.alert, { alert: alert.id }), text: "Open alert" })),
      ];
    }

    definitions(rows) {
      return el("dl", { className: "details" }, rows.map(([name, value]) => [el("dt", { text: name }), el("dd", {}, value)]));
    }

    // --- the timeline under the graph ------------------------------------------------

    renderTimeline() {
      const alerts = [...this.alerts.values()];
      const strip = this.timeline;
      strip.replaceChildren();
      if (!alerts.length) return;
      const times = alerts.map((a) => Date.parse(a.time));
      const first = Math.min(...times);
      const last = Math.max(...times);
      const width = Math.max(strip.clientWidth, 300);
      const height = 44;
      const pad = 10;
      const x = (t) => (last === first ? width / 2 : pad + ((t - first) / (last - first)) * (width - 2 * pad));
      const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
      svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
      svg.setAttribute("width", String(width));
      svg.setAttribute("height", String(height));
      svg.setAttribute("role", "img");
      const members = alerts.filter((a) => a.inIncident).length;
      svg.setAttribute("aria-label", `${members} alert${members === 1 ? "" : "s"} of this incident${alerts.length > members ? ` and ${alerts.length - members} related` : ""}, from ${when(new Date(first).toISOString())} to ${when(new Date(last).toISOString())}`);
      const axis = document.createElementNS(svg.namespaceURI, "line");
      [["x1", pad], ["x2", width - pad], ["y1", 22], ["y2", 22], ["class", "axis"]].forEach(([n, v]) => axis.setAttribute(n, String(v)));
      svg.append(axis);
      alerts
        .sort((a, b) => Number(b.inIncident) - Number(a.inIncident))
        .forEach((alert) => {
          const dot = document.createElementNS(svg.namespaceURI, "circle");
          dot.setAttribute("cx", String(x(Date.parse(alert.time))));
          dot.setAttribute("cy", "22");
          dot.setAttribute("r", alert.inIncident ? "6" : "5");
          dot.setAttribute("class", `dot sev-${alert.severity.toLowerCase()}${alert.inIncident ? "" : " outside"}${alertNode(alert.id) === this.selected ? " chosen" : ""}`);
          dot.dataset.node = alertNode(alert.id);
          const title = document.createElementNS(svg.namespaceURI, "title");
          title.textContent = `${alert.name} · ${when(alert.time)}${alert.inIncident ? "" : " · not in this incident"}`;
          dot.append(title);
          svg.append(dot);
        });
      svg.addEventListener("click", (event) => {
        const node = event.target.closest("circle")?.dataset.node;
        if (node) this.select(node, true);
      });
      strip.append(
        svg,
        el("p", { className: "timeline-ends" }, el("time", { datetime: new Date(first).toISOString(), text: when(new Date(first).toISOString()) }), el("time", { datetime: new Date(last).toISOString(), text: when(new Date(last).toISOString()) })),
      );
    }
  }

  // --- wiring into the page ------------------------------------------------------------

  htmx.onLoad((element) => {
    const root = element.id === "graph" ? element : element.querySelector?.("#graph");
    if (root && (!graph || graph.root !== root)) graph = new Graph(root);
  });

  // The incident page swaps itself out when it refreshes: keep the graph's state first.
  document.addEventListener("htmx:beforeCleanupElement", (event) => {
    if (graph && event.target === graph.root) {
      graph.save();
      graph = null;
    }
  });

  // After an add or a remove from the graph, the list focuses the alert the analyst acted on.
  // Until the refreshed page has drawn it again, the graph is not ready (tests wait on it).
  document.body.addEventListener("incidentChanged", () => {
    if (!graph) return;
    if (graph.acting) graph.focusAfter = domId(graph.acting);
    delete graph.root.dataset.ready;
  });
  document.body.addEventListener("changeUndone", () => {
    if (graph) delete graph.root.dataset.ready;
  });

  window.addEventListener("resize", () => {
    if (graph && graph.data) graph.renderTimeline();
  });
})();
