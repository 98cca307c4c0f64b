// The calendar: drag a task onto another day (it keeps its time) or, in the day view, onto
// another hour (it keeps its minutes). The drop fills the task's own "Move" form and sends
// it, so dragging and the keyboard way end in the same view and service.
(function () {
  "use strict";
  var dragged = null;

  function slotOf(node) { return node && node.closest ? node.closest("[data-day]") : null; }

  function targetTime(entry, slot) {
    var time = entry.dataset.time || "09:00";
    if (slot.dataset.hour) time = slot.dataset.hour + ":" + time.split(":")[1];
    return slot.dataset.day + "T" + time;
  }

  document.addEventListener("dragstart", function (event) {
    var entry = event.target.closest ? event.target.closest("[data-task]") : null;
    if (!entry || !entry.querySelector("form.calendar-move-form")) return;
    dragged = entry;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", entry.dataset.task);
    entry.classList.add("dragging");
  });
  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("dragging");
    dragged = null;
    document.querySelectorAll(".drop-target").forEach(function (node) { node.classList.remove("drop-target"); });
  });
  document.addEventListener("dragover", function (event) {
    var slot = slotOf(event.target);
    if (!slot || !dragged) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    slot.classList.add("drop-target");
  });
  document.addEventListener("dragleave", function (event) {
    var slot = slotOf(event.target);
    if (slot && !slot.contains(event.relatedTarget)) slot.classList.remove("drop-target");
  });
  document.addEventListener("drop", function (event) {
    var slot = slotOf(event.target);
    if (!slot || !dragged) return;
    event.preventDefault();
    var form = dragged.querySelector("form.calendar-move-form");
    var input = form.querySelector("input[type='datetime-local']");
    var value = targetTime(dragged, slot);
    if (input.value === value) return;
    input.value = value;
    if (window.htmx) htmx.trigger(form, "submit"); else form.submit();
  });

  // The time zone chooser mentions the computer's own zone when it differs from the page's.
  var zoneHint = document.querySelector("[data-browser-zone]");
  var zoneSelect = document.getElementById("time-zone-select");
  if (zoneHint && zoneSelect && window.Intl) {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && zoneSelect.querySelector("option[value='" + zone + "']")) {
      zoneHint.textContent = zoneSelect.dataset.browserZoneHint + " " + zone;
    }
  }
})();
