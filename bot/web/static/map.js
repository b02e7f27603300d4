// The ticket's location on a Leaflet map. Tiles only when http.map_tiles is set: without them
// the point is drawn on a blank map with its coordinates, and nothing is fetched from elsewhere.
(function () {
  "use strict";
  var box = document.getElementById("map");
  if (!box || typeof L === "undefined") { return; }
  var lat = parseFloat(box.dataset.lat), lon = parseFloat(box.dataset.lon);
  if (isNaN(lat) || isNaN(lon)) { return; }
  var map = L.map(box, { attributionControl: Boolean(box.dataset.tiles) }).setView([lat, lon], 17);
  if (box.dataset.tiles) {
    L.tileLayer(box.dataset.tiles, { maxZoom: 19, attribution: box.dataset.attribution || "" }).addTo(map);
  }
  L.circleMarker([lat, lon], { radius: 9, color: "#b3261e", weight: 3, fillOpacity: 0.5 }).addTo(map);
  box.classList.add("ready");
})();
