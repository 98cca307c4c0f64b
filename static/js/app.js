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
})();
