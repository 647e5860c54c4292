// Live alerts: rows rendered (and escaped) by the server arrive as server-sent events.
(function () {
  var script = document.currentScript;
  var list = document.getElementById("alerts");
  var state = document.getElementById("live");
  var total = document.getElementById("total");
  var source = new EventSource(script.dataset.stream);
  source.addEventListener("ready", function () {
    state.textContent = "live: new alerts appear here";
    document.body.dataset.live = "ready";
  });
  source.onmessage = function (event) {
    var holder = document.createElement("template");
    holder.innerHTML = event.data;
    var row = holder.content.firstElementChild;
    if (!row) return;
    var shown = document.getElementById(row.id);
    if (shown) shown.remove();  // a new revision of an alert on the page replaces it
    else total.textContent = String(Number(total.textContent) + 1);
    list.insertBefore(row, list.firstChild);
  };
  source.onerror = function () {
    state.textContent = "live updates interrupted; reconnecting…";
    document.body.dataset.live = "reconnecting";
  };
})();
