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

  // A canned query as an editable example: its relative IRIs resolved against the base, and each
  // parameter bound to its example value by a VALUES block opening the WHERE clause (inside the group,
  // so the query's own FILTERs see the value, as they do when the server binds it).
  function term(param, value) {
    var v = String(value);
    switch (param.type) {
      case "integer": return /^-?\d+$/.test(v) ? v : null;
      case "year": return /^\d{4}$/.test(v) ? JSON.stringify(v) + "^^<http://www.w3.org/2001/XMLSchema#gYear>" : null;
      case "iri": return /^[^<>"{}|^`\\\s]+$/.test(v) ? "<" + v + ">" : null;
      default: return JSON.stringify(v);
    }
  }

  function exampleQuery(item) {
    // The server's text with the examples bound where the query's own lookups see them (as a remote
    // engine gets it); the VALUES block below only for a listing without it.
    if (item.example_sparql) {
      var bound = item.example_sparql;
      return /^\s*BASE\s/im.test(bound) ? bound : "BASE <" + config.base + ">\n" + bound;
    }
    var query = item.sparql || item.query || "";
    if (!/^\s*BASE\s/im.test(query)) query = "BASE <" + config.base + ">\n" + query;
    var values = [];
    (item.parameters || []).forEach(function (param) {
      var value = param.example != null ? param.example : param["default"];
      var bound = value != null ? term(param, value) : null;
      if (bound) values.push("  VALUES ?" + param.name + " { " + bound + " }  # example value of a parameter");
    });
    if (values.length) {
      var where = /\bWHERE\s*\{/i.exec(query);
      if (where) {
        var at = where.index + where[0].length;
        query = query.slice(0, at) + "\n" + values.join("\n") + query.slice(at);
      }
    }
    return query;
  }

  function showExamples(items) {
    var list = document.getElementById("example-list");
    items.forEach(function (item) {
      var li = document.createElement("li");
      var title = text(item.title) || item.name;
      var a = document.createElement("a");
      a.textContent = title;
      a.lang = item.title && item.title.zh ? "zh" : "en";
      a.className = "example";
      a.dataset.name = item.name;
      if (item.sparql || item.query) {
        a.href = "#";
        a.addEventListener("click", function (event) {
          event.preventDefault();
          openExample(title, exampleQuery(item));
        });
      } else {
        a.href = item.url || config.queries + "/" + encodeURIComponent(item.name);
      }
      li.appendChild(a);
      var en = item.title && item.title.en;
      if (en && a.lang === "zh") {
        var span = document.createElement("span");
        span.lang = "en";
        span.textContent = " · " + en;
        li.appendChild(span);
      }
      if (item.url) {
        var api = document.createElement("a");
        api.href = item.url;
        api.className = "api";
        api.textContent = " (" + item.url + ")";
        li.appendChild(api);
      }
      if (item.description) {
        var p = document.createElement("p");
        p.lang = "en";
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
