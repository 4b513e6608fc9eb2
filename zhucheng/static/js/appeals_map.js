/* Map of open appeals (appeals/map.html): grids coloured by their open count, located open
   appeals as dots that link to the appeal. The platform works offline, so there is no tile
   layer: grid outlines are the background. Text nodes only (never HTML strings) for titles. */
(function () {
  "use strict";

  var SHADES = [
    { fill: "#ffffff", line: "#5b6b7a" },
    { fill: "#fde9b5", line: "#8a5a00" },
    { fill: "#f7a65c", line: "#a33b00" },
    { fill: "#c9302c", line: "#7a1212" }
  ];

  function shade(count, max) {
    if (!count) { return SHADES[0]; }
    // Thirds of the busiest grid's count: the busiest is always the darkest.
    return SHADES[Math.min(3, Math.max(1, Math.ceil((count * 3) / Math.max(1, max))))];
  }

  function showText(el, text) {
    var p = document.createElement("p");
    p.className = "map-empty";
    p.textContent = text;
    el.textContent = "";
    el.appendChild(p);
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (m, key) {
      return values[key] !== undefined ? String(values[key]) : m;
    });
  }

  function popup(props) {
    var box = document.createElement("div");
    var link = document.createElement("a");
    link.href = props.url;
    link.textContent = props.code;
    var title = document.createElement("p");
    title.textContent = props.title;
    var status = document.createElement("p");
    status.textContent = props.status;
    box.appendChild(link);
    box.appendChild(title);
    box.appendChild(status);
    return box;
  }

  function draw(el, data) {
    var features = (data && data.features) || [];
    var grids = features.filter(function (f) { return f.properties && f.properties.kind === "grid"; });
    var points = features.filter(function (f) { return f.properties && f.properties.kind === "appeal"; });
    if (!grids.length && !points.length) {
      showText(el, el.getAttribute("data-empty-text") || "");
      return;
    }
    var max = data.max_count || 0;
    var countText = el.getAttribute("data-count-text") || "{name}: {n}";
    var map = L.map(el, { attributionControl: false, zoomControl: false, zoomSnap: 0.25, scrollWheelZoom: false, preferCanvas: false });
    L.control.zoom({
      zoomInTitle: el.getAttribute("data-zoom-in") || "+",
      zoomOutTitle: el.getAttribute("data-zoom-out") || "-"
    }).addTo(map);
    var gridLayer = L.geoJSON(grids, {
      style: function (feature) {
        var s = shade(feature.properties.count, max);
        return { color: s.line, weight: 1.5, fillColor: s.fill, fillOpacity: 0.75 };
      },
      onEachFeature: function (feature, layer) {
        var p = feature.properties;
        layer.bindTooltip(fill(countText, { name: p.name + " (" + p.code + ")", n: p.count }), { sticky: true });
      }
    }).addTo(map);
    var pointLayer = L.geoJSON(points, {
      pointToLayer: function (feature, latlng) {
        var overdue = feature.properties.overdue;
        return L.circleMarker(latlng, {
          radius: 7, weight: 2, color: "#ffffff", fillOpacity: 1, fillColor: overdue ? "#b00020" : "#0b4f8a"
        });
      },
      onEachFeature: function (feature, layer) {
        layer.bindPopup(popup(feature.properties));
      }
    }).addTo(map);
    var bounds = gridLayer.getBounds();
    if (pointLayer.getLayers().length) {
      bounds = bounds.isValid() ? bounds.extend(pointLayer.getBounds()) : pointLayer.getBounds();
    }
    if (bounds.isValid()) {
      map.fitBounds(bounds, { padding: [16, 16] });
    } else {
      map.setView([26.58, 106.71], 10);
    }
    el.setAttribute("data-ready", "1");
    window.addEventListener("resize", function () { map.invalidateSize(); });
  }

  function init() {
    var el = document.getElementById("appeals-map");
    if (!el || typeof L === "undefined") {
      return;
    }
    fetch(el.getAttribute("data-url"), { credentials: "same-origin", headers: { Accept: "application/geo+json, application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (data) { draw(el, data); })
      .catch(function () { showText(el, el.getAttribute("data-error-text") || ""); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
