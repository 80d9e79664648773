// The query page: YASGUI over this server's /sparql, served from this server (no CDN).
// Prefixes come preloaded in the default query; canned queries from GET /queries become examples.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("plankg-config").textContent);
  var endpoint = new URL(config.endpoint, window.location.href).href;

  var yasgui = new Yasgui(document.getElementById("yasgui"), {
    requestConfig: { endpoint: endpoint, method: "POST" },
    copyEndpointOnNewTab: true,
    endpointCatalogueOptions: { getData: function () { return [{ endpoint: endpoint }]; } },
    persistenceId: null,
    yasqe: {
      value: config.defaultQuery,
      // Class and property completion ask a remote service (LOV); keep to what works offline.
      autocompleters: ["prefixes", "variables"],
    },
  });
  window.plankgYasgui = yasgui;

  function openExample(title, query) {
    var tab = yasgui.addTab(true, { name: title.slice(0, 40) });
    tab.setQuery(query);
    tab.setEndpoint(endpoint);
    window.scrollTo(0, 0);
  }

  function text(value) {
    if (!value) return "";
    if (typeof value === "string") return value;
    return value.zh || value.en || Object.values(value)[0] || "";
  }

  function showExamples(items) {
    var list = document.getElementById("example-list");
    items.forEach(function (item) {
      var li = document.createElement("li");
      var title = text(item.title) || item.name;
      var query = item.query || item.sparql || item.text;
      var a = document.createElement("a");
      a.textContent = title;
      a.lang = item.title && item.title.zh ? "zh" : "en";
      if (query) {
        a.href = "#";
        a.addEventListener("click", function (event) {
          event.preventDefault();
          openExample(title, query);
        });
      } else {
        a.href = new URL(config.queries + "/" + encodeURIComponent(item.name), window.location.href).href;
      }
      li.appendChild(a);
      var en = item.title && item.title.en;
      if (en && a.lang === "zh") {
        var span = document.createElement("span");
        span.lang = "en";
        span.textContent = " · " + en;
        li.appendChild(span);
      }
      if (item.description) {
        var p = document.createElement("p");
        p.textContent = text(item.description);
        li.appendChild(p);
      }
      list.appendChild(li);
    });
    if (items.length) document.getElementById("examples").hidden = false;
  }

  fetch(config.queries, { headers: { Accept: "application/json" } })
    .then(function (response) { return response.ok ? response.json() : []; })
    .then(function (data) {
      var items = Array.isArray(data) ? data : data.queries || [];
      showExamples(items);
    })
    .catch(function () { /* no canned queries yet: the page works without them */ });
})();
