// Loaded by the built book's pages that hold widgets, just before require.js (see
// nb_ipywidgets_js in _config.yml; tools/build_book.py copies this file to
// _static/offline/, beside the files it names). It tells require.js that anywidget's
// front-end and the ipywidgets HTML manager (with the fonts it loads relative to
// itself) are served by the book, so that nothing falls back to a CDN.
// require.js reads a global `require` object defined before it loads as its config.
(function () {
  var here = document.currentScript.src.replace(/[^/]*(\?.*)?$/, "");
  window.require = {
    paths: {
      anywidget: here + "anywidget",
      "@jupyter-widgets/html-manager/dist": here.replace(/\/$/, ""),
    },
  };
})();
