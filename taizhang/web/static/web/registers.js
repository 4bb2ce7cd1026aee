// The registers' maps: markers on a plain background unless a tile URL is configured. Labels are user
// text: tooltips are text nodes and links are built with textContent, never HTML.
(function () {
  "use strict";
  var el = document.getElementById("register-map");
  var src = document.getElementById("register-map-data");
  if (!el || !src || typeof L === "undefined") return;
  var d = JSON.parse(src.textContent);
  var map = L.map(el, { scrollWheelZoom: false, attributionControl: !!d.tiles });
  if (d.tiles) L.tileLayer(d.tiles, { attribution: d.attribution, maxZoom: 19 }).addTo(map);
  var bounds = [];
  d.points.forEach(function (p) {
    var marker = L.circleMarker([p.lat, p.lon], { radius: 8, color: "#1f4e79", weight: 2, fillColor: "#2f75b5", fillOpacity: 0.85 })
      .addTo(map).bindTooltip(document.createTextNode(p.label));
    if (p.url) {
      var link = document.createElement("a");
      link.href = p.url;
      link.textContent = p.label;
      marker.bindPopup(link);
    }
    bounds.push([p.lat, p.lon]);
  });
  if (bounds.length) map.fitBounds(bounds, { maxZoom: 16, padding: [20, 20] });
  else map.setView([36.19, 113.12], 12);
})();
