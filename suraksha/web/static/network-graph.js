/* The account graph on the network pages: draws /graph.json with vis-network (served from the
   installed pyvis package), filters it by what the accounts share and by time, and shows an edge's
   evidence when it is clicked. No inline script: the console's CSP allows none. */
(function () {
  "use strict";

  var KIND_COLOURS = {
    upi_id: "#b8420f", bitcoin_address: "#b8420f", ethereum_address: "#b8420f", tron_address: "#b8420f",
    phone: "#1f5fa8", email: "#1f5fa8", telegram: "#1f5fa8", whatsapp: "#1f5fa8", signal: "#1f5fa8",
    url: "#6b6b6b", media: "#7a2a8c", near_media: "#7a2a8c", device: "#2d7a3a", ip: "#999999"
  };

  function day(iso) { return iso ? iso.slice(0, 10) : ""; }

  function keptKeys(edge, filters) {
    return edge.keys.filter(function (k) {
      if (filters.kinds.indexOf(k.kind) < 0) { return false; }
      if (filters.from && day(k.last) < filters.from) { return false; }
      if (filters.to && day(k.first) > filters.to) { return false; }
      return true;
    });
  }

  function readFilters(form) {
    var kinds = [];
    form.querySelectorAll("input[name=kind]").forEach(function (box) { if (box.checked) { kinds.push(box.value); } });
    return {
      kinds: kinds,
      from: form.querySelector("input[name=from]").value,
      to: form.querySelector("input[name=to]").value,
      weak: form.querySelector("input[name=weak]").checked
    };
  }

  function describe(edge, keys, names) {
    var lines = [names[edge.from] + " and " + names[edge.to] + ": weight " + edge.weight +
      (edge.trustworthy ? "" : " (weak: not used for clustering)")];
    keys.forEach(function (k) {
      lines.push(k.kind + " " + k.value + ", carried by " + k.accounts + " account(s), weight " + k.weight +
        (k.note ? " (" + k.note + ")" : "") + ", " + day(k.first) + " to " + day(k.last));
    });
    return lines;
  }

  function draw(container, data) {
    var form = document.getElementById("graph-filters");
    var status = document.getElementById("graph-status");
    var evidence = document.getElementById("graph-evidence");
    var names = {};
    data.nodes.forEach(function (n) { names[n.id] = n.label; });
    var nodes = new vis.DataSet(data.nodes.map(function (n) {
      return {
        id: n.id, label: n.label, title: n.platform_account_id + (n.suspended ? " (suspended)" : ""),
        shape: "dot", size: 14, color: n.suspended ? "#9a9a9a" : "#c0392b",
        font: { size: 14, strokeWidth: 3, strokeColor: "#ffffff" }
      };
    }));
    var edges = new vis.DataSet([]);
    var network = new vis.Network(container, { nodes: nodes, edges: edges }, {
      physics: {
        stabilization: { iterations: 300 },
        barnesHut: { gravitationalConstant: -9000, springLength: 180, avoidOverlap: 0.5 }
      },
      interaction: { hover: true, tooltipDelay: 150 },
      edges: { smooth: false }
    });

    function refresh() {
      var filters = readFilters(form);
      var shown = [];
      data.edges.forEach(function (e, index) {
        if (!e.trustworthy && !filters.weak) { return; }
        var keys = keptKeys(e, filters);
        if (!keys.length) { return; }
        var main = keys.slice().sort(function (a, b) { return b.weight - a.weight; })[0];
        shown.push({
          id: index, from: e.from, to: e.to, dashes: !e.trustworthy, width: 0.5 + e.weight,
          color: { color: KIND_COLOURS[main.kind] || "#555555" },
          title: keys.map(function (k) { return k.kind + " " + k.value; }).join("\n")
        });
      });
      edges.clear();
      edges.add(shown);
      status.textContent = data.nodes.length + " accounts, " + shown.length + " of " + data.edges.length +
        " links shown. Click a link for its evidence.";
      container.setAttribute("data-edges-shown", String(shown.length));
    }

    network.on("click", function (params) {
      evidence.textContent = "";
      if (!params.edges.length) { return; }
      var e = data.edges[params.edges[0]];
      describe(e, keptKeys(e, readFilters(form)), names).forEach(function (line) {
        var p = document.createElement("p");
        p.textContent = line;
        evidence.appendChild(p);
      });
    });
    network.once("afterDrawing", function () { container.setAttribute("data-rendered", "yes"); });
    network.once("stabilizationIterationsDone", function () {
      network.fit();
      container.setAttribute("data-stable", "yes");
    });
    form.addEventListener("change", refresh);
    form.addEventListener("submit", function (event) { event.preventDefault(); });
    refresh();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var container = document.getElementById("network-graph");
    if (!container) { return; }
    if (typeof vis === "undefined") {
      document.getElementById("graph-status").textContent = "The graph library did not load.";
      return;
    }
    fetch(container.getAttribute("data-src"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (answer) {
        if (!answer.ok) { throw new Error("HTTP " + answer.status); }
        return answer.json();
      })
      .then(function (data) { draw(container, data); })
      .catch(function (error) {
        document.getElementById("graph-status").textContent = "The graph could not be loaded: " + error.message;
      });
  });
})();
