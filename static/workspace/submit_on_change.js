// A <select data-submit-on-change> sends its form when its value changes (no inline handler:
// the Content-Security-Policy allows scripts from our static files only).
document.addEventListener("change", (event) => {
  const select = event.target;
  if (select instanceof HTMLSelectElement && select.hasAttribute("data-submit-on-change") && select.form) {
    select.form.submit();
  }
});
