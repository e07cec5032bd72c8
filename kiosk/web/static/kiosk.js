// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (el) {
    el.hidden = false; // only offered where a script can open the print dialog
    el.addEventListener("click", function (ev) { ev.preventDefault(); window.print(); });
  });
})();
