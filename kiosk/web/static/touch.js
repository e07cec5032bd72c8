// Kiosk mode for the touchscreen (loaded only there): an on-screen keyboard for every text
// field, and the idle reset that clears the screen for the next person.
(function () {
  "use strict";
  var body = document.body;

  // ---- idle reset --------------------------------------------------------------------
  var ticketOnScreen = !!document.querySelector("[data-ticket-code]");
  // Copying a code by hand takes time: a ticket on screen gets three times as long.
  var idleMs = (parseInt(body.dataset.idle, 10) || 90) * 1000 * (ticketOnScreen ? 3 : 1);
  var graceS = parseInt(body.dataset.grace, 10) || 20;
  var dialog = document.getElementById("idle-dialog");
  var countEl = dialog && dialog.querySelector(".idle-count");
  var idleTimer = null, countdown = null, left = 0;

  function hasSomethingToForget() {
    if (!body.dataset.fresh) return true;
    var typed = false;
    document.querySelectorAll("input[type=text], textarea, input[type=date]").forEach(function (f) {
      if (f.value) typed = true;
    });
    return typed;
  }

  function clearTyped() {
    document.querySelectorAll("form").forEach(function (f) {
      f.querySelectorAll("input[type=text], input[type=date], textarea").forEach(function (el) { el.value = ""; });
    });
  }

  function resetNow() {
    clearTyped();
    document.querySelectorAll(".claim-code, .ticket").forEach(function (el) { el.textContent = ""; });
    var form = document.getElementById("idle-reset");
    if (form) { form.submit(); } else { window.location.replace("/"); }
  }

  function tick() {
    left -= 1;
    if (countEl) countEl.textContent = (countEl.dataset.template || "%s").replace("%s", String(Math.max(left, 0)));
    if (left <= 0) { clearInterval(countdown); countdown = null; resetNow(); }
  }

  function ask() {
    if (!hasSomethingToForget()) { arm(); return; }
    left = graceS;
    if (countEl) countEl.textContent = (countEl.dataset.template || "%s").replace("%s", String(left));
    if (dialog && typeof dialog.showModal === "function") { dialog.showModal(); }
    countdown = setInterval(tick, 1000);
  }

  function arm() {
    if (countdown) return; // the question is on screen: only its buttons answer it
    clearTimeout(idleTimer);
    idleTimer = setTimeout(ask, idleMs);
  }

  if (dialog) {
    dialog.querySelector("[data-still-here]").addEventListener("click", function () {
      clearInterval(countdown); countdown = null; dialog.close(); arm();
    });
    dialog.querySelector("[data-reset-now]").addEventListener("click", resetNow);
    dialog.addEventListener("cancel", function (ev) { ev.preventDefault(); });
  }
  ["pointerdown", "touchstart", "keydown", "input", "wheel", "scroll"].forEach(function (type) {
    window.addEventListener(type, arm, { passive: true, capture: true });
  });
  arm();

  if (ticketOnScreen && body.dataset.leaveTicket) {
    // The code is shown only once: make sure it was saved before anything takes it away.
    document.addEventListener("click", function (ev) {
      var link = ev.target.closest("a[href], button[type=submit]");
      if (!link || link.closest("#idle-dialog") || link.closest("#osk") || link.hasAttribute("data-print")) return;
      if (!window.confirm(body.dataset.leaveTicket)) { ev.preventDefault(); ev.stopPropagation(); }
    }, true);
  }

  // ---- on-screen keyboard -----------------------------------------------------------
  var LAYOUTS = {
    // Four rows and a bottom row with "extra" keys: five rows keep half of an 800x480 screen free.
    en: { name: "EN", dir: "ltr", rows: ["1234567890", "qwertyuiop", "asdfghjkl'", "zxcvbnm,.-"], extra: "" },
    es: { name: "ES", dir: "ltr", rows: ["1234567890", "qwertyuiopú", "asdfghjklñé", "zxcvbnmáíó,."], extra: "" },
    ar: { name: "ع", dir: "rtl", rows: ["1234567890", "ضصثقفغعهخحج", "شسيبلاتنمكط", "ئءؤرىةوزظد"], extra: "ذأإآ" },
    // Punctuation and symbols, one tap away from every layout.
    sym: { name: "?!", dir: "ltr", rows: ["1234567890", "?!¿¡:;/()", "\"'-+=%&@#", ",._*€$<>"], extra: "" }
  };
  var osk = document.getElementById("osk");
  if (!osk) return;
  var offered = (body.dataset.langs || "en").split(",").filter(function (l) { return LAYOUTS[l]; });
  var layout = offered.indexOf(body.dataset.lang) >= 0 ? body.dataset.lang : (offered[0] || "en");
  var letters = layout; // the layout to go back to from the symbols
  var shift = false;
  var target = null;
  var L = osk.dataset;

  function isTextField(el) {
    return el && ((el.tagName === "INPUT" && (el.type === "text" || el.type === "search" || el.type === "password")) || el.tagName === "TEXTAREA");
  }

  function key(label, action, extra, name) {
    var b = document.createElement("button");
    if (name) { b.title = name; b.setAttribute("aria-label", name); }
    b.type = "button";
    b.tabIndex = -1;
    b.className = "osk-key" + (extra ? " " + extra : "");
    b.textContent = label;
    b.dataset.action = action;
    return b;
  }

  function render() {
    var spec = LAYOUTS[layout];
    osk.textContent = "";
    osk.setAttribute("dir", spec.dir);
    spec.rows.forEach(function (row, i) {
      var line = document.createElement("div");
      line.className = "osk-row";
      Array.from(row).forEach(function (ch) {
        var shown = shift && spec.dir === "ltr" ? ch.toLocaleUpperCase(layout) : ch;
        line.appendChild(key(shown, "char"));
      });
      if (i === 0) line.appendChild(key("⌫", "backspace", "osk-wide", L.labelBackspace));
      osk.appendChild(line);
    });
    var bottom = document.createElement("div");
    bottom.className = "osk-row";
    if (spec.dir === "ltr") bottom.appendChild(key("⇧", "shift", "osk-wide" + (shift ? " osk-on" : ""), L.labelShift));
    if (offered.length > 1 && layout !== "sym") bottom.appendChild(key("⇄ " + spec.name, "layout", "osk-wide"));
    bottom.appendChild(key(layout === "sym" ? LAYOUTS[letters].name : "?!#", "symbols", "osk-wide" + (layout === "sym" ? " osk-on" : "")));
    Array.from(spec.extra || "").forEach(function (ch) {
      bottom.appendChild(key(shift && spec.dir === "ltr" ? ch.toLocaleUpperCase(layout) : ch, "char"));
    });
    bottom.appendChild(key(L.labelSpace, "space", "osk-space"));
    if (target && target.tagName === "TEXTAREA") bottom.appendChild(key("↵", "enter", "osk-wide", L.labelEnter));
    bottom.appendChild(key("✓ " + L.labelDone, "done", "osk-wide osk-done"));
    osk.appendChild(bottom);
  }

  function insert(text) {
    if (!target) return;
    var max = target.maxLength > 0 ? target.maxLength : Infinity;
    var start = target.selectionStart, end = target.selectionEnd;
    if (target.value.length - (end - start) + text.length > max) return;
    target.setRangeText(text, start, end, "end");
    target.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function backspace() {
    if (!target) return;
    var start = target.selectionStart, end = target.selectionEnd;
    if (start === end && start > 0) {
      var before = Array.from(target.value.slice(0, start));
      before.pop(); // one whole character, even outside the basic plane
      start = before.join("").length;
    }
    target.setRangeText("", start, end, "end");
    target.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function open(field) {
    target = field;
    field.setAttribute("inputmode", "none"); // no second, system keyboard
    render();
    osk.hidden = false;
    body.classList.add("osk-open");
    // Keep the field, with its label, in the space above the keyboard.
    var room = window.innerHeight - osk.offsetHeight;
    var box = field.getBoundingClientRect();
    var want = Math.min(room * 0.35, 120);
    if (box.top < want || box.bottom > room - 8) window.scrollBy(0, box.top - want);
  }

  function close() {
    osk.hidden = true;
    body.classList.remove("osk-open");
    if (target) target.blur();
    target = null;
  }

  document.addEventListener("focusin", function (ev) {
    if (isTextField(ev.target)) open(ev.target);
  });
  // Keep the focus (and the caret) in the field while keys are pressed.
  osk.addEventListener("pointerdown", function (ev) { ev.preventDefault(); });
  osk.addEventListener("mousedown", function (ev) { ev.preventDefault(); });
  osk.addEventListener("click", function (ev) {
    var b = ev.target.closest(".osk-key");
    if (!b) return;
    switch (b.dataset.action) {
      case "char": insert(b.textContent); if (shift) { shift = false; render(); } break;
      case "space": insert(" "); break;
      case "enter": insert("\n"); break;
      case "backspace": backspace(); break;
      case "shift": shift = !shift; render(); break;
      case "layout": layout = letters = offered[(offered.indexOf(letters) + 1) % offered.length]; shift = false; render(); break;
      case "symbols": layout = layout === "sym" ? letters : "sym"; shift = false; render(); break;
      case "done": close(); break;
    }
    if (target) target.focus();
  });
})();
