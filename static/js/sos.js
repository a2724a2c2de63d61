// A page that comes back with errors starts at their summary: on a phone the first error
// may be far below the fold, and a screen reader announces the summary as it takes focus.
(function () {
  var summary = document.querySelector("[data-error-summary]");
  if (summary) {
    summary.focus();
  }
})();

// Stop a double click from sending a form twice. The server also turns a repeated
// submission away (each form carries a one-time token), so this is a courtesy only.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (form.dataset.submitted === "yes") {
    event.preventDefault();
    return;
  }
  form.dataset.submitted = "yes";
  form.querySelectorAll("button[type=submit]").forEach(function (button) {
    button.setAttribute("aria-disabled", "true");
    button.classList.add("disabled");
  });
});

// A page restored from the back/forward cache must accept a new submission.
window.addEventListener("pageshow", function () {
  document.querySelectorAll("form[data-submitted]").forEach(function (form) {
    delete form.dataset.submitted;
    form.querySelectorAll("button[type=submit]").forEach(function (button) {
      button.removeAttribute("aria-disabled");
      button.classList.remove("disabled");
    });
  });
});

// Printing a client's page is recorded in the access log, whether from the Print button
// or the browser's own menu: both open the print dialog, which fires "beforeprint".
(function () {
  var logForm = document.getElementById("print-log");
  if (!logForm) {
    return;
  }
  window.addEventListener("beforeprint", function () {
    fetch(logForm.action, {
      method: "POST",
      body: new FormData(logForm),
      credentials: "same-origin",
    });
  });
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () {
      window.print();
    });
  });
})();

// A check-in asks its questions only of a young person who was reached: they are hidden
// while "No" is chosen (the server keeps no answers then, whatever is sent).
(function () {
  var answers = document.querySelectorAll("[data-if-reached]");
  if (!answers.length) {
    return;
  }
  var form = answers[0].form;
  function update() {
    var chosen = form.querySelector("input[name=reached]:checked");
    var hidden = chosen !== null && chosen.value === "False";
    answers.forEach(function (input) {
      input.closest(".mb-3").hidden = hidden;
    });
  }
  form.querySelectorAll("input[name=reached]").forEach(function (input) {
    input.addEventListener("change", update);
  });
  update();
})();
