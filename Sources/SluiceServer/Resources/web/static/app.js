// Sluice's web page: live progress, the new-job preview and the chart's refresh. Every page
// works without this script (by refresh); this only keeps what is on screen current.
(function () {
  "use strict";

  function duration(seconds) {
    var whole = Math.ceil(seconds);
    if (whole < 60) return whole + "s";
    if (whole < 3600) return Math.floor(whole / 60) + "m " + String(whole % 60).padStart(2, "0") + "s";
    return Math.floor(whole / 3600) + "h " + String(Math.floor((whole % 3600) / 60)).padStart(2, "0") + "m";
  }

  // The same figures the server renders, from the API's job object.
  function figures(job) {
    var c = job.counts, finished = c.succeeded + c.failed + c.cancelled;
    var final = ["completed", "completed_with_errors", "failed", "cancelled", "expired"].indexOf(job.status) >= 0;
    return {
      status: job.status.replace(/_/g, " "),
      percent: Math.floor((c.total ? finished / c.total : (final ? 1 : 0)) * 100) + "%",
      value: c.total ? finished : (final ? 1 : 0), max: Math.max(c.total, 1),
      counts: finished + "/" + c.total + " · ok " + c.succeeded + " · failed " + c.failed +
        (c.cancelled ? " · cancelled " + c.cancelled : ""),
      rate: job.items_per_second == null ? "–" : job.items_per_second.toFixed(1) + "/s",
      eta: final ? "done" : (job.eta_seconds == null ? "–" : duration(job.eta_seconds)),
      message: job.message || job.status_reason || "",
      total: c.total, succeeded: c.succeeded, failed: c.failed, pending: c.pending, running: c.running, cancelled: c.cancelled,
      final: final
    };
  }

  function show(root, job) {
    var f = figures(job);
    root.querySelectorAll("[data-field]").forEach(function (el) {
      var name = el.getAttribute("data-field");
      if (name === "progress") {
        el.max = f.max; el.value = f.value; el.textContent = f.percent;
      } else if (name === "status") {
        el.textContent = f.status; el.className = "status status-" + job.status;
      } else if (f[name] !== undefined) {
        el.textContent = f[name];
      }
    });
    return f;
  }

  // The jobs list: one request refreshes every row of the page while any is unfinished.
  var list = document.querySelector("[data-jobs-list]");
  if (list) {
    var poll = function () {
      if (!list.querySelector("tr[data-final=false]")) return;
      fetch(list.getAttribute("data-source"), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (page) {
          if (!page) return;
          page.data.forEach(function (job) {
            var row = list.querySelector('tr[data-job-id="' + job.id + '"]');
            if (row) row.setAttribute("data-final", String(show(row, job).final));
          });
        })
        .catch(function () {})
        .finally(function () { setTimeout(poll, 2000); });
    };
    setTimeout(poll, 1000);
  }

  // A job's page: live figures from its event stream; a new status reloads the page, whose
  // buttons, downloads and failures depend on it.
  var jobRoot = document.querySelector("[data-job]");
  if (jobRoot && window.EventSource) {
    var id = jobRoot.getAttribute("data-job"), shown = jobRoot.getAttribute("data-status");
    var finalStatuses = ["completed", "completed_with_errors", "failed", "cancelled", "expired"];
    if (finalStatuses.indexOf(shown) < 0) {
      var events = new EventSource("/v1/jobs/" + encodeURIComponent(id) + "/events");
      events.addEventListener("progress", function (e) { show(jobRoot, JSON.parse(e.data)); });
      events.addEventListener("status", function (e) {
        var status = JSON.parse(e.data).status;
        if (status !== shown) { events.close(); window.location.reload(); }
      });
      events.addEventListener("deleted", function () { events.close(); window.location.assign("/"); });
      var chart = jobRoot.querySelector("[data-chart-target]");
      var redraw = function () {
        fetch(chart.getAttribute("data-source"), { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.text() : null; })
          .then(function (html) {
            if (html) {
              var doc = new DOMParser().parseFromString(html, "text/html");
              var figure = doc.querySelector("[data-chart]");
              if (figure) chart.replaceChildren(document.importNode(figure, true));
            }
          })
          .catch(function () {})
          .finally(function () { setTimeout(redraw, 5000); });
      };
      if (chart) setTimeout(redraw, 5000);
    }
  }

  // The new-job form: show the fields of the chosen mode, and preview without leaving it.
  var form = document.querySelector("[data-new-job]");
  if (form) {
    var sync = function () {
      var custom = form.querySelector("#mode-custom").checked;
      form.querySelectorAll("[data-mode]").forEach(function (el) {
        el.hidden = el.getAttribute("data-mode") !== (custom ? "custom" : "preset");
      });
    };
    form.querySelectorAll("input[name=mode]").forEach(function (el) { el.addEventListener("change", sync); });
    sync();
    var target = document.querySelector("[data-preview-target]");
    var headBytes = 256 * 1024;
    form.querySelector("[data-preview-button]").addEventListener("click", function (event) {
      event.preventDefault();
      var data = new FormData(form), partial = false;
      data.delete("file");
      Array.prototype.forEach.call(form.querySelector("#file").files, function (file) {
        // The head of a large text file is enough to show its first rows.
        if (file.size > headBytes && !/\.(xlsx|pdf)$/i.test(file.name)) {
          data.append("file", file.slice(0, headBytes), file.name);
          partial = true;
        } else {
          data.append("file", file, file.name);
        }
      });
      if (partial) data.append("partial", "1");
      target.setAttribute("aria-busy", "true");
      fetch("/jobs/preview?fragment=1", { method: "POST", body: data, credentials: "same-origin" })
        .then(function (r) { return r.text(); })
        .then(function (html) {
          var doc = new DOMParser().parseFromString(html, "text/html");
          var section = doc.querySelector("[data-preview]") || doc.querySelector("main");
          target.replaceChildren(section ? document.importNode(section, true) : document.createTextNode("The preview failed."));
        })
        .catch(function (error) { target.textContent = "The preview failed: " + error; })
        .finally(function () { target.removeAttribute("aria-busy"); });
    });
  }
})();
