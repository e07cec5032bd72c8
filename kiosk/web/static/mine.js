// "My ticket" opened by the QR code on a ticket: /mine#code=... A browser never sends the
// fragment to the server; this script takes it off the address bar and the history entry at
// once, then fills the code field. The visitor taps "Open" themselves, so the code travels
// only in a POST body, and a link preview or a stray scan unlocks nothing.
(function () {
  "use strict";
  var match = /^#code=([^&]*)/.exec(window.location.hash);
  if (!match) return;
  var code = "";
  try { code = decodeURIComponent(match[1]); } catch (e) { code = ""; }
  window.history.replaceState(null, "", window.location.pathname + window.location.search);

  function fill() {
    var field = document.getElementById("code");
    if (!field || !code) return;
    field.value = code.slice(0, field.maxLength > 0 ? field.maxLength : 80);
    var note = document.getElementById("code-filled");
    if (note) note.hidden = false;
    var open = field.form && field.form.querySelector("button[type=submit]");
    if (open) open.focus();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", fill);
  } else {
    fill();
  }
})();
