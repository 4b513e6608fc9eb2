/* Point picker for the intake forms (resident submit, staff desk): community outlines on a blank
   map (no tiles: the platform works offline); a tap puts the point into the lat/lon inputs and,
   when the tap falls inside a community, selects it in the community list too. The map is an
   extra: without JavaScript the address and the community list are enough. */
(function () {
  "use strict";

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (m, key) {
      return values[key] !== undefined ? String(values[key]) : m;
    });
  }

  function inside(latlng, layer) {
    // Ray casting over the outer ring(s) of a polygon layer.
    var rings = layer.getLatLngs();
    while (rings.length && !Array.isArray(rings[0])) { rings = [rings]; }
    var flat = [];
    rings.forEach(function (r) { flat.push(Array.isArray(r[0]) ? r[0] : r); });
    return flat.some(function (ring) {
      var hit = false;
      for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
        var a = ring[i], b = ring[j];
        if (((a.lat > latlng.lat) !== (b.lat > latlng.lat)) &&
            (latlng.lng < (b.lng - a.lng) * (latlng.lat - a.lat) / (b.lat - a.lat) + a.lng)) {
          hit = !hit;
        }
      }
      return hit;
    });
  }

  function init() {
    var el = document.getElementById("point-picker");
    if (!el || typeof L === "undefined") {
      return;
    }
    var latInput = document.getElementById(el.getAttribute("data-lat-input"));
    var lonInput = document.getElementById(el.getAttribute("data-lon-input"));
    var status = document.getElementById(el.getAttribute("data-status"));
    var unitSelect = document.getElementById(el.getAttribute("data-unit-select") || "");
    var buttons = document.querySelector(".picker-buttons");
    if (!latInput || !lonInput) {
      return;
    }
    el.hidden = false;
    if (buttons) { buttons.hidden = false; }
    var map = L.map(el, { attributionControl: false, zoomControl: false, zoomSnap: 0.25 });
    L.control.zoom({
      zoomInTitle: el.getAttribute("data-zoom-in") || "+",
      zoomOutTitle: el.getAttribute("data-zoom-out") || "-"
    }).addTo(map);
    map.setView([26.58, 106.71], 10);
    var marker = null;
    var areas = null;

    function say(text) { if (status) { status.textContent = text; } }

    function setPoint(latlng, fromUser) {
      var lat = Math.round(latlng.lat * 1e6) / 1e6;
      var lon = Math.round(latlng.lng * 1e6) / 1e6;
      latInput.value = lat;
      lonInput.value = lon;
      if (marker) { marker.setLatLng(latlng); } else { marker = L.marker(latlng, { keyboard: false }).addTo(map); }
      say(fill(el.getAttribute("data-chosen-text") || "{lat}, {lon}", { lat: lat, lon: lon }));
      if (fromUser && unitSelect && areas) {
        areas.eachLayer(function (layer) {
          if (layer.feature && inside(latlng, layer)) { unitSelect.value = String(layer.feature.properties.id); }
        });
      }
    }

    function clearPoint() {
      latInput.value = "";
      lonInput.value = "";
      if (marker) { map.removeLayer(marker); marker = null; }
      say(el.getAttribute("data-none-text") || "");
    }

    map.on("click", function (e) { setPoint(e.latlng, true); });

    fetch(el.getAttribute("data-areas-url"), { credentials: "same-origin", headers: { Accept: "application/geo+json, application/json" } })
      .then(function (response) { return response.ok ? response.json() : { features: [] }; })
      .then(function (data) {
        areas = L.geoJSON(data.features || [], {
          style: { color: "#0b4f8a", weight: 1.5, fillColor: "#0b4f8a", fillOpacity: 0.08 },
          onEachFeature: function (feature, layer) {
            layer.bindTooltip(String(feature.properties.name || ""), { sticky: true });
            layer.on("click", function (e) { setPoint(e.latlng, true); });
          }
        }).addTo(map);
        var bounds = areas.getBounds();
        if (latInput.value && lonInput.value) {
          var ll = L.latLng(parseFloat(latInput.value), parseFloat(lonInput.value));
          setPoint(ll, false);
          map.setView(ll, 13);
        } else if (bounds.isValid()) {
          map.fitBounds(bounds, { padding: [8, 8] });
        }
        el.setAttribute("data-ready", "1");
      })
      .catch(function () { el.setAttribute("data-ready", "1"); });

    var locate = document.getElementById("picker-locate");
    if (locate) {
      if (!navigator.geolocation) {
        locate.hidden = true;
      } else {
        locate.addEventListener("click", function () {
          say(el.getAttribute("data-locating-text") || "");
          navigator.geolocation.getCurrentPosition(function (pos) {
            var ll = L.latLng(pos.coords.latitude, pos.coords.longitude);
            setPoint(ll, true);
            map.setView(ll, 15);
          }, function () {
            say(el.getAttribute("data-locate-failed-text") || "");
          }, { enableHighAccuracy: true, timeout: 15000 });
        });
      }
    }
    var clear = document.getElementById("picker-clear");
    if (clear) { clear.addEventListener("click", clearPoint); }
    // Typed coordinates (desk form) move the marker too.
    [latInput, lonInput].forEach(function (input) {
      input.addEventListener("change", function () {
        var lat = parseFloat(latInput.value), lon = parseFloat(lonInput.value);
        if (!isNaN(lat) && !isNaN(lon)) { setPoint(L.latLng(lat, lon), false); map.setView([lat, lon], 14); }
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
