// The dashboard's trend chart (ECharts) and case map (Leaflet). The data comes from json_script
// blocks; every point and outline leads to the case list or the drill-down behind it.
(function () {
  "use strict";
  function data(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }
  var en = document.documentElement.lang === "en";

  function trendChart() {
    var trend = data("trend-data"), el = document.getElementById("trend-chart");
    if (!trend || !el || !window.echarts) return;
    var chart = echarts.init(el, null, { renderer: "canvas" });
    var pts = trend.points;
    chart.setOption({
      animation: false,
      color: ["#0b5cad", "#1e7b34"],
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 40, right: 16, top: 36, bottom: 28 },
      xAxis: { type: "category", data: pts.map(function (p) { return p.label; }) },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: en ? "Reported" : "上报", type: "line", symbolSize: 5,
          data: pts.map(function (p) { return p.created; }) },
        { name: en ? "Closed" : "办结", type: "line", symbolSize: 5,
          data: pts.map(function (p) { return p.closed; }) }
      ]
    });
    // A click on a point opens the cases behind it (reported or closed in that day or week).
    chart.on("click", function (ev) {
      var p = pts[ev.dataIndex];
      if (p) window.location.href = ev.seriesIndex === 0 ? p.created_url : p.closed_url;
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  // Popups and tooltips get DOM nodes built from text: case titles are user text, never HTML.
  function textNode(s) { return document.createTextNode(String(s)); }
  function casePopup(p) {
    var box = document.createElement("div"), link = document.createElement("a");
    link.href = p.url;
    link.textContent = p.number;
    box.appendChild(link);
    [p.title, p.grade + " · " + p.state].forEach(function (line) {
      box.appendChild(document.createElement("br"));
      box.appendChild(textNode(line));
    });
    return box;
  }
  function escapeHtml(s) { // the layer switcher takes names as HTML only
    var el = document.createElement("span");
    el.textContent = String(s);
    return el.innerHTML;
  }

  function caseMap() {
    var cfg = data("map-data"), el = document.getElementById("case-map");
    if (!cfg || !el || !window.L) return;
    var map = L.map(el, { scrollWheelZoom: false, zoomSnap: 0.25 });
    if (cfg.tiles) {
      L.tileLayer(cfg.tiles, { attribution: cfg.attribution, maxZoom: 18 }).addTo(map);
    } else {
      el.classList.add("no-tiles"); // division outlines on a plain background: works offline
    }
    var bounds = L.latLngBounds([]);
    var layers = {};  // one layer per mechanism, switchable when there are several
    cfg.legend.forEach(function (group) { layers[group.code] = L.layerGroup().addTo(map); });
    cfg.points.forEach(function (p) {
      var m = L.circleMarker([p.lat, p.lon], {
        radius: 6, color: "#fff", weight: 1, fillColor: p.colour, fillOpacity: 0.9
      });
      m.bindPopup(casePopup(p));
      m.addTo(layers[p.mechanism] || map);
      bounds.extend([p.lat, p.lon]);
    });
    if (cfg.legend.length > 1) {
      var overlays = {};
      cfg.legend.forEach(function (group) { overlays[escapeHtml(group.name)] = layers[group.code]; });
      L.control.layers(null, overlays, { collapsed: true }).addTo(map);
    }
    map.setView([36.19, 113.11], 11);
    fetch(cfg.outlines, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (geo) {
      var here = new URL(window.location.href);
      var layer = L.geoJSON(geo, {
        style: function (f) {
          var current = f.properties.current;
          return { color: "#0b5cad", weight: current ? 3 : 1.5, fillColor: "#0b5cad",
                   fillOpacity: cfg.tiles || current ? 0 : 0.07 };
        },
        onEachFeature: function (f, lyr) {
          lyr.bindTooltip(textNode(f.properties.name), { sticky: true });
          if (!f.properties.current) {
            lyr.on("click", function () { // drill down into the division clicked
              here.searchParams.set("division", f.properties.code);
              window.location.href = here.toString();
            });
          }
        }
      }).addTo(map);
      layer.bringToBack();
      el.setAttribute("data-outlines", String(geo.features.length));
      var all = L.latLngBounds([]);
      if (layer.getLayers().length) all.extend(layer.getBounds());
      if (bounds.isValid()) all.extend(bounds);
      if (all.isValid()) map.fitBounds(all, { padding: [8, 8] });
    }).catch(function () {
      if (bounds.isValid()) map.fitBounds(bounds, { padding: [16, 16] });
    });
    el.setAttribute("data-points", String(cfg.points.length));
  }

  trendChart();
  caseMap();
})();
