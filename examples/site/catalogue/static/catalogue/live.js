// Live updates for the snapshot list: the server pushes each new snapshot
// over a WebSocket, and this adds its row. The page is whole without it.
(function () {
  "use strict";
  var status = document.getElementById("live-status");
  if (!status || !window.WebSocket) return;
  var table = document.getElementById("snapshots");
  var rows = table.tBodies[0];
  var delay = 500; // Milliseconds before the next try; doubles up to 10 s.

  function show(state, text) {
    status.hidden = false;
    status.dataset.state = state;
    status.textContent = text;
  }

  function cell(row, text, className) {
    var td = row.insertCell();
    td.textContent = text;
    if (className) td.className = className;
    return td;
  }

  function add(s) {
    if (rows.querySelector('tr[data-snapshot="' + s.id + '"]')) return;
    var row = document.createElement("tr");
    row.dataset.snapshot = s.id;
    row.className = "new";
    cell(row, s.host);
    cell(row, s.label);
    var badge = document.createElement("span");
    badge.className = "status status-" + s.status;
    badge.textContent = s.status_display;
    cell(row, "").appendChild(badge);
    cell(row, s.size, "number");
    cell(row, s.started);
    cell(row, s.finished);
    rows.insertBefore(row, rows.firstChild);
    while (rows.rows.length > 200) rows.deleteRow(-1);
    table.hidden = false;
    var empty = document.querySelector(".empty");
    if (empty) empty.remove();
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + location.host + status.dataset.url);
    socket.onopen = function () {
      delay = 500;
      show("live", "live");
    };
    socket.onmessage = function (event) {
      var message = JSON.parse(event.data);
      if (message.type === "snapshot") add(message.snapshot);
    };
    socket.onclose = function (event) {
      if (event.code === 1008) {
        show("ended", "signed out: reload the page");
        return;
      }
      show("reconnecting", "reconnecting");
      setTimeout(connect, delay * (0.75 + Math.random() / 2));
      delay = Math.min(delay * 2, 10000);
    };
  }

  show("connecting", "connecting");
  connect();
})();
