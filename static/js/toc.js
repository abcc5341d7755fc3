// "On this page": marks the section being read (aria-current="location"). The list is
// folded in the HTML, so a phone (where it sits above the lesson) never sees it jump
// shut; on wide screens, where it has a column of its own, it is unfolded here.

const WIDE = window.matchMedia("(min-width: 1200px)");
const READING_LINE = 0.3; // a heading counts as "being read" once above 30% of the viewport

function setup(toc) {
  const links = [...toc.querySelectorAll('a[href^="#"]')];
  const targets = links
    .map((link) => [link, document.getElementById(decodeURIComponent(link.hash.slice(1)))])
    .filter(([, heading]) => heading);
  if (targets.length === 0) return;

  let current = null;
  function mark(link) {
    if (link === current) return;
    current?.removeAttribute("aria-current");
    link?.setAttribute("aria-current", "location");
    current = link;
  }

  function update() {
    const line = window.innerHeight * READING_LINE;
    let active = null;
    for (const [link, heading] of targets) {
      if (heading.getBoundingClientRect().top <= line) active = link;
      else break;
    }
    // At the very bottom the last short sections can never reach the line.
    const atEnd = window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 2;
    mark(atEnd ? targets[targets.length - 1][0] : active);
  }

  let queued = false;
  window.addEventListener(
    "scroll",
    () => {
      if (queued) return;
      queued = true;
      requestAnimationFrame(() => {
        queued = false;
        update();
      });
    },
    { passive: true },
  );
  window.addEventListener("resize", update, { passive: true });
  update();

  const details = toc.querySelector("details");
  if (details && WIDE.matches) details.open = true;
  // Choosing a section in the folded list on a phone folds it away again.
  toc.addEventListener("click", (event) => {
    if (details && !WIDE.matches && event.target.closest("a")) details.open = false;
  });
}

for (const toc of document.querySelectorAll(".lesson-toc")) setup(toc);
