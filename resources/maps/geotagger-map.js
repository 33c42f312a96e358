/* geotagger map page: the only JS a host talks to.
 *
 * Host -> page (documented whitelist, see geotagger/maps/page.py JS_API):
 *   geotagger.showLibrary(points)      [{id, lat, lon, title, popup}] clustered photo markers
 *   geotagger.showCandidates(payload)  {photo: {id, title, lat, lon}, candidates: [{index, lat, lon,
 *                                       radius_km, label, level, confidence, source}], fit: bool}
 *   geotagger.showOutline(geometry)    GeoJSON outline of the chosen candidate's region (null clears)
 *   geotagger.clearCandidates()
 *   geotagger.focus(lat, lon, zoom)
 *   geotagger.fitAll()
 *   geotagger.setPlaceMode(on)         crosshair cursor while the host waits for a click
 *   geotagger.setSelection(ids)        highlight these library photos
 *   geotagger.showTracks(tracks)       [{id, name, points: [[lat, lon], ...], total}] one polyline per
 *                                       imported track, each in its own colour (thinned by the host)
 *   geotagger.showTrackMatches(points) [{id, title, lat, lon, gap_s, track, time}] where the selected
 *                                       photos fall on the tracks for the trial camera clock
 *   geotagger.fitTracks()              zoom to the tracks (and the matched photos)
 * Offline detail layers (place labels, admin-1 borders, rivers, lakes, 1:10m land from zoom 8) come
 * from geotagger-layers.js. showCandidates moves markers that would hide each other aside (#1 stays on
 * its point and on top), fits to the candidates comparable to the best one, and drops the old outline.
 * Read-only, for tests and diagnostics (not in JS_API): candidateLayout(), labels(), view(), counts().
 * Page -> host (Qt WebChannel object "bridge", slots only): pageReady(), mapClicked(lat, lon),
 *   markerDragged(photoId, lat, lon), candidatePicked(index), photoPicked(id), jsLog(level, message).
 * Without Qt (an exported album page) the bridge is absent and the page is a plain viewer.
 */
(function () {
  "use strict";
  var state = { map: null, outline: null, bridge: null, library: null, candidates: null, colors: {}, selected: {},
                libraryMarkers: {}, pendingLogs: [] };

  function log(level, message) {
    if (state.bridge) { state.bridge.jsLog(level, String(message)); }
    else { state.pendingLogs.push([level, String(message)]); }
  }

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function dotIcon(selected) {
    return L.divIcon({ className: selected ? "gt-dot gt-dot-selected" : "gt-dot", iconSize: [12, 12] });
  }

  function connectBridge() {
    if (typeof qt === "undefined" || !qt.webChannelTransport || typeof QWebChannel === "undefined") { return; }
    new QWebChannel(qt.webChannelTransport, function (channel) {
      state.bridge = channel.objects.bridge;
      api.bridge = state.bridge;  // the host's slots, reachable for tests and diagnostics
      state.pendingLogs.forEach(function (entry) { state.bridge.jsLog(entry[0], entry[1]); });
      state.pendingLogs = [];
      state.bridge.pageReady();
    });
  }

  var COMPARABLE = 0.5;  // auto-fit shows the candidates with at least half the best one's confidence
  var SPREAD = 30;  // px: a candidate marker closer than this to a better one is moved aside

  function candIcon(index, dx, dy) {
    return L.divIcon({ className: "gt-cand" + (index === 0 ? " gt-cand-best" : "") + (dx || dy ? " gt-cand-moved" : ""),
                       html: String(index + 1), iconSize: [24, 24], iconAnchor: [12 - dx, 12 - dy] });
  }

  /* Markers of nearby candidates would hide each other (#2 and #3 under #1): #1 stays on its point and
     on top; each later one that would touch an earlier one is moved aside on a ring around its point,
     with a thin leader line to where it really is. Re-run after every zoom. */
  function layoutCandidates() {
    if (!state.leaders) { return; }
    state.leaders.clearLayers();
    var placed = [];
    (state.candidateMarkers || []).slice().sort(function (a, b) { return a.index - b.index; }).forEach(function (c) {
      var at = state.map.latLngToLayerPoint([c.lat, c.lon]);
      var dx = 0, dy = 0;
      for (var step = 0; step < 24; step++) {
        var clash = placed.some(function (p) { return Math.abs(p.x - at.x - dx) < SPREAD && Math.abs(p.y - at.y - dy) < SPREAD; });
        if (!clash) { break; }
        var angle = -Math.PI / 4 + step * Math.PI / 4, ring = SPREAD * (1 + Math.floor(step / 8));
        dx = Math.round(ring * Math.cos(angle)); dy = Math.round(ring * Math.sin(angle));
      }
      placed.push({ x: at.x + dx, y: at.y + dy });
      c.marker.setIcon(candIcon(c.index, dx, dy));
      c.offset = [dx, dy];
      if (dx || dy) {
        var end = state.map.layerPointToLatLng([at.x + dx, at.y + dy]);
        L.polyline([[c.lat, c.lon], end], { color: state.colors.accent || "#1f6fd1", weight: 1.5, opacity: 0.9,
                                            interactive: false, className: "gt-cand-leader" }).addTo(state.leaders);
      }
    });
  }

  var api = {
    bridge: null,
    init: function (map, options) {
      state.map = map;
      state.colors = options.colors || {};
      map.setMinZoom(1);
      map.setMaxZoom(options.maxZoom || 18);
      map.getContainer().style.background = state.colors.water || "#cfe0ee";
      var basemap = null;
      if (window.GEOTAGGER_BASEMAP) {
        basemap = L.geoJSON(window.GEOTAGGER_BASEMAP, {
          attribution: "Natural Earth",
          interactive: false,
          style: function () {
            return { color: state.colors.border, weight: 0.9, fillColor: state.colors.land, fillOpacity: 1 };
          }
        }).addTo(map);
        map.eachLayer(function (layer) { if (layer instanceof L.TileLayer) { layer.bringToFront(); } });
      } else {
        log("error", "offline basemap missing");
      }
      if (window.geotaggerLayers && options.layers) {
        window.geotaggerLayers.attach(map, state.colors, options.layers, basemap);
      } else if (options.layers) {
        log("error", "offline map layers missing");
      }
      state.library = L.markerClusterGroup({
        maxClusterRadius: 40, showCoverageOnHover: false, disableClusteringAtZoom: options.maxZoom || 18,
        iconCreateFunction: function (cluster) {
          var n = cluster.getChildCount();
          var size = n < 10 ? 26 : n < 100 ? 32 : 38;
          return L.divIcon({ className: "gt-cluster", html: "<span>" + n + "</span>", iconSize: [size, size] });
        }
      });
      map.addLayer(state.library);
      state.candidates = L.featureGroup().addTo(map);
      state.leaders = L.layerGroup().addTo(map);
      map.on("zoomend", layoutCandidates);
      map.on("click", function (e) {
        var ll = e.latlng.wrap();
        if (state.bridge) { state.bridge.mapClicked(ll.lat, ll.lng); }
      });
      api.showLibrary(options.points || []);
      if ((options.points || []).length) { api.fitAll(); }
      if (options.interactive) { connectBridge(); }
    },

    showLibrary: function (points) {
      state.library.clearLayers();
      state.libraryMarkers = {};
      var markers = points.map(function (p) {
        var marker = L.marker([p.lat, p.lon], { icon: dotIcon(!!state.selected[p.id]), title: p.title || "",
                                                keyboard: false });
        marker.bindPopup(p.popup || "<b>" + escapeHtml(p.title || "") + "</b>");
        if (p.id !== null && p.id !== undefined) {
          state.libraryMarkers[p.id] = marker;
          marker.on("click", function () { if (state.bridge) { state.bridge.photoPicked(p.id); } });
        }
        return marker;
      });
      state.library.addLayers(markers);
    },

    setSelection: function (ids) {
      var wanted = {};
      (ids || []).forEach(function (id) { wanted[id] = true; });
      Object.keys(state.libraryMarkers).forEach(function (id) {
        var on = !!wanted[id];
        if (on !== !!state.selected[id]) { state.libraryMarkers[id].setIcon(dotIcon(on)); }
      });
      state.selected = wanted;
    },

    clearCandidates: function () {
      state.candidates.clearLayers();
      state.candidateMarkers = [];
      layoutCandidates();
      api.showOutline(null);
    },

    showOutline: function (geometry) {
      if (state.outline) { state.map.removeLayer(state.outline); state.outline = null; }
      if (!geometry) { return; }
      state.outline = L.geoJSON(geometry, { interactive: false, style: {
        color: state.colors.accent || "#1f6fd1", weight: 2, dashArray: "6 4", fillOpacity: 0.06,
        className: "gt-outline" } }).addTo(state.map);
    },

    showCandidates: function (payload) {
      var layer = state.candidates;
      layer.clearLayers();
      state.candidateMarkers = [];
      api.showOutline(null);  // the outline belonged to the previous photo's choice; the host sends a new one
      var photo = payload.photo || {};
      var accent = state.colors.accent || "#1f6fd1";
      var focusArea = L.latLngBounds([]);  // the best candidate's circle and the candidates comparable to it
      var cands = payload.candidates || [];
      var top = cands.reduce(function (m, c) { return Math.max(m, c.confidence || 0); }, 0);
      cands.forEach(function (c) {
        if (c.index === 0 || (c.confidence || 0) >= COMPARABLE * top) { focusArea.extend([c.lat, c.lon]); }
        var strength = Math.max(0.15, Math.min(1, c.confidence || 0));
        if (c.radius_km > 0) {
          // Only the best candidate's area is filled: wide circles of weaker ones would tint the map.
          var best = c.index === 0;
          var circle = L.circle([c.lat, c.lon], { radius: c.radius_km * 1000, color: accent, weight: best ? 2 : 1,
                                                  opacity: best ? 0.9 : 0.5, dashArray: best ? null : "3 5",
                                                  fillColor: accent, fillOpacity: best ? 0.06 + 0.12 * strength : 0,
                                                  interactive: false }).addTo(layer);
          if (c.index === 0) { focusArea.extend(circle.getBounds()); }
        }
        if (c.outline) {
          L.geoJSON(c.outline, { interactive: false, style: { color: accent, weight: 2, dashArray: "4 4",
                                                               fill: false } }).addTo(layer);
        }
        var marker = L.marker([c.lat, c.lon], {
          icon: L.divIcon({ className: "gt-cand" + (c.index === 0 ? " gt-cand-best" : ""),
                            html: String(c.index + 1), iconSize: [24, 24] }),
          draggable: true, title: c.label || "", zIndexOffset: 1000 - c.index
        }).addTo(layer);
        marker.bindTooltip("<b>" + (c.index + 1) + ". " + escapeHtml(c.label || "") + "</b><br>" +
                           escapeHtml((c.level || "") + ", " + Math.round(100 * (c.confidence || 0)) + "%, " +
                                      (c.source || "")), { direction: "top", offset: [0, -10] });
        state.candidateMarkers.push({ marker: marker, index: c.index, lat: c.lat, lon: c.lon });
        marker.on("click", function () { if (state.bridge) { state.bridge.candidatePicked(c.index); } });
        marker.on("dragend", function () {
          var ll = marker.getLatLng().wrap();
          if (state.bridge) { state.bridge.markerDragged(photo.id, ll.lat, ll.lng); }
        });
      });
      if (photo.lat !== null && photo.lat !== undefined) {
        focusArea.extend([photo.lat, photo.lon]);
        var own = L.marker([photo.lat, photo.lon], { draggable: true, title: photo.title || "",
                                                     zIndexOffset: 2000 }).addTo(layer);
        own.bindTooltip(escapeHtml(photo.title || "") + " (current location)", { direction: "top" });
        own.on("dragend", function () {
          var ll = own.getLatLng().wrap();
          if (state.bridge) { state.bridge.markerDragged(photo.id, ll.lat, ll.lng); }
        });
      }
      if (payload.fit && focusArea.isValid()) {
        state.map.fitBounds(focusArea.pad(0.3), { maxZoom: 13, animate: false });
      }
      layoutCandidates();
    },

    /* Programmatic moves never animate: Leaflet drops a new view requested while a zoom animation
       runs, so a quick focus-then-fit would leave the map at the first view. */
    focus: function (lat, lon, zoom) {
      state.map.setView([lat, lon], zoom || state.map.getZoom(), { animate: false });
    },

    fitAll: function () {
      var bounds = state.library.getBounds();
      if (bounds.isValid()) { state.map.fitBounds(bounds.pad(0.1), { maxZoom: 12, animate: false }); }
    },

    setPlaceMode: function (on) {
      state.map.getContainer().classList.toggle("gt-placing", !!on);
    },

    /* The coordinate under a point of the map's container (CSS px from its top left): where photos
       dragged from the app's grid were dropped. */
    latLngAt: function (x, y) {
      var ll = state.map.containerPointToLatLng([x, y]).wrap();
      return [ll.lat, ll.lng];
    },

    /* For tests and diagnostics: each library marker's title and what its popup holds, parsed in an
       inert document (DOMParser runs no script and loads no image). */
    libraryMarkers: function () {
      var parser = new DOMParser();
      return (state.library ? state.library.getLayers() : []).map(function (marker) {
        var popup = marker.getPopup();
        var doc = parser.parseFromString(popup ? String(popup.getContent()) : "", "text/html");
        var bold = doc.body.querySelector("b");
        var anchor = doc.body.querySelector("a");
        var elements = Array.prototype.map.call(doc.body.querySelectorAll("*"), function (el) {
          return [el.tagName.toLowerCase()].concat(Array.prototype.map.call(el.attributes, function (a) {
            return a.name; })).join(" ");
        });
        return { title: marker.options.title, popupTitle: bold ? bold.textContent : null, elements: elements,
                 link: anchor ? new URL(anchor.getAttribute("href"), document.baseURI).href : null };
      });
    },

    /* For tests and diagnostics: each candidate marker's index and its on-screen offset in px. */
    candidateLayout: function () {
      return (state.candidateMarkers || []).map(function (c) {
        var el = c.marker.getElement();
        return { index: c.index, offset: c.offset || [0, 0], zIndex: el ? Number(el.style.zIndex) : null,
                 inView: state.map.getBounds().contains([c.lat, c.lon]) };
      });
    },

    /* For tests and diagnostics: the place labels on screen (none while layer files load), the view. */
    labels: function () {
      if (!window.geotaggerLayers || window.geotaggerLayers.pending()) { return []; }
      return window.geotaggerLayers.labels();
    },
    view: function () {
      var c = state.map.getCenter();
      return { lat: c.lat, lon: c.lng, zoom: state.map.getZoom(), outline: !!state.outline };
    },

    /* For tests and diagnostics: how many things are drawn. */
    counts: function () {
      return { library: state.library ? state.library.getLayers().length : 0,
               candidates: state.candidates ? state.candidates.getLayers().filter(function (l) {
                 return l instanceof L.Marker; }).length : 0 };
    }
  };

  /* Tracks (gui/tracks.py): a halo under each line keeps it readable on light land, dark land and
     water; the colours differ by theme because a hue that reads on cream land vanishes on dark grey. */
  var TRACK_COLORS = {
    light: ["#d9480f", "#862e9c", "#0b7285", "#c2255c", "#5c940d", "#1864ab"],
    dark: ["#ff922b", "#f783ac", "#63e6be", "#ffd43b", "#b197fc", "#74c0fc"]
  };

  function isDark() {
    var hex = String(state.colors.land || "#ffffff").replace("#", "");
    var rgb = [0, 2, 4].map(function (i) { return parseInt(hex.substr(i, 2), 16) || 0; });
    return (0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]) < 128;
  }

  function trackLayers() {
    if (!state.tracks) {
      state.tracks = L.featureGroup().addTo(state.map);
      state.trackMatches = L.featureGroup().addTo(state.map);
      state.trackLines = [];
    }
  }

  function gapText(gap) {
    if (gap === null || gap === undefined) { return ""; }
    return gap < 90 ? Math.round(gap) + " s" : Math.round(gap / 60) + " min";
  }

  var trackApi = {
    showTracks: function (tracks) {
      trackLayers();
      state.tracks.clearLayers();
      state.trackLines = [];
      var palette = TRACK_COLORS[isDark() ? "dark" : "light"];
      var halo = state.colors.halo || (isDark() ? "#1a1a1a" : "#ffffff");
      (tracks || []).forEach(function (t, i) {
        if (!t.points || !t.points.length) { return; }
        var color = palette[i % palette.length];
        L.polyline(t.points, { color: halo, weight: 6, opacity: 0.85, interactive: false }).addTo(state.tracks);
        var line = L.polyline(t.points, { color: color, weight: 3, opacity: 1, className: "gt-track" });
        line.bindTooltip(escapeHtml(t.name || "track") + " (" + (t.total || t.points.length) + " points)",
                         { sticky: true });
        line.addTo(state.tracks);
        state.trackLines.push({ id: t.id, name: t.name, color: color, points: t.points.length, line: line });
      });
      state.trackMatches.bringToFront();
    },

    showTrackMatches: function (points) {
      trackLayers();
      state.trackMatches.clearLayers();
      state.matchList = [];
      var ring = isDark() ? "#111111" : "#ffffff";
      (points || []).forEach(function (p) {
        if (p.lat === null || p.lat === undefined) { return; }
        var marker = L.circleMarker([p.lat, p.lon], { radius: 7, color: ring, weight: 2, fillColor: "#ffd400",
                                                      fillOpacity: 1, className: "gt-track-photo" });
        marker.bindTooltip("<b>" + escapeHtml(p.title || "") + "</b><br>" +
                           escapeHtml((p.time || "") + (p.gap_s !== null && p.gap_s !== undefined ?
                             ", " + gapText(p.gap_s) + " from the nearest track point" : "")),
                           { direction: "top", offset: [0, -6] });
        marker.on("click", function () { if (state.bridge && p.id !== null) { state.bridge.photoPicked(p.id); } });
        marker.addTo(state.trackMatches);
        state.matchList.push({ id: p.id, lat: p.lat, lon: p.lon, gap_s: p.gap_s });
      });
    },

    fitTracks: function () {
      trackLayers();
      state.map.invalidateSize({ animate: false });  // the pane may have been resized (docks shown)
      var bounds = state.tracks.getBounds();
      if (state.trackMatches.getLayers().length) { bounds.extend(state.trackMatches.getBounds()); }
      if (bounds.isValid()) { state.map.fitBounds(bounds.pad(0.15), { maxZoom: 15, animate: false }); }
    },

    /* For tests and diagnostics: the drawn tracks (colour, points per line) and matched photo positions. */
    trackState: function () {
      trackLayers();
      return { tracks: state.trackLines.map(function (t) {
                 return { id: t.id, name: t.name, color: t.color, points: t.points }; }),
               matches: state.matchList || [] };
    }
  };
  Object.keys(trackApi).forEach(function (name) { api[name] = trackApi[name]; });

  window.geotagger = api;
})();
