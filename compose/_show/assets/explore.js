// compose.explore: the viewer. It reads the trace from the JSON next to it, lays out what is
// visible with elkjs (layered, top to bottom, containers as compound nodes) and draws SVG itself.
// Every user-supplied string reaches the page through textContent or setAttribute, never as markup.
(function () {
  "use strict";
  const started = performance.now();
  const root = document.currentScript.parentElement;
  const data = JSON.parse(root.querySelector(".cx-data").textContent);
  const items = data.items;
  const LINE = 14, PAD_X = 8, PAD_Y = 5, TEXT_CHARS = 60;
  const FONT = "11px Helvetica, Arial, sans-serif";
  const elk = new ELK();
  const svg = root.querySelector(".cx-canvas");
  const SVG = svg.namespaceURI;  // from the page, so that this script holds no URL at all
  const scene = root.querySelector(".cx-scene");
  const details = root.querySelector(".cx-details");
  const search = root.querySelector(".cx-search");
  const found = root.querySelector(".cx-found");
  const measure = document.createElement("canvas").getContext("2d");

  // -- the tree: children, which groups are open

  items.forEach((item, index) => {
    item.index = index;
    item.children = [];
    item.group = item.kind === "container" || item.kind === "repeat";
  });
  items.forEach((item) => { if (item.parent >= 0) items[item.parent].children.push(item.index); });
  const open = items.map((item) => Boolean(item.open));
  const topLevel = items.filter((item) => item.parent < 0).map((item) => item.index);
  let matches = new Set();
  let selected = -1;

  function ancestors(index) {
    const found = [];
    for (let p = items[index].parent; p >= 0; p = items[p].parent) found.push(p);
    return found;
  }

  // The node that shows `index`: its outermost collapsed ancestor, or itself.
  function shownAs(index) {
    let shown = index;
    for (const p of ancestors(index)) if (!open[p]) shown = p;
    return shown;
  }

  // -- what a node says, and how big it is

  function textWidth(text, bold) {
    measure.font = (bold ? "bold " : "") + FONT;
    return measure.measureText(text).width;
  }

  function shapes(item) {
    const specs = item.kind === "output" ? item.in : item.out;
    return specs.length ? specs.join(", ") : "";
  }

  function short(text) {
    return text.length > TEXT_CHARS ? text.slice(0, TEXT_CHARS - 1) + "\u2026" : text;
  }

  // The lines of a node or a group's header: [{text, cls, bold}] runs per line.
  function lines(item, isOpen) {
    const head = [];
    if (item.group) head.push({ text: isOpen ? "\u2212 " : "+ ", cls: "cx-toggle", bold: true });
    // A very long name is cut in the drawing; the details panel shows it whole.
    if (item.kind === "op") return [[{ text: short(item.label), cls: "cx-cls" }]];
    head.push({ text: short(item.label), bold: true });
    if (item.kind !== "input" && item.kind !== "output") head.push({ text: " " + item.cls, cls: "cx-cls" });
    const result = [head];
    if (!item.reached) result.push([{ text: "not reached", cls: "cx-shape" }]);
    else if (!isOpen && shapes(item)) result.push([{ text: shapes(item), cls: "cx-shape" }]);
    for (const problem of item.problems) result.push([{ text: short(problem), cls: "cx-problem-text" }]);
    return result;
  }

  function linesWidth(result) {
    return Math.max(...result.map((line) => line.reduce((sum, run) => sum + textWidth(run.text, run.bold), 0)));
  }

  const sizes = new Map();
  function nodeSize(index) {
    if (!sizes.has(index)) {
      const item = items[index];
      const result = lines(item, false);
      const width = Math.ceil(linesWidth(result)) + 2 * PAD_X + (item.kind === "op" ? 10 : 0);
      const height = result.length * LINE + 2 * PAD_Y + (item.kind === "repeat" ? 4 : 0);
      sizes.set(index, { width: width, height: item.kind === "op" ? 22 : height });
    }
    return sizes.get(index);
  }


  // -- layout: every open group laid out on its own, its children as boxes, and cached by what
  // is open inside it. A thousand nodes are ~50 small graphs rather than one large compound
  // one (elkjs's INCLUDE_CHILDREN is superlinear in it), and expanding a container lays out only
  // it and the groups around it: everything else comes from the cache.

  const OPTIONS = {
    "elk.algorithm": "layered",
    "elk.direction": "DOWN",
    "elk.layered.considerModelOrder.strategy": "NODES_AND_EDGES",  // keep call order where free
    // Speed over polish: layers by longest path (network simplex costs more), one
    // crossing-minimisation pass, no greedy switch.
    "elk.layered.layering.strategy": "LONGEST_PATH",
    "elk.layered.thoroughness": "1",
    "elk.layered.crossingMinimization.greedySwitch.type": "OFF",
    "elk.layered.spacing.nodeNodeBetweenLayers": "22",
    "elk.spacing.nodeNode": "14",
    "elk.spacing.edgeNode": "10",
  };
  const ROOT_PADDING = "[top=12,left=12,bottom=12,right=12]";

  function isOpenGroup(index) {
    return items[index].group && open[index];
  }

  // Edges between what is shown: each end lifted to the node that shows it, one edge per pair,
  // dashed when any tensor behind it is inferred (as plot does).
  function shownEdges() {
    const shown = new Map();
    for (const [source, dest, exact] of data.edges) {
      const from = shownAs(source), to = shownAs(dest);
      if (from === to) continue;
      const key = from + ">" + to;
      shown.set(key, { from: from, to: to, exact: (shown.has(key) ? shown.get(key).exact : true) && exact });
    }
    return Array.from(shown.values());
  }

  // Where an edge is laid out: the innermost group holding both ends (-1: the model), and the
  // children of that group that hold each end.
  function lift(edge) {
    const up = (index) => [index].concat(ancestors(index));
    const fromChain = up(edge.from), toChain = up(edge.to);
    const toSet = new Set(toChain.concat([-1]));
    const common = fromChain.concat([-1]).find((g) => toSet.has(g) && g !== edge.from && g !== edge.to);
    const childOf = (chain) => chain[chain.indexOf(common) - 1 >= 0 ? chain.indexOf(common) - 1 : chain.length - 1];
    return { group: common, a: childOf(fromChain), b: childOf(toChain) };
  }

  // What decides a group's layout: its own index and, recursively, which groups are open inside.
  function stateKey(group) {
    const children = group < 0 ? topLevel : items[group].children;
    return group + "(" + children.filter(isOpenGroup).map(stateKey).join(",") + ")";
  }

  const cache = new Map();  // group -> {key, layout}

  function layoutGroup(group, pairs) {
    const key = stateKey(group);
    const cached = cache.get(group);
    if (cached && cached.key === key) return Promise.resolve(cached.layout);
    const children = group < 0 ? topLevel : items[group].children;
    return Promise.all(children.map((child) => isOpenGroup(child)
      ? layoutGroup(child, pairs).then((inner) => ({ width: inner.width, height: inner.height }))
      : Promise.resolve(nodeSize(child)))).then((sizes) => {
      const edges = Array.from((pairs.get(group) || new Map()).values());
      const graph = {
        id: "g" + group,
        layoutOptions: Object.assign({ "elk.padding": padding(group) }, OPTIONS),
        children: children.map((child, k) => Object.assign({ id: "n" + child }, sizes[k])),
        edges: edges.map((pair, k) => ({ id: "e" + k, sources: ["n" + pair.a], targets: ["n" + pair.b] })),
      };
      return layoutShape(graph).then((result) => {
        const layout = {
          width: result.width,
          height: result.height,
          children: result.children.map((child, k) => Object.assign({}, child, { id: "n" + children[k] })),
          routes: new Map(result.edges.map((edge, k) => [edges[k].a + ">" + edges[k].b, edge.sections || []])),
        };
        if (group >= 0) layout.width = Math.max(layout.width, Math.ceil(linesWidth(lines(items[group], true)) + 20));
        cache.set(group, { key: key, layout: layout });
        return layout;
      });
    });
  }

  // elkjs's result for a graph of this shape (box sizes, edges by position, padding): identical
  // blocks (24 transformer layers) are laid out once. Results are read, never changed.
  const layoutsByShape = new Map();
  function layoutShape(graph) {
    const position = new Map(graph.children.map((child, k) => [child.id, k]));
    const key = JSON.stringify([graph.layoutOptions["elk.padding"], graph.children.map((c) => [c.width, c.height]),
      graph.edges.map((e) => [position.get(e.sources[0]), position.get(e.targets[0])])]);
    if (!layoutsByShape.has(key)) layoutsByShape.set(key, elk.layout(graph));
    return layoutsByShape.get(key);
  }

  function padding(group) {
    if (group < 0) return ROOT_PADDING;
    return "[top=" + (lines(items[group], true).length * LINE + 8) + ",left=10,bottom=10,right=10]";
  }

  // The lifted pairs to lay out in each group: group -> (a>b -> {a, b}).
  function liftedPairs(edges) {
    const pairs = new Map();
    for (const edge of edges) {
      Object.assign(edge, lift(edge));
      if (!pairs.has(edge.group)) pairs.set(edge.group, new Map());
      pairs.get(edge.group).set(edge.a + ">" + edge.b, { a: edge.a, b: edge.b });
    }
    return pairs;
  }

  // -- drawing

  function svgElement(name, attributes, parent) {
    const element = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, value);
    if (parent) parent.appendChild(element);
    return element;
  }

  function writeLines(parent, result, x, y, anchor) {
    result.forEach((line, row) => {
      const text = svgElement("text", { x: x, y: y + row * LINE + 11, "text-anchor": anchor }, parent);
      for (const run of line) {
        const span = svgElement("tspan", {}, text);
        if (run.cls) span.setAttribute("class", run.cls);
        if (run.bold) span.setAttribute("font-weight", "bold");
        span.textContent = run.text;
      }
    });
  }

  function classes(item, base) {
    const names = [base, "cx-" + item.kind];
    if (!item.reached) names.push("cx-unreached");
    if (item.problems.length) names.push("cx-problems");
    if (matches.has(item.index)) names.push("cx-match");
    if (selected === item.index) names.push("cx-selected");
    return names.join(" ");
  }

  function drawGroup(node, x, y, layer) {
    const item = items[node.index];
    const group = svgElement("g", { class: classes(item, "cx-group"), transform: "translate(" + x + "," + y + ")" }, layer);
    group.dataset.index = node.index;
    group.dataset.path = item.path;
    const header = lines(item, true);
    svgElement("rect", { class: "cx-frame", width: node.width, height: node.height, rx: 6 }, group);
    svgElement("rect", { class: "cx-header", width: node.width, height: header.length * LINE + 6, rx: 6 }, group);
    writeLines(group, header, 8, 3, "start");
  }

  function drawNode(node, x, y, layer) {
    const item = items[node.index];
    const closed = item.group ? " cx-closed" : "";
    const group = svgElement("g", { class: classes(item, "cx-node") + closed, transform: "translate(" + x + "," + y + ")" }, layer);
    group.dataset.index = node.index;
    group.dataset.path = item.path;
    if (item.kind === "op") {
      svgElement("ellipse", { cx: node.width / 2, cy: node.height / 2, rx: node.width / 2, ry: node.height / 2 }, group);
      writeLines(group, lines(item, false), node.width / 2, node.height / 2 - LINE / 2 - 1, "middle");
      return;
    }
    if (item.kind === "repeat") {  // a stack of cards: one node standing for several
      svgElement("rect", { class: "cx-stack", x: 4, y: 4, width: node.width - 4, height: node.height - 4, rx: 5 }, group);
    }
    const inset = item.kind === "repeat" ? 4 : 0;
    svgElement("rect", { width: node.width - inset, height: node.height - inset, rx: 5 }, group);
    writeLines(group, lines(item, false), PAD_X, PAD_Y, "start");
  }

  // Absolute positions of every laid-out node, and the drawing of groups and nodes.

  // Absolute positions of every shown node and open group, and the drawing of both.
  function drawNodes(group, dx, dy, groupLayer, nodeLayer, offsets) {
    const layout = cache.get(group).layout;
    offsets.set(group, { x: dx, y: dy, width: layout.width, height: layout.height });
    for (const child of layout.children) {
      const index = Number(child.id.slice(1));
      const x = dx + child.x, y = dy + child.y;
      if (isOpenGroup(index)) {
        const inner = cache.get(index).layout;
        drawGroup({ index: index, width: inner.width, height: inner.height }, x, y, groupLayer);
        drawNodes(index, x, y, groupLayer, nodeLayer, offsets);
        offsets.set("n" + index, { x: x, y: y, width: inner.width, height: inner.height });
      } else {
        drawNode({ index: index, width: child.width, height: child.height }, x, y, nodeLayer);
        offsets.set("n" + index, { x: x, y: y, width: child.width, height: child.height });
      }
    }
    return offsets;
  }

  // An edge is the route elkjs found between the two boxes that hold its ends in their common
  // group, extended from the real source's bottom and to the real target's top when those sit
  // inside open groups.
  function drawEdges(edges, offsets, layer) {
    for (const edge of edges) {
      const origin = offsets.get(edge.group);
      const sections = cache.get(edge.group).layout.routes.get(edge.a + ">" + edge.b) || [];
      for (const section of sections) {
        let points = [section.startPoint].concat(section.bendPoints || [], [section.endPoint])
          .map((p) => ({ x: p.x + origin.x, y: p.y + origin.y }));
        const from = offsets.get("n" + edge.from), to = offsets.get("n" + edge.to);
        if (edge.from !== edge.a) points = [{ x: from.x + from.width / 2, y: from.y + from.height }].concat(points);
        if (edge.to !== edge.b) points = points.concat([{ x: to.x + to.width / 2, y: to.y }]);
        const d = points.map((p, k) => (k ? "L" : "M") + p.x + " " + p.y).join(" ");
        svgElement("path", { class: "cx-edge" + (edge.exact ? "" : " cx-inferred"), d: d, "marker-end": "url(#" + root.id + "-arrow)" }, layer);
      }
    }
  }

  let positions = new Map();
  let bounds = { width: 0, height: 0 };

  function draw(edges) {
    scene.replaceChildren();
    const defs = svgElement("defs", {}, scene);
    const marker = svgElement("marker", { id: root.id + "-arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" }, defs);
    svgElement("path", { class: "cx-arrow", d: "M0 0 L10 5 L0 10 z" }, marker);
    const groupLayer = svgElement("g", {}, scene);
    const edgeLayer = svgElement("g", {}, scene);
    const nodeLayer = svgElement("g", {}, scene);
    positions = drawNodes(-1, 0, 0, groupLayer, nodeLayer, new Map());
    drawEdges(edges, positions, edgeLayer);
    const layout = cache.get(-1).layout;
    bounds = { width: layout.width, height: layout.height };
  }

  // -- layout, redone on every change (from the cache where nothing changed)

  let layouts = 0;
  let pending = Promise.resolve();

  function relayout(anchor) {
    root.dataset.state = "busy";
    const begun = performance.now();
    const before = anchor >= 0 ? screenPosition(anchor) : null;
    const edges = shownEdges();
    let laidOut = 0;
    pending = pending.then(() => layoutGroup(-1, liftedPairs(edges))).then(() => {
      laidOut = performance.now();
      draw(edges);
      if (layouts === 0) fitWidth();
      else if (before) keepInPlace(anchor, before);
      layouts += 1;
      const now = performance.now();
      root.dataset.layoutMs = (now - begun).toFixed(1);
      root.dataset.drawMs = (now - laidOut).toFixed(1);
      if (layouts === 1) root.dataset.firstLayoutMs = (now - started).toFixed(1);
      root.dataset.layouts = layouts;
      root.dataset.nodes = root.querySelectorAll(".cx-node").length;
      root.dataset.state = "ready";
    }).catch((error) => {
      console.error("compose.explore: layout failed:", error);
      scene.replaceChildren();
      svgElement("text", { class: "cx-message", x: 20, y: 30 }, scene).textContent = "Layout failed: " + error;
      root.dataset.state = "failed";
    });
    return pending;
  }

  // -- pan and zoom: one transform on the scene

  const view = { x: 0, y: 0, scale: 1 };
  function applyView() {
    scene.setAttribute("transform", "translate(" + view.x + "," + view.y + ") scale(" + view.scale + ")");
  }

  function fitWidth() {
    const box = svg.getBoundingClientRect();
    view.scale = Math.min(1, box.width / Math.max(bounds.width, 1));
    view.x = Math.max(0, (box.width - bounds.width * view.scale) / 2);
    view.y = 0;
    applyView();
  }

  function fitAll() {
    const box = svg.getBoundingClientRect();
    view.scale = Math.min(1, box.width / Math.max(bounds.width, 1), box.height / Math.max(bounds.height, 1));
    view.x = (box.width - bounds.width * view.scale) / 2;
    view.y = 0;
    applyView();
  }

  function screenPosition(index) {
    const at = positions.get("n" + index);
    return at ? { x: view.x + at.x * view.scale, y: view.y + at.y * view.scale } : null;
  }

  function keepInPlace(index, before) {
    const after = screenPosition(index);
    if (!after) return;
    view.x += before.x - after.x;
    view.y += before.y - after.y;
    applyView();
  }

  function centerOn(index) {
    const at = positions.get("n" + index);
    if (!at) return;
    const box = svg.getBoundingClientRect();
    view.x = box.width / 2 - (at.x + at.width / 2) * view.scale;
    view.y = box.height / 3 - (at.y + at.height / 2) * view.scale;
    applyView();
  }

  svg.addEventListener("wheel", (event) => {
    event.preventDefault();
    const box = svg.getBoundingClientRect();
    const px = event.clientX - box.left, py = event.clientY - box.top;
    const scale = Math.min(4, Math.max(0.05, view.scale * Math.exp(-event.deltaY * 0.0015)));
    view.x = px - (px - view.x) * (scale / view.scale);
    view.y = py - (py - view.y) * (scale / view.scale);
    view.scale = scale;
    applyView();
  }, { passive: false });

  let drag = null;
  svg.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    drag = { x: event.clientX, y: event.clientY, viewX: view.x, viewY: view.y, moved: false };
  });
  svg.addEventListener("pointermove", (event) => {
    if (!drag) return;
    const dx = event.clientX - drag.x, dy = event.clientY - drag.y;
    if (!drag.moved && Math.hypot(dx, dy) < 4) return;
    if (!drag.moved) svg.setPointerCapture(event.pointerId);
    drag.moved = true;
    svg.classList.add("cx-dragging");
    view.x = drag.viewX + dx;
    view.y = drag.viewY + dy;
    applyView();
  });
  svg.addEventListener("pointerup", () => {
    svg.classList.remove("cx-dragging");
    // The click that follows a drag is not a click on a node.
    setTimeout(() => { drag = null; }, 0);
  });

  // -- clicks: expand, collapse, select

  function itemAt(target) {
    const element = target.closest("[data-index]");
    return element && root.contains(element) ? Number(element.dataset.index) : -1;
  }

  function toggle(index) {
    open[index] = !open[index];
    return relayout(index);
  }

  svg.addEventListener("click", (event) => {
    if (drag && drag.moved) return;
    const index = itemAt(event.target);
    if (index < 0) {
      selected = -1;
      return;
    }
    const item = items[index];
    // An open group toggles from its header only: a click inside it is on its background.
    if (item.group && (!open[index] || event.target.classList.contains("cx-header") || event.target.closest("text"))) {
      toggle(index);
    } else if (!item.group) {
      selected = selected === index ? -1 : index;
      showDetails(index);
      root.querySelectorAll(".cx-selected").forEach((element) => element.classList.remove("cx-selected"));
      if (selected >= 0) event.target.closest("[data-index]").classList.add("cx-selected");
    }
  });

  svg.addEventListener("pointerover", (event) => {
    const index = itemAt(event.target);
    if (index >= 0 && selected < 0) showDetails(index);
  });

  // -- details

  function edgeCounts(index) {
    const inside = (node) => node === index || ancestors(node).includes(index);
    const counts = { exactIn: 0, inferredIn: 0, exactOut: 0, inferredOut: 0 };
    for (const [source, dest, exact] of data.edges) {
      const from = inside(source), to = inside(dest);
      if (from === to) continue;
      counts[(exact ? "exact" : "inferred") + (to ? "In" : "Out")] += 1;
    }
    return counts;
  }

  function showDetails(index) {
    const item = items[index];
    const counts = edgeCounts(index);
    const rows = [
      ["Path", item.path],
      ["Keras name", item.name || "\u2014"],
      ["Class", item.cls],
      ["Kind", item.kind === "repeat" ? item.count + " identical blocks, chained" : item.kind],
      ["Inputs", item.in.join(", ") || "\u2014"],
      ["Outputs", item.out.join(", ") || "\u2014"],
      ["Dtype", item.dtype || "\u2014"],
      ["Params", item.params.toLocaleString("en-US")],
      ["Strategy", item.strategy || "\u2014"],
      ["Edges in", counts.exactIn + " exact, " + counts.inferredIn + " inferred"],
      ["Edges out", counts.exactOut + " exact, " + counts.inferredOut + " inferred"],
    ];
    if (!item.reached) rows.push(["Reached", "no"]);
    details.replaceChildren();
    const title = document.createElement("h2");
    title.textContent = item.label;
    details.appendChild(title);
    const list = document.createElement("dl");
    for (const [term, value] of rows) {
      list.appendChild(document.createElement("dt")).textContent = term;
      list.appendChild(document.createElement("dd")).textContent = value;
    }
    details.appendChild(list);
    for (const problem of item.problems) {
      const line = details.appendChild(document.createElement("p"));
      line.className = "cx-problem";
      line.textContent = problem;
    }
  }

  // -- search

  function runSearch(query) {
    const needle = query.trim().toLowerCase();
    matches = new Set();
    if (needle) {
      for (const item of items) {
        if ([item.path, item.name, item.cls].some((text) => text.toLowerCase().includes(needle))) matches.add(item.index);
      }
    }
    for (const index of matches) for (const p of ancestors(index)) open[p] = true;
    found.textContent = needle ? matches.size + (matches.size === 1 ? " match" : " matches") : "";
    return relayout(-1).then(() => {
      if (matches.size) centerOn(Math.min(...matches));
    });
  }

  let typing = null;
  search.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => runSearch(search.value), 300);
  });
  search.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    clearTimeout(typing);
    runSearch(search.value);
  });
  root.querySelector(".cx-fit").addEventListener("click", fitAll);

  // -- the heading, then the first layout

  root.querySelector(".cx-model").textContent = data.model.name;
  root.querySelector(".cx-class").textContent = data.model.cls + ", " + data.model.params.toLocaleString("en-US") + " params";
  root.querySelector(".cx-coverage").textContent = data.model.coverage;
  for (const problem of data.model.problems) {
    root.querySelector(".cx-model-problems").appendChild(document.createElement("div")).textContent = problem;
  }
  relayout(-1);
})();
