/* The map panel (templates/detainees/_map.html): draws the GeoJSON points of the selection on
 * a Leaflet map, clustered, each linking to its page. The map stays hidden without this script;
 * the table on /map/ (under the map there, a link away elsewhere) holds the same points. */
(function () {
  "use strict";

  var AFGHANISTAN = [34.5, 66.5];

  function plural(n, one, many) {
    return n + " " + (n === 1 ? one : many);
  }

  function popup(properties) {
    var box = document.createElement("div");
    var link = document.createElement("a");
    link.href = properties.url;
    link.textContent = properties.name;
    box.appendChild(link);
    var facts = document.createElement("div");
    facts.textContent = [
      properties.kind,
      plural(properties.people, "person", "people"),
      plural(properties.events, "event", "events"),
    ].join(" · ");
    box.appendChild(facts);
    return box;
  }

  function clusterIcon(cluster) {
    var n = cluster.getChildCount();
    var size = n < 10 ? "small" : n < 100 ? "medium" : "large";
    // The count is the cluster's text, and so the accessible name Leaflet's button role needs.
    return L.divIcon({
      html: "<div><span>" + n + '<span class="visually-hidden"> places</span></span></div>',
      className: "marker-cluster marker-cluster-" + size,
      iconSize: L.point(40, 40),
    });
  }

  function draw(element, map, collection) {
    var clusters = L.markerClusterGroup({ iconCreateFunction: clusterIcon, showCoverageOnHover: false });
    collection.features.forEach(function (feature) {
      var at = feature.geometry.coordinates;
      var properties = feature.properties;
      var marker = L.marker([at[1], at[0]], { title: properties.name, alt: properties.name });
      marker.bindPopup(popup(properties));
      clusters.addLayer(marker);
    });
    map.addLayer(clusters);
    if (collection.features.length) {
      var fit = function () {
        map.fitBounds(clusters.getBounds(), { maxZoom: 8, padding: [24, 24] });
      };
      fit();
      // A phone turned sideways: the points stay in view.
      window.addEventListener("resize", fit);
    }
    element.setAttribute("data-points", String(collection.features.length));
    if (element.hasAttribute("data-list-missing")) {
      listMissing(element, collection);
    }
  }

  // Where the page has no table (the lists, record pages): the points that have no coordinates,
  // as /map/ lists them.
  function listMissing(element, collection) {
    var note = document.createElement("p");
    note.className = "not-on-map";
    if (!collection.features.length && !collection.not_on_map.length) {
      note.textContent = "None of these records names a place or facility.";
    } else if (collection.not_on_map.length) {
      note.appendChild(document.createTextNode("Not on the map, for want of coordinates: "));
      collection.not_on_map.forEach(function (point, index) {
        var link = document.createElement("a");
        link.href = point.url;
        link.textContent = point.name;
        note.appendChild(link);
        note.appendChild(document.createTextNode(index + 1 < collection.not_on_map.length ? "; " : "."));
      });
    } else {
      return;
    }
    element.parentNode.insertBefore(note, element.nextSibling);
  }

  function setUp(element) {
    if (!window.L || !L.markerClusterGroup) {
      return;
    }
    element.hidden = false;
    // The marker images by their collected names: Leaflet would guess them from leaflet.css's
    // address, which the static files' manifest changes.
    L.Icon.Default.imagePath = "";
    L.Icon.Default.mergeOptions({
      iconUrl: element.getAttribute("data-icon"),
      iconRetinaUrl: element.getAttribute("data-icon-2x"),
      shadowUrl: element.getAttribute("data-shadow"),
    });
    var map = L.map(element, { scrollWheelZoom: false }).setView(AFGHANISTAN, 5);
    var credit = document.createElement("a");
    credit.href = element.getAttribute("data-attribution-url");
    credit.textContent = element.getAttribute("data-attribution");
    L.tileLayer(element.getAttribute("data-tile-url"), {
      maxZoom: 18,
      attribution: credit.outerHTML,
    }).addTo(map);
    fetch(element.getAttribute("data-geojson"), { headers: { Accept: "application/geo+json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (collection) {
        draw(element, map, collection);
      })
      .catch(function () {
        var note = document.createElement("p");
        note.className = "map-failed";
        note.textContent = "The map's points could not be loaded; the table below lists them.";
        element.parentNode.insertBefore(note, element.nextSibling);
      });
  }

  document.querySelectorAll(".map[data-geojson]").forEach(setUp);
})();
