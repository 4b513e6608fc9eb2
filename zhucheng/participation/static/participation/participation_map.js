/* Map of a community budget's proposals and projects (participation/budget.html). The platform works
   offline: no tile layer, the community outline is the background. Text nodes only in popups. */
(function () {
  "use strict";
  function popup(props) {
    var box = document.createElement("div");
    var link = document.createElement("a");
    link.href = props.url;
    link.textContent = props.title;
    var status = document.createElement("p");
    status.textContent = props.status;
    box.appendChild(link);
    box.appendChild(status);
    return box;
  }
  function draw(el, data) {
    var features = (data && data.features) || [];
    if (!features.length || typeof L === "undefined") {
      var p = document.createElement("p");
      p.textContent = el.getAttribute("data-empty-text") || "";
      el.textContent = "";
      el.appendChild(p);
      return;
    }
    var map = L.map(el, { attributionControl: false, scrollWheelZoom: false });
    var layer = L.geoJSON(data, {
      style: function () { return { color: "#5b6b7a", weight: 2, fillColor: "#ffffff", fillOpacity: 0.6 }; },
      pointToLayer: function (feature, latlng) {
        var project = feature.properties.kind === "project";
        return L.circleMarker(latlng, { radius: project ? 10 : 8, color: project ? "#1d5b28" : "#0b5394", fillColor: project ? "#2e7d32" : "#4a90d9", fillOpacity: 0.9, weight: 2 });
      },
      onEachFeature: function (feature, lyr) {
        if (feature.properties.url) { lyr.bindPopup(popup(feature.properties)); }
      }
    }).addTo(map);
    var bounds = layer.getBounds();
    if (bounds.isValid()) { map.fitBounds(bounds, { padding: [12, 12] }); } else { map.setView([26.58, 106.71], 13); }
  }
  document.addEventListener("DOMContentLoaded", function () {
    var el = document.getElementById("pb-map");
    if (!el) { return; }
    fetch(el.getAttribute("data-url"), { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) { draw(el, data); })
      .catch(function () { el.textContent = el.getAttribute("data-error-text") || ""; });
  });
})();
