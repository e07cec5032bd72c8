// "My ticket" opened by the QR code on a ticket: /mine#t=<the code, base64url>. A browser never
// sends the fragment to the server; this script takes it off the address bar and the history
// entry at once, then fills the code field. The visitor taps "Open" themselves, so the code
// travels only in a POST body, and a link preview or a stray scan unlocks nothing.
(function () {
  "use strict";

  function decode(value) {
    if (!/^[A-Za-z0-9_-]{1,200}$/.test(value)) return "";
    try {
      var raw = window.atob(value.replace(/-/g, "+").replace(/_/g, "/"));
      var bytes = new Uint8Array(raw.length);
      for (var i = 0; i < raw.length; i += 1) bytes[i] = raw.charCodeAt(i);
      return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch (e) {
      return ""; // a damaged code: the visitor types it from the paper
    }
  }

  function fill(code) {
    var field = document.getElementById("code");
    var note = document.getElementById("code-filled");
    if (!field) return;
    field.value = code.slice(0, field.maxLength > 0 ? field.maxLength : 80);
    if (note) note.hidden = !code;
    var open = field.form && field.form.querySelector("button[type=submit]");
    if (code && open) open.focus();
  }

  function take() {
    var hash = window.location.hash;
    if (hash.indexOf("#t=") !== 0) return;
    window.history.replaceState(null, "", window.location.pathname + window.location.search);
    var code = decode(hash.slice(3));
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", function () { fill(code); });
    } else {
      fill(code);
    }
  }

  take();
  window.addEventListener("hashchange", take); // a second scan while this page is open
})();
