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

// Live counts: the header's queue counts follow /api/v1/queues every 10 s (a signed-in page
// only; a failed poll leaves the last counts and tries again).
if (document.querySelector("nav a[id^='queue-']")) {
  setInterval(async () => {
    try {
      const response = await fetch("/api/v1/queues", { credentials: "same-origin" });
      if (!response.ok) return;
      const { queues } = await response.json();
      for (const [name, count] of Object.entries(queues)) {
        const badge = document.querySelector(`#queue-${CSS.escape(name)} .count`);
        if (badge) badge.textContent = String(count);
      }
    } catch (_) { /* offline for a moment: keep the last counts */ }
  }, 10000);
}
