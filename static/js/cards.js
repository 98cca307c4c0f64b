// Client cards: focus moves into a field group's form when it opens and back to its
// "Edit" button when it closes; the conversion dialog opens once its form has arrived.
(function () {
  "use strict";
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (target.id === "dialog-body") {
      var dialog = target.closest("dialog");
      if (!dialog.open) dialog.showModal();
      var first = target.querySelector("input:not([type=hidden]), select, textarea");
      if (first) first.focus();
    }
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    var group = event.detail.elt && event.detail.elt.closest ? event.detail.elt : null;
    if (!group || !group.classList || !group.classList.contains("field-group")) return;
    var focus = group.querySelector("[data-edit-form] input, [data-edit-form] select, [data-edit-form] textarea")
      || group.querySelector(".panel-head a");
    if (focus) focus.focus();
  });
  document.addEventListener("click", function (event) {
    if (!event.target.matches("[data-close-dialog]")) return;
    var dialog = event.target.closest("dialog");
    if (dialog) { event.preventDefault(); dialog.close(); }
  });
})();
