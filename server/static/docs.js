// /docs: swagger-ui over this server's OpenAPI description. A file rather than an inline script, so
// that the Content-Security-Policy (server/ops/security.py) can refuse every inline script.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("plankg-docs").textContent);
  window.ui = SwaggerUIBundle({
    url: config.openapi,
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  });
})();
