// The case page: the small map (a marker on a plain background unless a tile URL is configured) and
// focus on the news after an action refreshed the page section.
(function () {
  "use strict";
  function initMap() {
    var el = document.getElementById("case-map");
    var src = document.getElementById("case-map-data");
    if (!el || !src || el.dataset.ready || !window.L) return;
    el.dataset.ready = "1";
    var d = JSON.parse(src.textContent);
    var map = L.map(el, { scrollWheelZoom: false, attributionControl: !!d.tiles }).setView([d.lat, d.lon], 16);
    if (d.tiles) L.tileLayer(d.tiles, { attribution: d.attribution, maxZoom: 19 }).addTo(map);
    if (d.outline) L.geoJSON(d.outline, { style: { color: "#52606d", weight: 2, fill: false }, interactive: false }).addTo(map);
    L.circleMarker([d.lat, d.lon], { radius: 9, color: "#7a1a12", weight: 2, fillColor: "#b42318", fillOpacity: 0.85 })
      .addTo(map).bindTooltip(document.createTextNode(d.label)); // the address is user text: never HTML
  }
  document.addEventListener("DOMContentLoaded", initMap);
  document.addEventListener("htmx:afterSettle", function () {
    initMap();
    var flash = document.getElementById("case-flash");
    if (flash && !flash.dataset.seen) { flash.dataset.seen = "1"; flash.focus(); }
  });
})();
