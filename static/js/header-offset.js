// Anchor jumps land below the sticky top bar. The bar wraps to two rows on a phone, so
// its height is measured, not assumed: --site-header-height on <html> feeds the CSS
// `scroll-padding-top`. A page opened at #anchor is re-aligned once the height is known.

const header = document.querySelector(".site-topbar");

function update() {
  const height = header.getBoundingClientRect().height;
  document.documentElement.style.setProperty("--site-header-height", `${Math.ceil(height)}px`);
}

if (header) {
  update();
  new ResizeObserver(update).observe(header);
  const target = location.hash && document.getElementById(decodeURIComponent(location.hash.slice(1)));
  if (target) target.scrollIntoView();
}
