(function () {
  "use strict";
  var steps = JSON.parse(document.getElementById("fd-data").textContent);
  var tip = document.getElementById("tip");
  var details = document.getElementById("details");
  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function pill(s) { return '<span class="pill o-' + s.outcome + '">' + esc(s.outcome_label) + "</span>"; }
  function facts(s) {
    var rows = [["Outcome", pill(s)], ["Kind", esc(s.kind) + (s.phase === "cleanup" ? " · cleanup" : "")],
      ["Started", esc(s.started)], ["Duration", esc(s.duration)],
      ["Machine", esc(s.machine)], ["Human", esc(s.human)], ["Attempts", String(s.attempts)]];
    if (s.budget) rows.push(["Budget", esc(s.budget) + (s.over_budget ? ' <b class="bad">over budget</b>' : "")]);
    if (s.baseline) rows.push(["Baseline", esc(s.baseline.median) + " median of " + s.baseline.samples +
      " · " + (s.baseline.regression ? '<b class="bad">' + esc(s.baseline.change) + " regression</b>" : esc(s.baseline.change))]);
    rows.push(["Owner", esc(s.owner || "–")]);
    return rows;
  }
  function tipHtml(s) {
    var h = "<b>" + s.n + ". " + esc(s.name) + "</b> " + pill(s);
    h += '<div class="t-row">' + esc(s.duration) + " (machine " + esc(s.machine) + ", human " + esc(s.human) + ")";
    if (s.attempts > 1) h += " · " + s.attempts + " attempts";
    if (s.budget) h += " · budget " + esc(s.budget) + (s.over_budget ? " — over" : "");
    h += "</div>";
    if (s.intervention) h += '<div class="t-row">' + (s.intervention.planned ? "" : "unplanned: ") +
      esc(s.intervention.what) + (s.intervention.operator ? " by " + esc(s.intervention.operator) : "") +
      ", " + esc(s.intervention.help) + (s.intervention.note ? " — “" + esc(s.intervention.note) + "”" : "") + "</div>";
    if (s.error) h += '<div class="t-err">' + esc(s.error.length > 400 ? s.error.slice(0, 400) + "…" : s.error) + "</div>";
    return h + '<div class="t-row">click for details</div>';
  }
  function detailHtml(s) {
    var h = '<h2>Step details</h2><div class="detail"><div><h3>' + s.n + ". " + esc(s.name) + "</h3><dl class=\"facts\">";
    facts(s).forEach(function (r) { h += "<dt>" + r[0] + "</dt><dd>" + r[1] + "</dd>"; });
    h += "</dl></div><div>";
    if (s.intervention) {
      var i = s.intervention;
      h += '<div class="box int' + (i.planned ? " planned" : "") + '"><h4>' + (i.planned ? "Manual step" : "Unplanned intervention") +
        "</h4><div>" + esc(i.what) + (i.operator ? " by <b>" + esc(i.operator) + "</b>" : "") + " · " + esc(i.help) + "</div>" +
        (i.note ? "<div>Note: “" + esc(i.note) + "”</div>" : "") + "</div>";
    }
    if (s.error) h += '<div class="box err"><h4>Error</h4><pre>' + esc(s.error) + "</pre></div>";
    if (!s.intervention && !s.error) h += '<p class="hint">No error and no intervention: the step did what it should.</p>';
    return h + "</div></div>";
  }
  function select(i) {
    var s = steps[i];
    if (!s) return;
    document.querySelectorAll("[data-i]").forEach(function (el) {
      el.classList.toggle("selected", el.getAttribute("data-i") === String(i));
    });
    details.innerHTML = detailHtml(s);
    details.setAttribute("data-step", String(s.n));
  }
  function place(e) {
    var x = e.clientX + 14, y = e.clientY + 14, r = tip.getBoundingClientRect();
    if (x + r.width > window.innerWidth - 8) x = e.clientX - r.width - 14;
    if (y + r.height > window.innerHeight - 8) y = e.clientY - r.height - 14;
    tip.style.left = Math.max(8, x) + "px";
    tip.style.top = Math.max(8, y) + "px";
  }
  document.querySelectorAll("[data-i]").forEach(function (el) {
    var i = Number(el.getAttribute("data-i"));
    if (el.classList.contains("row")) {
      el.addEventListener("mouseenter", function (e) { tip.innerHTML = tipHtml(steps[i]); tip.hidden = false; place(e); });
      el.addEventListener("mousemove", place);
      el.addEventListener("mouseleave", function () { tip.hidden = true; });
    }
    el.addEventListener("click", function () {
      select(i);
      try { history.replaceState(null, "", "#step=" + (i + 1)); } catch (err) { /* a file: URL may refuse */ }
    });
    el.addEventListener("keydown", function (e) {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); select(i); }
    });
  });
  var m = /^#step=(\d+)$/.exec(location.hash);
  var first = -1;
  if (m) first = Number(m[1]) - 1;
  else {
    steps.some(function (s, i) { if (s.outcome === "failed" || s.outcome === "timed_out") { first = i; return true; } return false; });
    if (first < 0) steps.some(function (s, i) { if (s.intervention && !s.intervention.planned) { first = i; return true; } return false; });
  }
  if (first >= 0) select(first);
  document.body.setAttribute("data-ready", "true");
})();
