// Posting in steps: the posting form (board/new.html) shown one question a screen, so that it
// fits the 800x480 touchscreen. Nothing leaves the one form: Back and Next only show and hide
// its parts, and the server checks everything on "Post" as it does without this script.
(function () {
  "use strict";
  var form = document.getElementById("post-form");
  if (!form || !form.querySelector("section[data-step]")) return;
  var sections = {};
  form.querySelectorAll("section[data-step]").forEach(function (s) {
    sections[s.dataset.step] = s;
    s.tabIndex = -1;
  });
  var count = document.getElementById("step-count");
  var nav = form.querySelector(".step-nav");
  var back = nav.querySelector("[data-back]");
  var next = nav.querySelector("[data-next]");
  var post = form.querySelector(".post-actions button[type=submit]");
  var cancel = form.querySelector("[data-cancel]");
  var current = null;
  var fromCheck = false; // after "Change" on the summary, Next goes straight back to it

  function chosen(name) {
    var el = form.querySelector("input[name=" + name + "]:checked");
    return el ? el.value : "";
  }

  function order() {
    var steps = ["what", "title", "details"];
    if (chosen("category") === "transportation") steps.push("ride");
    return steps.concat(["when", "check"]);
  }

  function tileText(name) {
    var el = form.querySelector("input[name=" + name + "]:checked");
    return el ? el.closest("label").textContent.trim() : "";
  }

  function optionText(select) {
    return select.value ? select.options[select.selectedIndex].textContent.trim() : "";
  }

  function whenText() {
    var when = chosen("when");
    if (when !== "date") return tileText("when");
    return optionText(form.elements.when_date);
  }

  function rideText() {
    var f = form.elements;
    var route = [f.ride_from.value.trim(), f.ride_to.value.trim()].filter(Boolean).join(" → ");
    // Day and hour in the page's language (Arabic's own comma), the visitor's landmarks on a line
    // of their own: mixed into one Arabic line they read "Plaza del, 9:30 ص, الخميس".
    var comma = document.documentElement.lang === "ar" ? "، " : ", ";
    var day = [optionText(f.ride_date), optionText(f.ride_time)].filter(Boolean).join(comma);
    return [day, route].filter(Boolean).join("\n");
  }

  function fillSummary() {
    var shown = {
      what: tileText("category"),
      title: form.elements.title.value.trim(),
      details: form.elements.details.value.trim(),
      area: form.elements.area.value.trim(),
      ride: rideText(),
      when: whenText()
    };
    form.querySelectorAll(".summary-row").forEach(function (row) {
      var part = row.dataset.part;
      row.hidden = part === "ride" && (order().indexOf("ride") < 0 || !shown.ride);
      var dd = row.querySelector("[data-show]");
      dd.textContent = shown[part] || "—";
      dd.dir = "auto";
    });
  }

  function say(section, message) {
    var old = section.querySelector(".client-error");
    if (old) old.remove();
    if (!message) return true;
    var p = document.createElement("p");
    p.className = "error client-error";
    p.setAttribute("role", "alert");
    p.textContent = message;
    var q = section.querySelector(".step-q");
    q.parentNode.insertBefore(p, q.nextSibling);
    return false;
  }

  // Only what a visitor cannot skip: the server still checks everything on "Post".
  function ready(name) {
    var section = sections[name], d = form.dataset;
    if (name === "what" && !chosen("category")) return say(section, d.needCategory);
    if (name === "title" && !form.elements.title.value.trim()) return say(section, d.needTitle);
    if (name === "when" && chosen("when") === "date" && !form.elements.when_date.value) return say(section, d.needDate);
    return say(section, "");
  }

  function show(name, remember) {
    var steps = order();
    if (steps.indexOf(name) < 0) name = "when";
    current = name;
    Object.keys(sections).forEach(function (key) { sections[key].hidden = key !== name; });
    var i = steps.indexOf(name);
    count.textContent = form.dataset.stepLabel.replace("{n}", String(i + 1)).replace("{total}", String(steps.length));
    cancel.hidden = i !== 0;
    back.hidden = i === 0;
    next.hidden = name === "check";
    post.hidden = name !== "check";
    form.classList.toggle("at-check", name === "check");
    if (name === "check") { fillSummary(); fromCheck = false; }
    if (remember) history.pushState({ step: name, from: remember }, "");
    window.scrollTo(0, 0);
  }

  function go(name) {
    // The on-screen keyboard (touch.js) goes with the field it typed into.
    var done = document.querySelector("#osk:not([hidden]) [data-action=done]");
    if (done) done.click();
    show(name, current);
    // The title is the one thing to type: its keyboard comes at once. Elsewhere the step
    // itself takes the focus, so that a screen reader starts reading at its question.
    if (name === "title") form.elements.title.focus();
    else sections[name].focus({ preventScroll: true });
  }

  function forward() {
    if (!ready(current)) return;
    var steps = order();
    var after = steps[steps.indexOf(current) + 1];
    // A change made from the summary goes back to it, through the ride if one became due.
    go(fromCheck && !(current === "what" && after === "ride") ? "check" : after);
  }

  function firstStep() {
    // After the server refused something, start where it is, with the warning there.
    var box = document.querySelector(".contact-box");
    if (box) {
      var field = box.dataset.fields.split(" ")[0];
      var name = field === "title" ? "title" : (field.indexOf("ride") === 0 ? "ride" : "details");
      var q = sections[name].querySelector(".step-q");
      q.parentNode.insertBefore(box, q.nextSibling);
      return name;
    }
    var bad = form.querySelector("[aria-invalid=true], .error");
    if (bad) return bad.closest("section[data-step]").dataset.step;
    return form.dataset.editing ? "check" : "what";
  }

  nav.insertBefore(cancel, back);
  nav.appendChild(post);
  nav.hidden = false;
  count.hidden = false;
  form.classList.add("steps");
  document.body.classList.add("posting-steps");

  next.addEventListener("click", forward);
  back.addEventListener("click", function () {
    var steps = order();
    var before = steps[Math.max(steps.indexOf(current) - 1, 0)];
    // Came from there: the browser's Back does it, so that history and screen agree.
    if (history.state && history.state.from === before) history.back();
    else go(before);
  });
  form.addEventListener("click", function (ev) {
    var change = ev.target.closest("[data-goto]");
    if (change) { fromCheck = true; go(change.dataset.goto); }
  });
  form.addEventListener("change", function (ev) {
    var el = ev.target;
    if (el.name === "category") { say(sections.what, ""); forward(); }
    if (el.name === "when" && el.value !== "date") forward();
    if (el.name === "when_date") say(sections.when, ""); // fixed: the message goes
  });
  // Enter in a field moves on instead of posting half a form.
  form.addEventListener("submit", function (ev) {
    if (current !== "check") { ev.preventDefault(); forward(); }
  });
  var summary = document.querySelector(".error-summary");
  if (summary) {
    summary.addEventListener("click", function (ev) {
      var link = ev.target.closest("a[href^='#']");
      var target = link && document.getElementById(link.getAttribute("href").slice(1));
      var section = target && target.closest("section[data-step]");
      if (!section) return;
      ev.preventDefault();
      go(section.dataset.step);
    });
  }
  window.addEventListener("popstate", function (ev) {
    show((ev.state && ev.state.step) || "what", false);
  });
  var start = firstStep();
  history.replaceState({ step: start }, "");
  show(start, false);
})();
