/* Boundary map of a unit and its children (places/unit_detail.html).
   The platform works offline, so there is no tile layer: the polygons are drawn on a blank
   map and the view fits their bounds. Data comes from the unit's boundary.geojson URL. */
(function () {
  "use strict";

  var SELF_STYLE = { color: "#7a1212", weight: 4, fillColor: "#7a1212", fillOpacity: 0.08 };
  var CHILD_STYLE = { color: "#0b4f8a", weight: 2, dashArray: "6 4", fillColor: "#0b4f8a", fillOpacity: 0.22 };
  var CHILD_HOVER = { weight: 4, fillOpacity: 0.4 };

  function showText(el, text) {
    var p = document.createElement("p");
    p.className = "unit-map__empty";
    p.textContent = text;
    el.textContent = "";
    el.appendChild(p);
  }

  function detailUrl(template, id) {
    // The template is the detail URL of pk 0, e.g. /places/units/0/.
    return template.replace(/\/0\/$/, "/" + encodeURIComponent(id) + "/");
  }

  function draw(el, data) {
    var features = (data && data.features) || [];
    if (!features.length) {
      showText(el, el.getAttribute("data-empty-text") || "");
      return;
    }
    var map = L.map(el, { attributionControl: false, zoomControl: false, zoomSnap: 0.25, scrollWheelZoom: false });
    // Translated button titles (Leaflet's defaults are English).
    L.control.zoom({
      zoomInTitle: el.getAttribute("data-zoom-in") || "+",
      zoomOutTitle: el.getAttribute("data-zoom-out") || "-"
    }).addTo(map);
    var template = el.getAttribute("data-detail-url") || "";
    // Draw the unit itself first so that its children lie on top and stay clickable.
    features.sort(function (a, b) {
      return (b.properties && b.properties.self ? 1 : 0) - (a.properties && a.properties.self ? 1 : 0);
    });
    var layer = L.geoJSON(features, {
      style: function (feature) {
        return feature.properties && feature.properties.self ? SELF_STYLE : CHILD_STYLE;
      },
      pointToLayer: function (feature, latlng) {
        return L.circleMarker(latlng, { radius: 8 });
      },
      onEachFeature: function (feature, lyr) {
        var props = feature.properties || {};
        lyr.bindTooltip(String(props.name || ""), { sticky: true });
        if (!props.self && props.id !== undefined && template) {
          lyr.on("click", function () { window.location.href = detailUrl(template, props.id); });
          lyr.on("mouseover", function () { lyr.setStyle(CHILD_HOVER); });
          lyr.on("mouseout", function () { layer.resetStyle(lyr); });
        }
      }
    }).addTo(map);
    var bounds = layer.getBounds();
    if (bounds.isValid()) {
      map.fitBounds(bounds, { padding: [16, 16] });
    } else {
      map.setView([0, 0], 2);
    }
    window.addEventListener("resize", function () {
      map.invalidateSize();
      if (bounds.isValid()) { map.fitBounds(bounds, { padding: [16, 16] }); }
    });
  }

  function init() {
    var el = document.getElementById("unit-map");
    if (!el || typeof L === "undefined") {
      return;
    }
    fetch(el.getAttribute("data-geojson-url"), { credentials: "same-origin", headers: { Accept: "application/geo+json, application/json" } })
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
