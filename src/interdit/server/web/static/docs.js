// Swagger UI for /docs, reading the server's own OpenAPI document (no inline script: the CSP forbids it).
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
});
