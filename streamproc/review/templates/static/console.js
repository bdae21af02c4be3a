// Keyboard shortcuts: j/k move between cases in a queue, Enter opens one; on a case page a
// single key presses the button that shows it (<kbd>). No build step, no dependency.
document.addEventListener("keydown", (event) => {
  if (event.target.closest("input, textarea") || event.ctrlKey || event.metaKey || event.altKey) return;
  const rows = [...document.querySelectorAll("tr.case-row")];
  if (rows.length && event.key === "x") {  // tick the selected case for the bulk confirm
    const pick = rows.find((row) => row.classList.contains("selected"))?.querySelector("input.pick");
    if (pick) pick.checked = !pick.checked;
    return;
  }
  if (rows.length && (event.key === "j" || event.key === "k" || event.key === "Enter")) {
    let at = rows.findIndex((row) => row.classList.contains("selected"));
    if (event.key === "Enter") { if (at >= 0) location.href = rows[at].dataset.href; return; }
    rows[at]?.classList.remove("selected");
    at = Math.max(0, Math.min(rows.length - 1, at + (event.key === "j" ? 1 : -1)));
    rows[at].classList.add("selected");
    return;
  }
  const button = document.querySelector(`button[data-key="${CSS.escape(event.key)}"]`);
  if (!button) return;
  // A form that needs words first (a note, an escalation's reason): the key goes to the field.
  const needed = button.form.querySelector("input[required]");
  if (needed) { event.preventDefault(); needed.focus(); } else button.click();
});
