/* geotagger offline detail layers: place labels by zoom, admin-1 borders, rivers and lakes.
 *
 * The layer files (layers/*.js, built by packaging/build_map_layers.py) call GEOTAGGER_LAYER(name, data)
 * and are loaded lazily, as script tags, the first time the zoom needs them (file:// pages may not
 * fetch JSON in every browser). Labels are drawn only for the visible bounds, most populous first,
 * skipping any label whose box would overlap one already placed.
 *
 * geotaggerLayers.attach(map, colors, manifest) is called by geotagger-map.js; .labels() lists the
 * labels on screen (tests and diagnostics).
 */
(function () {
  "use strict";
  var script = document.currentScript;
  var base = script && script.src ? script.src.replace(/[^/]*$/, "") + "layers/" : "layers/";
  var loaded = {}, waiting = {}, requested = {};
  var MAX_LABELS = 220;
  var CELL = 1;  // degrees: the grid that indexes each place tier

  window.GEOTAGGER_LAYER = function (name, data) {
    loaded[name] = data;
    (waiting[name] || []).forEach(function (callback) { callback(data); });
    delete waiting[name];
  };

  function need(name, callback) {
    if (loaded[name]) { callback(loaded[name]); return; }
    (waiting[name] = waiting[name] || []).push(callback);
    if (requested[name]) { return; }
    requested[name] = true;
    var tag = document.createElement("script");
    tag.src = base + name + ".js";
    tag.onerror = function () {
      if (window.console) { console.error("map layer missing: " + tag.src); }
    };
    document.head.appendChild(tag);
  }

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  /* A tier's flat [lat, lon, name, ...] list indexed by 1-degree cell; order within a cell is the
     file's order (most populous first). */
  function indexTier(tier, rank) {
    var cells = {}, flat = tier.places;
    for (var i = 0; i < flat.length; i += 3) {
      var key = Math.floor(flat[i] / CELL) + ":" + Math.floor(flat[i + 1] / CELL);
      (cells[key] = cells[key] || []).push(i);
    }
    return { minZoom: tier.minZoom, maxZoom: tier.maxZoom || 99, flat: flat, cells: cells, rank: rank,
             count: flat.length / 3, minZooms: tier.minZooms || null };
  }

  function wrapLon(x) { return ((x + 180) % 360 + 360) % 360 - 180; }

  /* A line or ring as the build script encodes it: the first lat, lon times `scale`, then the steps. */
  function decode(ints, scale) {
    var out = [], lat = 0, lon = 0;
    for (var i = 0; i + 1 < ints.length; i += 2) {
      lat += ints[i]; lon += ints[i + 1];
      out.push([lat / scale, lon / scale]);
    }
    return out;
  }

  function makeShape(data, style) {
    if (data.polygons) {
      return L.polygon(data.polygons.map(function (rings) {
        return rings.map(function (r) { return decode(r, data.scale); });
      }), style);
    }
    return L.polyline(data.lines.map(function (r) { return decode(r, data.scale); }), style);
  }

  var state = { map: null, colors: {}, tiers: [], labelLayer: null, lines: {}, placed: [], order: [] };

  /* Candidates in the visible bounds of one tier, as [lat, lon(shifted into view), name]. */
  function visible(tier, bounds) {
    var out = [];
    var south = Math.max(-90, bounds.getSouth()), north = Math.min(90, bounds.getNorth());
    var west = bounds.getWest(), east = bounds.getEast();
    if (east - west >= 360) { west = -180; east = 180; }
    var rows = Math.floor(north / CELL) - Math.floor(south / CELL) + 1;
    var cols = Math.floor(east / CELL) - Math.floor(west / CELL) + 1;
    if (rows * cols > tier.count) {  // a wide view of a small tier: scan the list
      for (var i = 0; i < tier.flat.length; i += 3) {
        var lat = tier.flat[i], lon = tier.flat[i + 1];
        if (lat < south || lat > north) { continue; }
        var shifted = lon;
        while (shifted < west) { shifted += 360; }
        while (shifted > east) { shifted -= 360; }
        if (shifted >= west) { out.push([lat, shifted, tier.flat[i + 2], i / 3]); }
      }
      return out;
    }
    for (var y = Math.floor(south / CELL); y <= Math.floor(north / CELL); y++) {
      for (var x = Math.floor(west / CELL); x <= Math.floor(east / CELL); x++) {
        var wrapped = wrapLon(x * CELL + CELL / 2) - CELL / 2;
        var shift = x * CELL - wrapped;
        var list = tier.cells[y + ":" + Math.round(wrapped / CELL)];
        if (!list) { continue; }
        for (var k = 0; k < list.length; k++) {
          var j = list[k];
          var la = tier.flat[j], lo = tier.flat[j + 1] + shift;
          if (la >= south && la <= north && lo >= west && lo <= east) { out.push([la, lo, tier.flat[j + 2], j / 3]); }
        }
      }
    }
    return out;
  }

  function overlaps(box, boxes) {
    for (var i = 0; i < boxes.length; i++) {
      var b = boxes[i];
      if (box[0] < b[2] && box[2] > b[0] && box[1] < b[3] && box[3] > b[1]) { return true; }
    }
    return false;
  }

  function drawLabels() {
    var map = state.map;
    if (!map || !state.labelLayer) { return; }
    var zoom = map.getZoom(), bounds = map.getBounds(), size = map.getSize();
    var boxes = [], markers = [];
    state.labelLayer.clearLayers();
    state.placed = [];
    for (var t = 0; t < state.order.length && markers.length < MAX_LABELS; t++) {
      var tier = state.order[t];
      if (zoom < tier.minZoom || zoom >= tier.maxZoom) { continue; }
      var found = visible(tier, bounds);
      for (var i = 0; i < found.length && markers.length < MAX_LABELS; i++) {
        var p = found[i];
        if (tier.minZooms && zoom < tier.minZooms[p[3]]) { continue; }  // too small to carry its name yet
        var pt = map.latLngToContainerPoint([p[0], p[1]]);
        if (pt.x < 0 || pt.y < 0 || pt.x > size.x || pt.y > size.y) { continue; }
        var country = tier.country, big = !country && tier.rank <= 1;
        var width = p[2].length * (big || country ? 7.5 : 6.5) + (country ? 4 : 12), height = big ? 17 : 15;
        var left = country ? pt.x - width / 2 : pt.x - 4;
        var box = [left - 3, pt.y - height / 2 - 2, left + width + 3, pt.y + height / 2 + 2];
        if (overlaps(box, boxes)) { continue; }
        boxes.push(box);
        var cls = country ? "gt-place gt-country" : "gt-place gt-place-t" + tier.rank;
        // tier.rank: 0 for the largest cities (places-0), 0.5 for country names, then 1, 2, ...
        var html = country ? "<span class=\"gt-place-name\">" + escapeHtml(p[2]) + "</span>"
          : "<span class=\"gt-place-dot\"></span><span class=\"gt-place-name\">" + escapeHtml(p[2]) + "</span>";
        markers.push(L.marker([p[0], p[1]], {
          icon: L.divIcon({ className: cls, html: html, iconSize: [width, height],
                            iconAnchor: country ? [width / 2, height / 2] : [4, height / 2] }),
          interactive: false, keyboard: false, pane: "gtLabels"
        }));
        state.placed.push({ name: p[2], lat: p[0], lon: p[1], tier: tier.rank, zoom: zoom });
      }
    }
    markers.forEach(function (m) { state.labelLayer.addLayer(m); });
  }

  var LINE_LAYERS = [
    { name: "lakes", minZoom: 4, kind: "polygon" },
    { name: "lakes-small", minZoom: 8, kind: "polygon" },
    { name: "rivers", minZoom: 5, kind: "line" },
    { name: "rivers-more", minZoom: 8, kind: "line" },
    { name: "admin1", minZoom: 5, kind: "border" },
    { name: "admin1-fine", minZoom: 7, kind: "border" },
    { name: "borders", minZoom: "land", kind: "country" }  // with the detailed land (manifest.land.minZoom)
  ];

  function lineStyle(kind) {
    var c = state.colors;
    if (kind === "polygon") {
      return { pane: "gtWater", color: c.lake || c.water, weight: 0.6, fillColor: c.lake || c.water, fillOpacity: 1,
               interactive: false, renderer: state.renderer };
    }
    if (kind === "line") {
      return { pane: "gtWater", color: c.river || c.water, weight: 1.1, opacity: 0.9, interactive: false,
               renderer: state.renderer };
    }
    if (kind === "country") {
      return { pane: "gtBorders", color: c.border, weight: 1.3, opacity: 1, interactive: false,
               renderer: state.bordersRenderer };
    }
    return { pane: "gtBorders", color: c.admin1 || c.border, weight: 0.8, opacity: 0.9, dashArray: "4 3",
             interactive: false, renderer: state.bordersRenderer };
  }

  function updateLines() {
    var zoom = state.map.getZoom();
    LINE_LAYERS.forEach(function (spec) {
      var minZoom = spec.minZoom === "land" ? (state.land ? state.land.minZoom : 99) : spec.minZoom;
      var on = zoom >= minZoom;
      var layer = state.lines[spec.name];
      if (on && !layer) {
        state.lines[spec.name] = "loading";
        need(spec.name, function (data) {
          var made = makeShape(data, lineStyle(spec.kind));
          state.lines[spec.name] = made;
          if (state.map.getZoom() >= minZoom) { made.addTo(state.map); }
        });
      } else if (layer && layer !== "loading") {
        if (on && !state.map.hasLayer(layer)) { layer.addTo(state.map); }
        if (!on && state.map.hasLayer(layer)) { state.map.removeLayer(layer); }
      }
    });
  }

  function loadTiers() {
    var zoom = state.map.getZoom();
    state.manifest.forEach(function (entry, rank) {
      if (zoom < entry.minZoom || entry.maxZoom && zoom >= entry.maxZoom || state.tiers[entry.file]) { return; }
      state.tiers[entry.file] = "loading";
      need(entry.file, function (data) {
        var tier = indexTier(data, entry.rank === undefined ? rank - 1 : entry.rank);
        tier.country = !!entry.country;
        state.tiers[entry.file] = tier;
        state.order.push(tier);
        state.order.sort(function (a, b) { return a.rank - b.rank; });
        drawLabels();
      });
    });
  }

  /* From land.minZoom on, the 1:10m land tiles in view and the 1:10m country borders replace the 1:50m
     basemap: its coast is kilometres off at city scale. */
  function updateLand() {
    var land = state.land, map = state.map;
    if (!land || !land.files.length) { return; }
    var on = map.getZoom() >= land.minZoom;
    if (state.basemap && state.basemapFilled !== !on) {
      state.basemapFilled = !on;
      // Its 1:50m coasts and borders go too: the detailed land and the "borders" layer take over.
      state.basemap.setStyle({ fillOpacity: on ? 0 : 1, opacity: on ? 0 : 1 });
    }
    if (!on) { if (map.hasLayer(state.landGroup)) { map.removeLayer(state.landGroup); } return; }
    if (!map.hasLayer(state.landGroup)) { state.landGroup.addTo(map); }
    var b = map.getBounds(), size = land.tile;
    var south = Math.max(-90, b.getSouth()), north = Math.min(89.999, b.getNorth());
    for (var y = Math.floor(south / size) * size; y <= north; y += size) {
      for (var x = Math.floor(b.getWest() / size) * size; x <= b.getEast(); x += size) {
        var name = "land/" + y + "_" + wrapLon(x);
        if (!state.landFiles[name] || state.landTiles[name]) { continue; }
        state.landTiles[name] = true;
        need(name, function (data) {
          var c = state.colors;
          makeShape(data, { pane: "gtLand", renderer: state.landRenderer, interactive: false, fillOpacity: 1,
                            fillColor: c.land, color: c.land, weight: 1 }).addTo(state.landGroup);
        });
      }
    }
  }

  function refresh() { loadTiers(); updateLand(); updateLines(); drawLabels(); }

  window.geotaggerLayers = {
    attach: function (map, colors, manifest, basemap) {
      state.map = map;
      state.colors = colors || {};
      manifest = manifest || {};
      // Country names rank after the largest cities (capitals keep their label) and before the rest.
      state.manifest = [{ file: "countries", minZoom: 2, maxZoom: 6, rank: 0.5, country: true }]
        .concat(manifest.tiers || []);
      state.basemap = basemap || null;
      state.basemapFilled = true;
      state.land = manifest.land || null;
      state.landFiles = {};
      (state.land ? state.land.files : []).forEach(function (name) { state.landFiles[name] = true; });
      state.landTiles = {};
      // Below the basemap's pane (overlay, 400): its borders stay drawn over the detailed land.
      map.createPane("gtLand").style.zIndex = 399;
      map.getPane("gtLand").style.pointerEvents = "none";
      state.landRenderer = L.canvas({ pane: "gtLand", padding: 0.3 });
      state.landGroup = L.layerGroup();
      state.tiers = {};
      // Above the basemap's opaque land (overlay pane, 400), below candidates' circles drawn later in it.
      map.createPane("gtWater").style.zIndex = 401;
      map.createPane("gtBorders").style.zIndex = 402;
      map.getPane("gtWater").style.pointerEvents = "none";
      map.getPane("gtBorders").style.pointerEvents = "none";
      var labels = map.createPane("gtLabels");
      labels.style.zIndex = 450;
      labels.style.pointerEvents = "none";
      state.renderer = L.canvas({ pane: "gtWater", padding: 0.3 });
      state.bordersRenderer = L.canvas({ pane: "gtBorders", padding: 0.3 });
      state.labelLayer = L.layerGroup().addTo(map);
      var container = map.getContainer();
      container.style.setProperty("--gt-label", state.colors.label || "#222");
      container.style.setProperty("--gt-halo", state.colors.halo || "#fff");
      container.style.setProperty("--gt-dot", state.colors.dot || "#444");
      if (map.attributionControl) {
        map.attributionControl.addAttribution(
          "<a href=\"https://www.geonames.org/\">GeoNames</a> (CC BY) | GSHHG | lakes &copy; " +
          "<a href=\"https://www.openstreetmap.org/copyright\">OSM</a>");
      }
      map.on("moveend zoomend", refresh);
      refresh();
    },
    labels: function () { return state.placed.slice(); },
    /* How many requested layer files have not arrived yet (0: what this zoom needs is drawn). */
    pending: function () {
      return Object.keys(requested).filter(function (name) { return !loaded[name]; }).length;
    },
    loadedLayers: function () { return Object.keys(loaded).sort(); }
  };
})();
