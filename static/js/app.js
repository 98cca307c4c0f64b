// The little JavaScript the shell needs; everything works without it, only slower.
(function () {
  "use strict";

  function typing(target) {
    return target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName);
  }

  // "/" jumps to the quick search from anywhere but a text field; Escape closes the results.
  document.addEventListener("keydown", function (event) {
    var box = document.getElementById("quick-search");
    if (!box) return;
    if (event.key === "/" && !event.ctrlKey && !event.metaKey && !event.altKey && !typing(event.target)) {
      event.preventDefault();
      box.focus();
      box.select();
    } else if (event.key === "Escape" && document.activeElement === box) {
      box.value = "";
      document.getElementById("quick-search-results").innerHTML = "";
    }
  });

  // Selects marked data-autosubmit (the language switcher) submit their form on change.
  document.addEventListener("change", function (event) {
    if (event.target.matches("select[data-autosubmit]")) event.target.form.submit();
  });

  // "Select all" boxes of list pages tick the row boxes of the same form.
  document.addEventListener("change", function (event) {
    if (!event.target.matches("input[data-select-all]")) return;
    var boxes = event.target.form.querySelectorAll("input[name='ids']");
    boxes.forEach(function (box) { box.checked = event.target.checked; });
  });

  // "Copy" buttons (lead form snippet) copy the text of the element they name.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-copy]");
    if (!button || !navigator.clipboard) return;
    var source = document.getElementById(button.getAttribute("data-copy"));
    navigator.clipboard.writeText(source.value || source.textContent).then(function () {
      var status = document.getElementById(source.id + "-status");
      if (status) status.textContent = button.getAttribute("data-copied");
    });
  });

  // Notifications arrive without a reload: the header polls every half minute while the tab
  // is visible and the person has touched it lately (an open tab on an empty desk stops
  // polling, so its shared seat frees itself after the idle timeout). New ones update the
  // badge and, when the person allowed it, show as desktop notifications, once across tabs.
  var bell = document.getElementById("notifications-link");
  if (bell && bell.dataset.poll && window.fetch) {
    var POLL_MS = 30000;
    var lastId = null;
    var etag = null;
    var stopAfterIdleMs = 10 * 60 * 1000;
    var lastInput = Date.now();
    var timer = null;
    var seenKey = "crm-notified:" + location.host;

    ["keydown", "pointerdown", "pointermove", "scroll", "touchstart"].forEach(function (name) {
      document.addEventListener(name, function () { lastInput = Date.now(); }, { passive: true });
    });

    function badge(count, label) {
      var node = bell.querySelector(".badge");
      if (!count) { if (node) node.remove(); return; }
      if (!node) { node = document.createElement("span"); node.className = "badge"; bell.append(" ", node); }
      node.textContent = count;
      node.setAttribute("aria-label", label);
    }

    function announce(item) {
      var shown = Number(localStorage.getItem(seenKey) || 0);
      if (item.id <= shown) return;
      localStorage.setItem(seenKey, String(item.id));
      if (!("Notification" in window) || Notification.permission !== "granted") return;
      var note = new Notification(item.title, { body: item.body || item.kind, tag: "crm-" + item.id });
      note.onclick = function () { window.focus(); if (item.url) location.href = item.url; note.close(); };
    }

    function schedule() { clearTimeout(timer); timer = setTimeout(poll, POLL_MS); }

    function poll() {
      if (document.hidden || Date.now() - lastInput > stopAfterIdleMs) return schedule();
      var url = bell.dataset.poll + (lastId === null ? "?baseline=1" : "?after=" + lastId);
      var headers = etag ? { "If-None-Match": etag } : {};
      fetch(url, { headers: headers, credentials: "same-origin" }).then(function (response) {
        if (response.status === 304) return null;
        if (response.redirected || !response.ok) { lastId = null; etag = null; return null; }
        etag = response.headers.get("ETag");
        return response.json();
      }).then(function (data) {
        if (!data) return;
        badge(data.unread, data.unread_label);
        stopAfterIdleMs = data.stop_after_idle_seconds * 1000;
        if (lastId !== null) data.new.slice().reverse().forEach(announce);
        else localStorage.setItem(seenKey, String(Math.max(Number(localStorage.getItem(seenKey) || 0), data.latest_id)));
        lastId = Math.max(lastId || 0, data.latest_id);
      }).catch(function () { /* offline for a moment: the next poll tries again */ }).then(schedule);
    }

    document.addEventListener("visibilitychange", function () { if (!document.hidden) poll(); });
    poll();
  }

  // "Show desktop notifications" asks the browser once; hidden where it can't or already did.
  var allow = document.querySelector("[data-desktop-notifications]");
  if (allow && "Notification" in window && Notification.permission === "default") {
    allow.hidden = false;
    allow.addEventListener("click", function () {
      Notification.requestPermission().then(function (answer) {
        allow.hidden = true;
        var status = document.getElementById("desktop-notifications-status");
        if (status) status.textContent = allow.dataset[answer === "granted" ? "granted" : "denied"];
      });
    });
  }
})();
