// The grid map (/staff/map): the grids of the person's scope from their GeoJSON outlines, styled
// by class (grid-overdue / grid-open / grid-clear, see app.css: line weight and dashes tell them
// apart without colour) and labelled with their counts; open tickets with a location as pins,
// each a real link to its ticket page. Data from /staff/map/data (no inline script: the CSP).
// Tiles only when http.map_tiles is set; without them nothing is fetched from elsewhere.
// Labels and titles go in as text nodes, never as HTML.
(function () {
  "use strict";
  var box = document.getElementById("grid-map");
  if (!box || typeof L === "undefined") { return; }
  var SHORT_LABELS_FROM = 7; // more grids than this: labels with the grid's id, not its name

  function text(tag, className, content) {
    var node = document.createElement(tag);
    node.className = className;
    node.textContent = content;
    return node;
  }

  function failed() {
    box.classList.add("failed");
    box.textContent = box.dataset.failed || "";
  }

  function draw(data) {
    var map = L.map(box, { attributionControl: Boolean(box.dataset.tiles), zoomSnap: 0.25 });
    // Grid labels below the pins (app.css gives the pane its place), so a label never hides a pin.
    map.createPane("gridLabels");
    if (box.dataset.tiles) {
      L.tileLayer(box.dataset.tiles, { maxZoom: 19, attribution: box.dataset.attribution || "" }).addTo(map);
    }
    var bounds = L.latLngBounds([]);
    var drawn = data.grids.filter(function (grid) { return grid.boundary; });
    var short = drawn.length >= SHORT_LABELS_FROM;
    drawn.forEach(function (grid) {
      var outline = L.geoJSON(grid.boundary, {
        style: function () { return { className: "grid grid-" + grid.state + " grid-id-" + grid.id }; }
      }).getLayers()[0];
      // Many grids: only those with open tickets carry a (short) label; the others name
      // themselves on hover. Few grids: each carries its name and counts.
      var permanent = !short || grid.open > 0;
      outline.bindTooltip(text("span", "", short && grid.open > 0 ? grid.short : grid.label), {
        // Above the grid's middle, clear of a pin there.
        permanent: permanent, direction: "top", offset: [0, -8], pane: permanent ? "gridLabels" : "tooltipPane",
        className: "grid-label grid-label-" + grid.state
      });
      // A click on a grid opens the board filtered to it.
      outline.on("click", function () { window.location.assign("/staff/?grid=" + encodeURIComponent(grid.id)); });
      outline.addTo(map);
      bounds.extend(outline.getBounds());
    });
    data.pins.forEach(function (pin) {
      var link = text("a", "pin" + (pin.overdue ? " pin-overdue" : ""), "#" + pin.id);
      link.href = pin.url;
      link.title = pin.title;
      link.setAttribute("aria-label", pin.title);
      link.dataset.ticket = String(pin.id);
      L.marker([pin.lat, pin.lon], {
        icon: L.divIcon({ html: link, className: "pin-icon", iconSize: null }), keyboard: false
      }).addTo(map);
      bounds.extend([pin.lat, pin.lon]);
    });
    if (!bounds.isValid()) { map.setView([0, 0], 2); }
    else if (bounds.getNorthEast().equals(bounds.getSouthWest())) { map.setView(bounds.getCenter(), 17); }
    else { map.fitBounds(bounds, { padding: [24, 24], maxZoom: 18 }); }
    box.classList.add("ready");
  }

  fetch(box.dataset.src, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (answer) { return answer.ok ? answer.json() : Promise.reject(answer.status); })
    .then(draw)
    .catch(failed);
})();
