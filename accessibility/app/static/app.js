// The planner's workbench: the page over the JSON API (/docs).
// Every data string (commune, service, site names, messages) is put in the page with
// textContent or as a DOM text node, never with innerHTML.
"use strict";

const fmt = new Intl.NumberFormat("fr-FR", { maximumFractionDigits: 0 });
const fmt1 = new Intl.NumberFormat("fr-FR", { maximumFractionDigits: 1, minimumFractionDigits: 1 });
const $ = (id) => document.getElementById(id);

const state = {
  meta: null, access: null, cells: null, cellLayer: null, siteLayer: null,
  addedLayer: null, tourLayer: null, communeLayer: null,
  added: [], removed: [], result: null, kept: [],
};

function el(tag, text, attrs) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  return e;
}

function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

function minutes(v) { return v === null || v === undefined ? "n.d." : fmt1.format(v) + "\u00a0min"; }

function showMessage(text) {
  const m = $("message");
  m.textContent = text || "";
  m.hidden = !text;
}

async function api(path, body) {
  const opts = body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  };
  const r = await fetch(path, opts);
  if (!r.ok) {
    let msg = "Erreur " + r.status;
    try { const j = await r.json(); msg = j.message || msg; } catch (e) { /* not JSON */ }
    showMessage(msg);
    throw new Error(msg);
  }
  showMessage("");
  return r;
}

function selection() {
  const w = $("window");
  return { category: $("category").value, season: $("season").value, window: w.disabled || !w.value ? null : w.value };
}

function windowChoice() {
  // a window applies only to the categories whose sources publish opening hours
  const ok = state.meta.window_categories.includes($("category").value);
  $("window").disabled = !ok;
  if (!ok) $("window").value = "";
}

function scenarioRequest() {
  return Object.assign(selection(), { added: state.added.map((a) => a.request), removed: state.removed.map((r) => r.site_id) });
}

// --- the map ---------------------------------------------------------------------------

const map = L.map("map", { preferCanvas: false });
window.appMap = map;

function colour(t, thr) {
  if (t === null || t === undefined) return "#9e9e9e";
  if (t <= thr / 2) return "#1a9641";
  if (t <= thr) return "#a6d96a";
  if (t <= 1.5 * thr) return "#fee08b";
  if (t <= 2 * thr) return "#fdae61";
  return "#d7191c";
}

function paintCells(times) {
  const thr = state.access.threshold_min;
  state.cellLayer.eachLayer((layer) => {
    const i = layer.feature.properties.i;
    layer.setStyle({ fillColor: colour(times[i], thr), fillOpacity: 0.65, weight: 0.3, color: "#555" });
    layer.cellTime = times[i];
  });
}

function cellTooltip(layer) {
  const p = layer.feature.properties;
  const box = el("div");
  box.appendChild(el("div", (state.communeNames[p.commune_code] || p.commune_code)));
  box.appendChild(el("div", fmt.format(p.pop_total) + " habitants, " + minutes(layer.cellTime)));
  return box;
}

function legend() {
  const ctl = L.control({ position: "bottomright" });
  ctl.onAdd = () => { const d = el("div", null, { class: "legend", id: "legend" }); return d; };
  ctl.addTo(map);
}

function drawLegend() {
  const d = $("legend");
  clear(d);
  const thr = state.access.threshold_min;
  d.appendChild(el("strong", state.access.category_label + (state.access.window_label ? " ouverts " + state.access.window_label : "")));
  const rows = [[thr / 2, "≤ " + fmt.format(thr / 2) + " min"], [thr, "≤ " + fmt.format(thr) + " min (seuil)"],
    [1.5 * thr, "≤ " + fmt.format(1.5 * thr) + " min"], [2 * thr, "≤ " + fmt.format(2 * thr) + " min"],
    [3 * thr, "plus"], [null, "aucun accès"]];
  for (const [t, label] of rows) {
    const r = el("div");
    const sw = el("i"); sw.style.background = colour(t, thr);
    r.appendChild(sw); r.appendChild(document.createTextNode(label));
    d.appendChild(r);
  }
}

function drawSites() {
  if (state.siteLayer) state.siteLayer.remove();
  state.siteLayer = L.layerGroup().addTo(map);
  const removed = new Set(state.removed.map((r) => r.site_id));
  state.access.sites.forEach((s, i) => {
    const closed = removed.has(s.site_id);
    const m = L.circleMarker([s.lat, s.lon], {
      radius: 6, color: "#222", weight: 1.5, fillColor: closed ? "#ffffff" : "#2c7bb6", fillOpacity: 1,
      className: "site-marker site-" + i, bubblingMouseEvents: false,
    });
    const tip = el("div", (closed ? "Fermé : " : "") + s.label);
    tip.appendChild(el("div", state.communeNames[s.commune_code] || ""));
    m.bindTooltip(tip);
    m.on("click", () => { if (modeValue() === "remove") toggleRemoved(s); });
    m.addTo(state.siteLayer);
  });
}

function drawAdded() {
  if (state.addedLayer) state.addedLayer.remove();
  state.addedLayer = L.layerGroup().addTo(map);
  state.added.forEach((a, i) => {
    if (a.lat === null) return;  // a commune: placed when the answer gives its town hall
    const m = L.circleMarker([a.lat, a.lon], { radius: 8, color: "#000", weight: 2, fillColor: "#fdae61", fillOpacity: 1, className: "added-marker" });
    m.bindTooltip(el("div", "Nouveau site " + (i + 1) + " : " + a.label));
    m.addTo(state.addedLayer);
  });
}

function modeValue() { return document.querySelector("input[name=mode]:checked").value; }

// --- the scenario ----------------------------------------------------------------------

function listChanges() {
  const ul = $("changes");
  clear(ul);
  state.added.forEach((a, i) => {
    const li = el("li", "Ajout : " + a.label, { "data-lon": a.request.lon ?? "", "data-lat": a.request.lat ?? "" });
    const b = el("button", "retirer", { type: "button" });
    b.addEventListener("click", () => { state.added.splice(i, 1); refresh(); });
    li.appendChild(b); ul.appendChild(li);
  });
  state.removed.forEach((r, i) => {
    const li = el("li", "Fermeture : " + r.label + " (" + (state.communeNames[r.commune_code] || r.commune_code || "") + ")");
    const b = el("button", "annuler", { type: "button" });
    b.addEventListener("click", () => { state.removed.splice(i, 1); refresh(); });
    li.appendChild(b); ul.appendChild(li);
  });
}

function toggleRemoved(site) {
  const i = state.removed.findIndex((r) => r.site_id === site.site_id);
  if (i >= 0) state.removed.splice(i, 1); else state.removed.push(site);
  refresh();
}

function addPoint(lon, lat, label) {
  if (state.added.length >= state.meta.limits.added) {
    showMessage("Au plus " + state.meta.limits.added + " nouveaux sites par scénario.");
    return;
  }
  lon = Math.round(lon * 1e5) / 1e5; lat = Math.round(lat * 1e5) / 1e5;
  state.added.push({ request: { lon: lon, lat: lat }, lon: lon, lat: lat, label: label || (lon.toFixed(5) + ", " + lat.toFixed(5)) });
  refresh();
}

async function refresh() {
  listChanges(); drawSites(); drawAdded();
  if (!state.added.length && !state.removed.length) {
    $("figures").hidden = true; state.result = null; paintCells(state.access.times); return;
  }
  const body = scenarioRequest();
  let r;
  try { r = await api("/api/scenario", body); } catch (e) {
    state.added = state.added.filter((a) => a.ok); listChanges(); drawAdded(); return;
  }
  const res = await r.json();
  state.added.forEach((a, i) => { a.ok = true; a.lon = res.added[i].lon; a.lat = res.added[i].lat; });
  drawAdded();
  showFigures(res, body);
}

function setFigure(id, value, text) {
  const e = $(id);
  e.textContent = text;
  e.dataset.value = value === null || value === undefined ? "" : String(value);
}

function showFigures(res, body) {
  state.result = { res: res, body: body };
  $("figures").hidden = false;
  $("elapsed").textContent = "(" + fmt.format(res.elapsed_ms) + " ms)";
  $("summary").textContent = res.summary_fr;
  setFigure("newly-total", res.newly_within.total, fmt.format(res.newly_within.total));
  setFigure("newly-65", res.newly_within.age_65plus, fmt.format(res.newly_within.age_65plus));
  setFigure("newly-15", res.newly_within.under_15, fmt.format(res.newly_within.under_15));
  setFigure("no-longer", res.no_longer_within, fmt.format(res.no_longer_within));
  setFigure("mean", res.mean_after_min, minutes(res.mean_before_min) + " → " + minutes(res.mean_after_min));
  const ps = $("priority-served"); clear(ps);
  if (!res.priority_served.length) ps.appendChild(el("li", "aucune"));
  for (const p of res.priority_served) {
    ps.appendChild(el("li", p.commune_name + " (rang " + p.rank + ") : +" + fmt.format(p.newly_within) + " habitants", { "data-code": p.commune_code }));
  }
  const tb = $("epci").tBodies[0]; clear(tb);
  for (const e of res.epci) {
    const tr = el("tr");
    tr.appendChild(el("td", e.epci_name));
    tr.appendChild(el("td", minutes(e.mean_before_min)));
    tr.appendChild(el("td", minutes(e.mean_after_min)));
    tr.appendChild(el("td", e.change_mean_min === null ? "n.d." : fmt1.format(e.change_mean_min), { "data-value": e.change_mean_min === null ? "" : e.change_mean_min }));
    tb.appendChild(tr);
  }
  showSheet(res.sheet);
  paintCells(res.times_after);
}

function showSheet(sheet) {
  $("sheet").hidden = !sheet;
  if (!sheet) return;
  $("sheet-place").textContent = sheet.place;
  const tb = $("catchment").tBodies[0]; clear(tb);
  for (const c of sheet.catchment) {
    const tr = el("tr", null, { "data-minutes": c.minutes });
    tr.appendChild(el("td", fmt.format(c.minutes) + " min ou moins"));
    tr.appendChild(el("td", fmt.format(c.pop_total), { "data-value": c.pop_total, class: "pop-total" }));
    tr.appendChild(el("td", fmt.format(c.pop_65plus), { "data-value": c.pop_65plus }));
    tr.appendChild(el("td", fmt.format(c.pop_under15), { "data-value": c.pop_under15 }));
    tb.appendChild(tr);
  }
  const n = sheet.nearest;
  const p = $("sheet-nearest");
  p.textContent = "Site le plus proche pour " + fmt.format(n.population) + " habitants (gain moyen " +
    minutes(n.mean_saved_min) + ") ; " + fmt.format(n.newly_within) + " habitants passent sous le seuil.";
  p.dataset.newly = String(n.newly_within); p.dataset.population = String(n.population);
  $("sheet-rank").textContent = "Classé " + sheet.rank + "e sur " + sheet.n_ranked + " emplacements comparés (le projet et les mairies).";
  $("sheet-rank").dataset.rank = String(sheet.rank);
}

// --- comparison, optimiser, tour, exports -----------------------------------------------

function keep() {
  if (!state.result) { showMessage("Aucun scénario à garder : ajoutez ou fermez d'abord un site."); return; }
  if (state.kept.length >= state.meta.limits.compared) state.kept.shift();
  state.kept.push(state.result.res);
  const head = $("compare").tHead; const tb = $("compare").tBodies[0];
  clear(head); clear(tb);
  const hr = el("tr"); hr.appendChild(el("th", ""));
  state.kept.forEach((r, i) => hr.appendChild(el("th", "Scénario " + (i + 1))));
  head.appendChild(hr);
  const rows = [
    ["Changements", (r) => r.added.map((a) => "+ " + a.label).concat(r.removed.map((a) => "− " + a.label)).join(" ; ")],
    ["Catégorie", (r) => r.category_label + (r.season === "winter" ? " (hiver)" : "")],
    ["Nouveaux habitants sous le seuil", (r) => fmt.format(r.newly_within.total)],
    ["dont 65 ans et plus", (r) => fmt.format(r.newly_within.age_65plus)],
    ["dont moins de 15 ans", (r) => fmt.format(r.newly_within.under_15)],
    ["Passent au-dessus du seuil", (r) => fmt.format(r.no_longer_within)],
    ["Temps moyen après", (r) => minutes(r.mean_after_min)],
    ["Communes prioritaires desservies", (r) => String(r.priority_served.length)],
  ];
  for (const [label, f] of rows) {
    const tr = el("tr"); tr.appendChild(el("th", label));
    for (const r of state.kept) tr.appendChild(el("td", f(r)));
    tb.appendChild(tr);
  }
}

async function optimise() {
  const body = Object.assign(selection(), { k: Number($("k").value), model: $("model").value, removed: state.removed.map((r) => r.site_id) });
  $("optimise-result").textContent = "Calcul en cours…";
  let r;
  try { r = await api("/api/optimise", body); } catch (e) { $("optimise-result").textContent = ""; return; }
  const res = await r.json();
  $("optimise-result").textContent = "Meilleurs sites : " + res.chosen.map((c) => c.label).join(", ") + ".";
  state.added = res.chosen.map((c) => ({ request: { commune: c.commune_code }, lon: c.lon, lat: c.lat, label: c.label, ok: true }));
  refresh();
}

async function tour() {
  const body = Object.assign(selection(), {
    depot: $("depot").value, days: Number($("days").value), day_hours: Number($("day-hours").value),
    stop_minutes: Number($("stop-minutes").value),
  });
  $("tour-summary").textContent = "Calcul en cours…";
  let r;
  try { r = await api("/api/tour", body); } catch (e) { $("tour-summary").textContent = ""; return; }
  const res = await r.json();
  $("tour-summary").textContent = res.summary_fr + " (dépôt : " + res.depot.label + ")";
  const ol = $("tour-stops"); clear(ol);
  if (state.tourLayer) state.tourLayer.remove();
  state.tourLayer = L.layerGroup().addTo(map);
  const colours = ["#7b3294", "#008837", "#e66101", "#0571b0", "#ca0020"];
  const days = [...new Set(res.stops.map((s) => s.day))];
  for (const d of days) {
    const stops = res.stops.filter((s) => s.day === d);
    const line = res.paths[d] ? res.paths[d].map((p) => [p[1], p[0]]) :
      [[res.depot.lat, res.depot.lon]].concat(stops.map((s) => [s.lat, s.lon]), [[res.depot.lat, res.depot.lon]]);
    L.polyline(line, { color: colours[(d - 1) % colours.length], weight: 4, opacity: 0.8, className: "tour-line" }).addTo(state.tourLayer);
    for (const s of stops) {
      ol.appendChild(el("li", "Jour " + s.day + ", " + s.arrive + (s.depart ? "–" + s.depart : "") + " : " + s.commune_name));
      L.circleMarker([s.lat, s.lon], { radius: 5, color: colours[(d - 1) % colours.length] })
        .bindTooltip(el("div", "Jour " + s.day + " : " + s.commune_name)).addTo(state.tourLayer);
    }
    ol.appendChild(el("li", "Jour " + d + ", " + res.returns[d] + " : retour au dépôt"));
  }
}

async function exportAs(kind) {
  if (!state.result) return;
  let r;
  try { r = await api("/api/export/" + kind, state.result.body); } catch (e) { return; }
  const blob = await r.blob();
  const a = el("a", null, { href: URL.createObjectURL(blob), download: "scenario." + kind });
  document.body.appendChild(a); a.click(); a.remove();
}

// --- start -----------------------------------------------------------------------------

async function loadAccess() {
  windowChoice();
  const sel = selection();
  if (sel.window === null) delete sel.window;
  const q = new URLSearchParams(sel);
  $("threshold").textContent = "Calcul en cours…";
  const r = await api("/api/access?" + q.toString());
  state.access = await r.json();
  $("threshold").textContent = "Seuil : " + fmt.format(state.access.threshold_min) + " min en voiture." +
    (state.access.window_label ? " Sites ouverts " + state.access.window_label + " seulement." : "");
  state.added = []; state.removed = []; state.result = null;
  $("figures").hidden = true;
  drawLegend(); paintCells(state.access.times); listChanges(); drawSites(); drawAdded();
  const ol = $("priorities"); clear(ol);
  const tiered = state.access.priority.filter((p) => p.priority_tier);
  for (const p of tiered.slice(0, 15)) {
    ol.appendChild(el("li", p.commune_name + " — " + p.priority_tier + " (score " + p.priority_score + ")"));
  }
  const prio = new Set(tiered.map((p) => p.commune_code));
  state.communeLayer.eachLayer((l) => l.setStyle({ color: prio.has(l.feature.properties.commune_code) ? "#b2182b" : "#777", weight: prio.has(l.feature.properties.commune_code) ? 2 : 0.7 }));
}

function fillSelect(sel, items, value, label) {
  clear(sel);
  for (const it of items) sel.appendChild(el("option", label(it), { value: value(it) }));
}

async function start() {
  state.meta = await (await api("/api/meta")).json();
  $("territory").textContent = "— " + state.meta.territory;
  state.communeNames = Object.fromEntries(state.meta.communes.map((c) => [c.code, c.name]));
  fillSelect($("category"), state.meta.categories, (c) => c.key, (c) => c.label + " (" + fmt.format(c.threshold_min) + " min)");
  $("category").value = "france_services";
  fillSelect($("season"), state.meta.seasons, (s) => s.key, (s) => s.label);
  fillSelect($("window"), [{ key: "", label: "à toute heure" }].concat(state.meta.windows.map((w) => ({ key: w.key, label: "ouverts " + w.label }))), (w) => w.key, (w) => w.label);
  fillSelect($("commune"), state.meta.communes, (c) => c.code, (c) => c.name);
  fillSelect($("depot"), state.meta.communes, (c) => c.code, (c) => c.name);
  fillSelect($("k"), Array.from({ length: state.meta.limits.k }, (_, i) => i + 1), (k) => k, (k) => k);
  map.fitBounds(state.meta.bounds);
  const [cells, communes] = await Promise.all([
    api("/api/cells").then((r) => r.json()), api("/api/communes").then((r) => r.json()),
  ]);
  map.createPane("routes");
  map.getPane("routes").style.zIndex = 350;  // under the data (overlayPane: 400)
  map.getPane("routes").style.pointerEvents = "none";
  state.roadLayer = L.geoJSON(null, { pane: "routes", interactive: false,
    style: (f) => ({ color: f.properties.color, weight: f.properties.weight, opacity: 0.9 }) }).addTo(map);
  api("/api/roads").then((r) => r.json()).then((j) => state.roadLayer.addData(j)).catch(() => {});
  state.communeLayer = L.geoJSON(communes, { style: { fill: false, color: "#777", weight: 0.7 }, interactive: false }).addTo(map);
  state.cellLayer = L.geoJSON(cells, { style: { weight: 0.3 } }).addTo(map);
  state.cellLayer.bindTooltip(cellTooltip, { sticky: true });
  map.on("click", (ev) => { if (modeValue() === "add") addPoint(ev.latlng.lng, ev.latlng.lat); });
  legend();
  L.control.layers(null, { "Routes": state.roadLayer, "Carreaux (temps d'accès)": state.cellLayer }, { collapsed: false }).addTo(map);
  await loadAccess();
  $("category").addEventListener("change", loadAccess);
  $("season").addEventListener("change", loadAccess);
  $("window").addEventListener("change", loadAccess);
  $("add-commune").addEventListener("click", () => {
    const code = $("commune").value;
    if (state.added.length >= state.meta.limits.added) { showMessage("Au plus " + state.meta.limits.added + " nouveaux sites par scénario."); return; }
    state.added.push({ request: { commune: code }, lon: null, lat: null, label: "Mairie de " + state.communeNames[code] });
    refresh();
  });
  $("clear").addEventListener("click", () => { state.added = []; state.removed = []; refresh(); });
  $("keep").addEventListener("click", keep);
  $("optimise").addEventListener("click", optimise);
  $("tour").addEventListener("click", tour);
  for (const b of document.querySelectorAll("[data-export]")) b.addEventListener("click", () => exportAs(b.dataset.export));
  document.body.dataset.ready = "1";
}

start();
