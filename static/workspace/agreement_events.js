// The Agreement page: event types with no event in any layer compared are hidden behind
// "Show all event types".
const showAll = document.getElementById("wb-events-show-all");
if (showAll)
  showAll.addEventListener("change", () => {
    for (const row of document.querySelectorAll("#wb-events tr.wb-no-data")) row.hidden = !showAll.checked;
  });
