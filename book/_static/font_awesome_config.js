/* The theme's icons are written into the page by Sphinx, and Font Awesome's script
   (fontawesome.js, loaded deferred, so after this one) swaps them for SVG once the page
   has loaded. By default it then watches the whole page for icons added later: every
   change to the page becomes a record it looks through. A live demo changes up to
   thousands of table cells a redraw, so every redraw paid for it, about 1 ms in the
   scatter-add demo (benchmarks/demo_redraw.py). Nothing in this book adds an icon
   after load (the theme does only for a version-warning or an announcement banner,
   and _config.yml sets neither), so Font Awesome is told not to watch.
   tests/book/browser/test_theme_icons.py checks both halves on every page. */
window.FontAwesomeConfig = Object.assign(window.FontAwesomeConfig || {}, {
  observeMutations: false,
});
