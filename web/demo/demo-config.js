// Demo page only: lets ?server=http://host:port choose the assistant's server, so tests and local
// runs can use any port. The widget itself never reads the URL, so a link can't redirect a firm's
// real visitors to another server.
(function () {
  var server = new URLSearchParams(window.location.search).get("server");
  if (server && /^https?:\/\/[^\s]+$/.test(server)) {
    window.CommonGroundConfig = Object.assign({}, window.CommonGroundConfig, { serverUrl: server });
  }
})();
