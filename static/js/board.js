// The pipeline board: drag a deal onto another stage's column. The drop posts the deal's
// own "Move to" form (the keyboard way), so both end in the same view and service.
// Entering a won or lost stage first asks in a <dialog> (the reason, for lost).
(function () {
  "use strict";
  var dragged = null;
  var lastMoved = null;

  function columnOf(node) { return node && node.closest ? node.closest("[data-stage]") : null; }

  function askToClose(form, kind) {
    var dialog = document.getElementById("close-dialog");
    var confirm = document.getElementById("close-dialog-form");
    var title = document.getElementById("close-dialog-title");
    var reason = document.getElementById("close-reason");
    confirm.action = form.action;
    confirm.elements.stage.value = form.elements.stage.value;
    title.textContent = title.dataset[kind];
    document.getElementById("close-dialog-deal").textContent = form.closest("[data-deal]").dataset.title;
    document.getElementById("close-dialog-reason").hidden = kind !== "lost";
    reason.required = kind === "lost";
    form.reset();  // the card stays where it was until the dialog is confirmed
    dialog.showModal();
    (kind === "lost" ? reason : confirm.querySelector("button[type=submit]")).focus();
  }

  function submitMove(form) {
    var option = form.elements.stage.selectedOptions[0];
    var kind = option ? option.dataset.kind : "open";
    lastMoved = form.closest("[data-deal]").dataset.deal;
    if (kind === "won" || kind === "lost") return askToClose(form, kind);
    htmx.trigger(form, "submit");
  }

  // "Move to" + button (keyboard, or no drag): won and lost go through the dialog too.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("form.move-form") || !window.htmx) return;
    var option = form.elements.stage.selectedOptions[0];
    lastMoved = form.closest("[data-deal]").dataset.deal;
    if (option && (option.dataset.kind === "won" || option.dataset.kind === "lost")) {
      event.preventDefault();
      event.stopPropagation();
      askToClose(form, option.dataset.kind);
    }
  }, true);

  document.addEventListener("click", function (event) {
    if (event.target.matches("[data-close-dialog]")) event.target.closest("dialog").close();
  });

  document.addEventListener("dragstart", function (event) {
    var card = event.target.closest ? event.target.closest("[data-deal]") : null;
    if (!card) return;
    dragged = card;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.deal);
    card.classList.add("dragging");
  });
  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("dragging");
    dragged = null;
    document.querySelectorAll(".drop-target").forEach(function (node) { node.classList.remove("drop-target"); });
  });
  document.addEventListener("dragover", function (event) {
    var column = columnOf(event.target);
    if (!column || !dragged) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    column.classList.add("drop-target");
  });
  document.addEventListener("dragleave", function (event) {
    var column = columnOf(event.target);
    if (column && !column.contains(event.relatedTarget)) column.classList.remove("drop-target");
  });
  document.addEventListener("drop", function (event) {
    var column = columnOf(event.target);
    if (!column || !dragged) return;
    event.preventDefault();
    var form = dragged.querySelector("form.move-form");
    if (form.elements.stage.value === column.dataset.stage) return;
    form.elements.stage.value = column.dataset.stage;
    submitMove(form);
  });

  // After the board is redrawn, focus returns to the moved deal's menu (keyboard users keep their place).
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target.id !== "board" || !lastMoved) return;
    var select = document.querySelector("[data-deal='" + lastMoved + "'] select");
    if (select) select.focus();
    lastMoved = null;
  });
})();
