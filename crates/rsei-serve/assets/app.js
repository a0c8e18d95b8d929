// rsei viewer: a MapLibre map of the results served by `rsei serve`, a year slider, a layer
// switcher, a two-year comparison (swipe or side by side), legends, outlines and mines, and a
// time-series chart of the clicked cell. No network beyond this server (the base map is optional).
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const state = {
    config: null,
    areas: [],
    area: null,       // the selected area (JSON of /api/areas)
    yearIndex: 0,
    layer: "rsei",
    opacity: 0.9,
    compare: "off",   // off | swipe | side
    compareYear: null,
    swipeX: 0.5,      // fraction of the width
    series: null,     // last time series shown
    pca: null,
  };
  const rsei = (window.rsei = { state, mapA: null, mapB: null, tileErrors: [], ready: () => false });

  // ---------------------------------------------------------------- helpers
  async function getJSON(url) {
    const r = await fetch(url);
    let body = null;
    try { body = await r.json(); } catch (_) { /* not JSON */ }
    if (!r.ok) {
      const e = new Error((body && body.error) || `${url}: HTTP ${r.status}`);
      e.status = r.status;
      throw e;
    }
    return body;
  }
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v; else if (k === "text") e.textContent = v; else e.setAttribute(k, v);
    }
    for (const c of children) e.append(c);
    return e;
  }
  const SVG = "http://www.w3.org/2000/svg";
  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function showMessage(text) {
    const m = $("message");
    m.textContent = text || "";
    m.hidden = !text;
  }
  function fmt(v, digits) {
    if (v === null || v === undefined || Number.isNaN(v)) return "–";
    const a = Math.abs(v);
    const d = digits !== undefined ? digits : a >= 100 ? 1 : a >= 10 ? 2 : 3;
    return v.toFixed(d);
  }
  const years = () => (state.area ? state.area.years : []);
  const year = () => years()[state.yearIndex];
  // layers with one raster for all years: the trend, and the rasters of trend/ or change/ folders
  const allYears = () => state.layer === "trend" || !!(layerInfo(state.layer) || {}).static;
  const layerInfo = (id) => (state.area ? state.area.layers.find((l) => l.id === id) : null);
  function tileUrl(y) {
    const a = state.area;
    let u = a.tiles.replace("{layer}", state.layer).replace("{year}", allYears() ? "all" : String(y));
    if (state.layer === "change") u += `&from=${years()[0]}`;
    return u;
  }

  // ---------------------------------------------------------------- maps
  function baseStyle() {
    const style = { version: 8, sources: {}, layers: [{ id: "background", type: "background", paint: { "background-color": "#eef0ec" } }] };
    if (state.config && state.config.base_map) {
      style.sources.base = { type: "raster", tiles: [state.config.base_map], tileSize: 256, maxzoom: 19 };
      style.layers.push({ id: "base", type: "raster", source: "base" });
    }
    return style;
  }

  function makeMap(container) {
    const map = new maplibregl.Map({
      container,
      style: baseStyle(),
      center: [0, 20],
      zoom: 1,
      attributionControl: false,
      fadeDuration: 0,
      dragRotate: false,
      pitchWithRotate: false,
    });
    map.touchZoomRotate.disableRotation();
    map.on("error", (e) => {
      const msg = (e && e.error && e.error.message) || String(e && e.error);
      rsei.tileErrors.push(msg);
      if (rsei.tileErrors.length > 50) rsei.tileErrors.shift();
    });
    map.on("click", (e) => pick(e.lngLat));
    map.getCanvas().style.cursor = "crosshair";
    return map;
  }

  function mapLoaded(map) {
    return new Promise((resolve) => (map.loaded() ? resolve() : map.once("load", resolve)));
  }

  // (re)builds the area's sources and layers on one map, showing year `y`
  function setupArea(map, y) {
    for (const id of ["pick-fill", "pick-line", "mines-fill", "mines-line", "outline", "data"]) if (map.getLayer(id)) map.removeLayer(id);
    for (const id of ["pick", "mines", "outline", "data"]) if (map.getSource(id)) map.removeSource(id);
    const a = state.area;
    if (!a || !a.bounds) return;
    const maxzoom = Math.max(1, Math.min(22, Math.ceil(a.native_zoom || 12) + 1));
    map.addSource("data", { type: "raster", tiles: [tileUrl(y)], tileSize: 256, bounds: a.bounds, minzoom: 0, maxzoom });
    map.addLayer({ id: "data", type: "raster", source: "data", paint: { "raster-opacity": state.opacity, "raster-resampling": "nearest", "raster-fade-duration": 0 } });
    map.addSource("outline", { type: "geojson", data: `/api/areas/${encodeURIComponent(a.id)}/outline` });
    map.addLayer({ id: "outline", type: "line", source: "outline", paint: { "line-color": "#202020", "line-width": 1.4 }, layout: { visibility: $("show-outline").checked ? "visible" : "none" } });
    if (a.has_mines) {
      map.addSource("mines", { type: "geojson", data: `/api/areas/${encodeURIComponent(a.id)}/mines` });
      const vis = $("show-mines").checked ? "visible" : "none";
      map.addLayer({ id: "mines-fill", type: "fill", source: "mines", paint: { "fill-color": "#6a3d9a", "fill-opacity": 0.35 }, layout: { visibility: vis } });
      map.addLayer({ id: "mines-line", type: "line", source: "mines", paint: { "line-color": "#4a1486", "line-width": 1.2 }, layout: { visibility: vis } });
    }
    map.addSource("pick", { type: "geojson", data: { type: "FeatureCollection", features: [] } });
    map.addLayer({ id: "pick-fill", type: "fill", source: "pick", paint: { "fill-color": "#00bfff", "fill-opacity": 0.25 } });
    map.addLayer({ id: "pick-line", type: "line", source: "pick", paint: { "line-color": "#0050a0", "line-width": 2 } });
  }

  function setTiles(map, y) {
    const src = map && map.getSource("data");
    if (!src) return;
    if (typeof src.setTiles === "function") src.setTiles([tileUrl(y)]);
    else setupArea(map, y);
  }

  function refreshData() {
    setTiles(rsei.mapA, year());
    if (state.compare !== "off") setTiles(rsei.mapB, state.compareYear);
    $("map-a-year").textContent = allYears() ? (layerInfo(state.layer) || {}).title || state.layer : String(year());
    $("map-b-year").textContent = String(state.compareYear);
    document.body.dataset.year = String(year());
    document.body.dataset.layer = state.layer;
    renderLegend();
    renderPca();
    markChartYear();
    writeHash();
  }

  function syncMaps(a, b) {
    let busy = false;
    const follow = (from, to) => () => {
      if (busy || !to || $("map-b").hidden) return;
      busy = true;
      to.jumpTo({ center: from.getCenter(), zoom: from.getZoom(), bearing: from.getBearing(), pitch: from.getPitch() });
      busy = false;
    };
    a.on("move", follow(a, b));
    b.on("move", follow(b, a));
  }

  // ---------------------------------------------------------------- compare
  function applyCompare() {
    const maps = $("maps");
    maps.className = `mode-${state.compare}`;
    const b = $("map-b");
    b.hidden = state.compare === "off";
    $("swipe").hidden = state.compare !== "swipe";
    if (state.compare === "swipe") positionSwipe(); else b.style.clipPath = "";
    rsei.mapA.resize();
    if (!b.hidden) {
      rsei.mapB.resize();
      setTiles(rsei.mapB, state.compareYear);
      const a = rsei.mapA;
      rsei.mapB.jumpTo({ center: a.getCenter(), zoom: a.getZoom() });
    }
    $("map-b-year").textContent = String(state.compareYear);
    writeHash();
  }
  function positionSwipe() {
    const w = $("maps").clientWidth;
    const x = Math.round(state.swipeX * w);
    $("swipe").style.left = `${x}px`;
    $("map-b").style.clipPath = `inset(0 0 0 ${x}px)`;
  }
  function setupSwipe() {
    const handle = $("swipe").querySelector("span");
    let dragging = false;
    handle.addEventListener("pointerdown", (e) => { dragging = true; handle.setPointerCapture(e.pointerId); e.preventDefault(); });
    handle.addEventListener("pointermove", (e) => {
      if (!dragging) return;
      const r = $("maps").getBoundingClientRect();
      state.swipeX = Math.min(0.98, Math.max(0.02, (e.clientX - r.left) / r.width));
      positionSwipe();
    });
    handle.addEventListener("pointerup", () => { dragging = false; });
    window.addEventListener("resize", () => state.compare === "swipe" && positionSwipe());
  }

  // ---------------------------------------------------------------- panel
  function renderYears() {
    const ys = years();
    const s = $("year");
    s.max = String(Math.max(0, ys.length - 1));
    s.value = String(state.yearIndex);
    s.disabled = ys.length < 2 || allYears();
    $("year-label").textContent = allYears() ? `${ys[0]}–${ys[ys.length - 1]}` : String(year());
    const t = $("year-ticks");
    t.replaceChildren(...ys.map((y) => el("span", { text: String(y) })));
    const c = $("compare-year");
    c.replaceChildren(...ys.map((y) => el("option", { value: String(y), text: String(y) })));
    if (!ys.includes(state.compareYear)) state.compareYear = ys[ys.length - 1];
    c.value = String(state.compareYear);
  }

  function renderLayers() {
    const list = $("layer-list");
    list.replaceChildren();
    for (const l of state.area.layers) {
      const input = el("input", { type: "radio", name: "layer", value: l.id });
      input.checked = l.id === state.layer;
      input.addEventListener("change", () => {
        state.layer = l.id;
        renderYears();
        refreshData();
      });
      const title = l.id === "change" ? `${l.title} (vs ${years()[0]})` : l.title;
      list.append(el("label", { class: l.computed ? "computed" : "" }, input, ` ${title}`));
    }
  }

  function renderLegend() {
    const l = layerInfo(state.layer);
    const box = $("legend");
    box.replaceChildren();
    if (!l) return;
    $("legend-title").textContent = l.unit && l.unit !== "1" ? `${l.title} (${l.unit})` : l.title;
    const g = l.legend;
    if (g.kind === "classes") {
      for (const c of g.classes) box.append(el("div", { class: "class" }, el("span", { class: "swatch", style: `background:${c.color}` }), c.label));
    } else {
      box.append(el("div", { class: "bar", style: `background:linear-gradient(to right, ${g.stops.join(", ")})` }));
      const mid = (g.min + g.max) / 2;
      box.append(el("div", { class: "bar-labels" }, el("span", { text: fmt(g.min) }), el("span", { text: fmt(mid) }), el("span", { text: fmt(g.max) })));
      if (state.layer === "change") box.append(el("p", { class: "muted", text: `RSEI ${year()} − RSEI ${years()[0]}; values beyond the ends take the end colours` }));
      else if (state.layer === "trend") box.append(el("p", { class: "muted", text: "least-squares slope of RSEI per year over all years (cells with 3 or more years)" }));
      else if (l.static) box.append(el("p", { class: "muted", text: `${l.file}: one raster for all years; 2nd–98th percentile, values beyond take the end colours` }));
      else box.append(el("p", { class: "muted", text: "2nd–98th percentile over all years; values beyond take the end colours" }));
    }
  }

  function renderPca() {
    const box = $("pca");
    box.replaceChildren();
    $("pca-year").textContent = year() !== undefined ? String(year()) : "";
    if (!state.pca) {
      box.append(el("p", { class: "muted", text: state.area && state.area.has_pca ? "loading…" : "no PCA table in the results" }));
      return;
    }
    const row = state.pca.find((r) => Number(r.year) === year());
    if (!row) {
      box.append(el("p", { class: "muted", text: `no PCA row for ${year()}` }));
      return;
    }
    const t = el("table", { id: "pca-table" });
    t.append(el("tr", {}, el("th", { text: "" }), ...["NDVI", "WET", "NDBSI", "LST"].map((n) => el("th", { text: n }))));
    t.append(el("tr", {}, el("td", { text: "PC1" }), ...["NDVI", "WET", "NDBSI", "LST"].map((n) => el("td", { text: fmt(row[`pc1_${n}`]) }))));
    const ev = [1, 2, 3, 4].map((k) => row[`eigenvalue_${k}`]);
    t.append(el("tr", {}, el("td", { text: "eigenvalue" }), ...ev.map((v) => el("td", { text: v === undefined ? "–" : Number(v).toExponential(1) }))));
    box.append(t);
    box.append(el("p", { class: "muted", text: `PC1 holds ${fmt(row.pc1_contribution, 1)} % of the variance; ${row.n_pixels} cells; ${row.normalisation} normalisation${row.pooled === "true" ? ", pooled" : ""}` }));
    if (row.warnings) box.append(el("p", { class: "muted", text: `warnings: ${row.warnings}` }));
  }

  // ---------------------------------------------------------------- time series
  const CHART_W = 296, CHART_R = 16;
  const SERIES = ["rsei", "ndvi", "wet", "ndbsi", "lst"];
  const COLORS = { rsei: "#1a9641", ndvi: "#0072b2", wet: "#009e73", ndbsi: "#d55e00", lst: "#cc79a7" };

  async function pick(lngLat) {
    if (!state.area) return;
    const a = state.area;
    const url = `/api/areas/${encodeURIComponent(a.id)}/series?lon=${lngLat.lng}&lat=${lngLat.lat}`;
    const chart = $("chart");
    chart.dataset.state = "loading";
    try {
      const s = await getJSON(url);
      state.series = s;
      renderSeries(s);
      showCell(s);
    } catch (e) {
      state.series = null;
      chart.replaceChildren(el("p", { class: "error", text: e.message }));
      chart.dataset.state = "error";
      $("series-table").tBodies[0].replaceChildren();
      for (const m of [rsei.mapA, rsei.mapB]) if (m && m.getSource("pick")) m.getSource("pick").setData({ type: "FeatureCollection", features: [] });
    }
  }

  // the picked cell as a polygon (its corners, from the server)
  function showCell(s) {
    const feature = { type: "Feature", properties: {}, geometry: { type: "Polygon", coordinates: [s.cell.outline] } };
    for (const m of [rsei.mapA, rsei.mapB]) if (m && m.getSource("pick")) m.getSource("pick").setData({ type: "FeatureCollection", features: [feature] });
  }

  function renderSeries(s) {
    const chart = $("chart");
    chart.replaceChildren();
    chart.dataset.lon = String(s.lon);
    chart.dataset.lat = String(s.lat);
    chart.dataset.row = String(s.cell.row);
    chart.dataset.col = String(s.cell.col);
    chart.append(el("p", { class: "where", text: `cell row ${s.cell.row}, col ${s.cell.col} · ${s.cell.lat.toFixed(4)}° N, ${s.cell.lon.toFixed(4)}° E` }));
    const W = CHART_W, H = 74, L = 44, R = CHART_R, T = 16, B = 14;
    const ys = s.years;
    const x = (i) => L + (ys.length < 2 ? (W - L - R) / 2 : (i * (W - L - R)) / (ys.length - 1));
    const body = $("series-table").tBodies[0];
    body.replaceChildren();
    for (const id of SERIES) {
      const ser = s.series.find((q) => q.layer === id);
      if (!ser) continue;
      const vals = ser.values;
      ser.values.forEach((v, i) => {
        const tr = el("tr", { "data-layer": id, "data-year": String(ys[i]), "data-value": v === null ? "" : String(v) });
        tr.append(el("td", { text: id }), el("td", { text: String(ys[i]) }), el("td", { text: v === null ? "" : String(v) }));
        body.append(tr);
      });
      const fin = vals.filter((v) => v !== null);
      const g = svg("svg", { width: "100%", viewBox: `0 0 ${W} ${H}`, class: "series", "data-layer": id, role: "img", "aria-label": `${ser.title} by year` });
      g.append(svg("text", { x: 2, y: 11, class: "title" }, ser.unit && ser.unit !== "1" ? `${ser.title} (${ser.unit})` : ser.title));
      let lo = Math.min(...fin), hi = Math.max(...fin);
      if (!fin.length) { lo = 0; hi = 1; }
      if (hi - lo < 1e-9) { const d = Math.abs(hi) * 0.05 || 0.05; lo -= d; hi += d; }
      const pad = (hi - lo) * 0.1; lo -= pad; hi += pad;
      const y = (v) => T + (1 - (v - lo) / (hi - lo)) * (H - T - B);
      g.append(svg("line", { x1: L, x2: L, y1: T, y2: H - B, class: "axis" }));
      g.append(svg("line", { x1: L, x2: W - R, y1: H - B, y2: H - B, class: "axis" }));
      for (const v of [hi - pad, lo + pad]) {
        g.append(svg("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: "grid" }));
        g.append(svg("text", { x: L - 3, y: y(v) + 3, "text-anchor": "end" }, fmt(v)));
      }
      ys.forEach((yr, i) => g.append(svg("text", { x: x(i), y: H - 2, "text-anchor": "middle" }, String(yr))));
      const now = svg("line", { x1: 0, x2: 0, y1: T, y2: H - B, class: "now", "data-now": "1" });
      g.append(now);
      // one polyline per run of consecutive values
      let run = [];
      const flush = () => {
        if (run.length > 1) g.append(svg("polyline", { points: run.join(" "), class: "line", stroke: COLORS[id] }));
        run = [];
      };
      vals.forEach((v, i) => {
        if (v === null) { flush(); return; }
        run.push(`${x(i).toFixed(1)},${y(v).toFixed(1)}`);
      });
      flush();
      vals.forEach((v, i) => {
        if (v === null) return;
        const c = svg("circle", { cx: x(i).toFixed(1), cy: y(v).toFixed(1), r: 2.8, fill: COLORS[id], "data-year": String(ys[i]), "data-value": String(v) });
        c.append(svg("title", {}, `${ys[i]}: ${fmt(v, 4)}`));
        g.append(c);
      });
      chart.append(g);
    }
    if (s.problems && s.problems.length) chart.append(el("p", { class: "error", text: s.problems.map((p) => `${p.file}: ${p.reason}`).join("\n") }));
    chart.dataset.state = "ready";
    $("series-hint").hidden = true;
    markChartYear();
  }

  function markChartYear() {
    if (!state.series) return;
    const i = state.series.years.indexOf(year());
    const W = CHART_W, L = 44, R = CHART_R, n = state.series.years.length;
    const xi = n < 2 ? L + (W - L - R) / 2 : L + (i * (W - L - R)) / (n - 1);
    for (const l of document.querySelectorAll("#chart line[data-now]")) {
      l.setAttribute("x1", xi); l.setAttribute("x2", xi);
      l.style.display = i < 0 || allYears() ? "none" : "";
    }
  }

  // ---------------------------------------------------------------- area selection
  async function selectArea(id, keepView) {
    const a = state.areas.find((q) => q.id === id) || state.areas[0];
    state.area = a;
    state.series = null;
    state.pca = null;
    $("chart").replaceChildren();
    $("chart").dataset.state = "empty";
    $("series-table").tBodies[0].replaceChildren();
    if (!a.layers.some((l) => l.id === state.layer)) state.layer = a.layers.length ? a.layers[0].id : "rsei";
    if (state.yearIndex >= a.years.length) state.yearIndex = a.years.length - 1;
    $("area").value = a.id;
    $("mines-row").hidden = !a.has_mines;
    const warnings = [];
    if (a.error) warnings.push(a.error);
    for (const p of a.problems || []) warnings.push(`${p.file}: ${p.reason}`);
    showMessage(warnings.join("\n"));
    renderYears();
    renderLayers();
    for (const m of [rsei.mapA, rsei.mapB]) setupArea(m, m === rsei.mapA ? year() : state.compareYear);
    if (a.bounds && !keepView) rsei.mapA.fitBounds([[a.bounds[0], a.bounds[1]], [a.bounds[2], a.bounds[3]]], { padding: 30, animate: false });
    refreshData();
    if (a.has_pca) {
      try {
        state.pca = (await getJSON(`/api/areas/${encodeURIComponent(a.id)}/pca`)).rows;
      } catch (e) {
        state.pca = null;
      }
      renderPca();
    }
  }

  // ---------------------------------------------------------------- URL hash (#area=…&year=…&layer=…&compare=…&with=…)
  function readHash() {
    const h = new URLSearchParams(location.hash.slice(1));
    return { area: h.get("area"), year: Number(h.get("year")), layer: h.get("layer"), compare: h.get("compare"), with: Number(h.get("with")) };
  }
  function writeHash() {
    if (!state.area) return;
    const h = new URLSearchParams({ area: state.area.id, year: String(year()), layer: state.layer });
    if (state.compare !== "off") { h.set("compare", state.compare); h.set("with", String(state.compareYear)); }
    history.replaceState(null, "", `#${h}`);
  }

  // ---------------------------------------------------------------- start
  async function start() {
    setupSwipe();
    try {
      state.config = await getJSON("/api/config");
      $("results-path").textContent = state.config.results;
      $("software").textContent = state.config.software;
    } catch (e) {
      showMessage(`the server does not answer: ${e.message}`);
      return;
    }
    rsei.mapA = makeMap("map-a");
    rsei.mapB = makeMap("map-b");
    syncMaps(rsei.mapA, rsei.mapB);
    rsei.ready = () => {
      const m = rsei.mapA;
      return !!(m && state.area && m.loaded() && m.getSource("data") && m.isSourceLoaded("data") && m.areTilesLoaded());
    };
    await Promise.all([mapLoaded(rsei.mapA), mapLoaded(rsei.mapB)]);
    try {
      state.areas = (await getJSON("/api/areas")).areas;
    } catch (e) {
      showMessage(e.message);
      for (const id of ["controls", "legend-box", "series-box", "pca-box"]) $(id).hidden = true;
      document.body.dataset.state = "no-results";
      return;
    }
    $("area").replaceChildren(...state.areas.map((a) => el("option", { value: a.id, text: a.name })));
    $("area-row").hidden = state.areas.length < 2;
    const h = readHash();
    const first = state.areas.find((a) => a.id === h.area) || state.areas[0];
    if (h.layer) state.layer = h.layer;
    const yi = first.years.indexOf(h.year);
    state.yearIndex = yi >= 0 ? yi : 0;
    if (first.years.includes(h.with)) state.compareYear = h.with;
    await selectArea(first.id);
    if (h.compare === "swipe" || h.compare === "side") {
      state.compare = h.compare;
      $("compare-mode").value = h.compare;
      applyCompare();
    }

    $("area").addEventListener("change", (e) => selectArea(e.target.value));
    $("year").addEventListener("input", (e) => {
      state.yearIndex = Number(e.target.value);
      $("year-label").textContent = String(year());
      refreshData();
    });
    $("opacity").addEventListener("input", (e) => {
      state.opacity = Number(e.target.value);
      for (const m of [rsei.mapA, rsei.mapB]) if (m.getLayer("data")) m.setPaintProperty("data", "raster-opacity", state.opacity);
    });
    $("compare-mode").addEventListener("change", (e) => { state.compare = e.target.value; applyCompare(); });
    $("compare-year").addEventListener("change", (e) => {
      state.compareYear = Number(e.target.value);
      if (state.compare !== "off") setTiles(rsei.mapB, state.compareYear);
      $("map-b-year").textContent = String(state.compareYear);
      writeHash();
    });
    const toggle = (box, ids) => $(box).addEventListener("change", (e) => {
      for (const m of [rsei.mapA, rsei.mapB]) for (const id of ids) if (m.getLayer(id)) m.setLayoutProperty(id, "visibility", e.target.checked ? "visible" : "none");
    });
    toggle("show-outline", ["outline"]);
    toggle("show-mines", ["mines-fill", "mines-line"]);
    document.body.dataset.state = "ready";
  }

  start();
})();
