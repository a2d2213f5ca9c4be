/* The 16:00 wall: fills the frame of templates/wall/index.html from /wall/data.json and
   asks again every `data-refresh` seconds, without reloading the page. When a request
   fails (no network, server down, session gone) the last figures stay on screen and a
   notice says how old they are ("Mất kết nối — số liệu lúc HH:MM"); it asks again sooner
   and the notice goes with the first answer. Every text is set with textContent (user
   text stays inert) and every tile is placed by a class of css/wall.css (the CSP allows
   no inline style). */
(function () {
  "use strict";

  var root = document.getElementById("wall");
  if (!root) { return; }
  var SVG = "http://www.w3.org/2000/svg";
  var src = root.getAttribute("data-src");
  var every = (parseInt(root.getAttribute("data-refresh"), 10) || 30) * 1000;
  var retry = Math.min(every, 10000);
  var unit = root.getAttribute("data-unit") || "";
  var last = null;
  var timer = null;
  var asking = 0;

  function byId(id) { return document.getElementById(id); }
  function label(name) { return root.getAttribute("data-label-" + name) || ""; }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function svg(tag, attrs) {
    var node = document.createElementNS(SVG, tag);
    Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }

  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }

  function tile(t, layout) {
    var live = t.live;
    var node = el(t.has_children ? "button" : "div", "tile tile-" + live.colour);
    if (t.has_children) {
      node.type = "button";
      node.title = label("open");
      node.addEventListener("click", function () { show(String(t.id)); });
    }
    if (layout === "map" && t.row) { node.classList.add("r" + t.row, "c" + t.col); }
    node.setAttribute("data-testid", "tile");
    node.setAttribute("data-unit-id", t.id);
    node.setAttribute("data-colour", live.colour);
    node.appendChild(el("span", "tile-name", t.short || t.name));
    if (t.short && t.short !== t.name) { node.title = t.name; }
    var state = el("span", "tile-live");
    state.appendChild(el("span", "tile-icon", live.icon));
    if (live.rate !== null) { state.appendChild(el("span", "tile-rate", live.rate_text)); }
    state.appendChild(el("span", "tile-label", live.label));
    node.appendChild(state);
    var cut = el("span", "tile-cutoff");
    if (t.cutoff) {
      cut.classList.add("cut-" + t.cutoff.colour);
      cut.textContent = label("cutoff") + " " + t.cutoff.icon + " " + t.cutoff.label +
        (t.cutoff.rate === null ? "" : " " + t.cutoff.rate_text);
    } else {
      cut.textContent = label("cutoff") + " " + label("no-cutoff");
    }
    if (t.streak > 0) { cut.textContent += " · " + t.streak + " " + label("streak"); }
    node.appendChild(cut);
    return node;
  }

  function renderTiles(d) {
    var box = byId("wall-tiles");
    clear(box);
    var n = d.tiles.length;
    box.className = "wall-map layout-" + d.layout;
    if (d.layout !== "map") {  // as many columns as fill the screen without scrolling
      box.classList.add("cols-" + (n <= 4 ? 2 : n <= 12 ? 3 : n <= 30 ? 5 : n <= 60 ? 6 :
        n <= 110 ? 8 : 10));
      if (n > 60) { box.classList.add("dense"); }
    }
    d.tiles.forEach(function (t) { box.appendChild(tile(t, d.layout)); });
  }

  function renderTrend(trend) {
    var ticks = byId("wall-trend-ticks");
    clear(ticks);
    trend.y_ticks.forEach(function (t) {
      ticks.appendChild(svg("line", {"class": "grid", x1: 44, x2: trend.width - 12,
        y1: t.y, y2: t.y}));
      var text = svg("text", {"class": "axis", x: 38, y: t.y + 5, "text-anchor": "end"});
      text.textContent = t.text;
      ticks.appendChild(text);
    });
    trend.x_ticks.forEach(function (t, i) {
      var anchor = i === 0 ? "start" : (i === trend.x_ticks.length - 1 ? "end" : "middle");
      var text = svg("text", {"class": "axis", x: t.x, y: trend.height - 6,
        "text-anchor": anchor});
      text.textContent = t.text;
      ticks.appendChild(text);
    });
    byId("wall-trend-area").setAttribute("d", trend.area);
    byId("wall-trend-line").setAttribute("points", trend.line);
    var dots = byId("wall-trend-points");
    clear(dots);
    trend.points.forEach(function (p) {
      dots.appendChild(svg("circle", {"class": "dot dot-" + p.colour, cx: p.x, cy: p.y, r: 5}));
    });
  }

  function renderMovers(id, rows) {
    var list = byId(id);
    clear(list);
    rows.forEach(function (m) {
      var item = el("li", null, m.unit + " ");
      item.appendChild(el("strong", null, (m.change > 0 ? "+" : "") + m.change.toFixed(1)));
      list.appendChild(item);
    });
  }

  function render(d) {
    byId("wall-unit").textContent = d.unit.name;
    byId("wall-status").textContent = d.at_text + " · " + d.cutoff_text;
    ["green", "yellow", "red", "total"].forEach(function (c) {
      byId("wall-count-" + c).textContent = d.counts[c];
    });
    byId("wall-rate").textContent = d.live.rate_text;
    var cats = byId("wall-categories");
    clear(cats);
    d.categories.forEach(function (c) {
      var item = el("li", "cat-" + c.key);
      item.setAttribute("data-testid", "wall-category-" + c.key);
      item.appendChild(el("span", "cat-label", c.label));
      item.appendChild(el("strong", "cat-count", c.count));
      cats.appendChild(item);
    });
    renderTiles(d);
    renderTrend(d.trend);
    renderMovers("wall-improved", d.movement ? d.movement.improved : []);
    renderMovers("wall-declined", d.movement ? d.movement.declined : []);
    var back = byId("wall-back");
    back.hidden = d.up === null;
  }

  function online() {
    root.classList.remove("is-stale");
    byId("wall-offline").hidden = true;
  }

  function offline() {
    root.classList.add("is-stale");
    var notice = byId("wall-offline");
    notice.textContent = last
      ? root.getAttribute("data-offline").replace("__AT__", last.at_hhmm)
      : root.getAttribute("data-offline-empty");
    notice.hidden = false;
  }

  function load() {
    clearTimeout(timer);
    var mine = ++asking;
    var url = src + (unit ? "?unit=" + encodeURIComponent(unit) : "");
    fetch(url, {credentials: "same-origin", cache: "no-store",
                headers: {"Accept": "application/json"}})
      .then(function (r) {
        if (!r.ok) { throw new Error("HTTP " + r.status); }
        return r.json();
      })
      .then(function (d) {
        if (mine !== asking) { return; }
        last = d;
        render(d);
        online();
        timer = setTimeout(load, every);
      })
      .catch(function () {
        if (mine !== asking) { return; }
        offline();
        timer = setTimeout(load, retry);
      });
  }

  function show(target) {
    unit = target;
    if (window.history && window.history.replaceState) {
      var params = new URLSearchParams(window.location.search);
      if (unit) { params.set("unit", unit); } else { params.delete("unit"); }
      var query = params.toString();
      window.history.replaceState(null, "", window.location.pathname +
        (query ? "?" + query : ""));
    }
    load();
  }

  byId("wall-back").addEventListener("click", function () {
    if (last && last.up !== null) {
      show(last.up === last.home ? "" : String(last.up));
    }
  });
  load();
}());
