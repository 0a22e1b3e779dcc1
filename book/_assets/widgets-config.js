/* The ipywidgets embed manager (embed-amd.js) loads its icon fonts relative to the AMD module
   "@jupyter-widgets/html-manager/dist/libembed-amd"; point that module's folder at the copies
   this site serves (_static/widgets), so widget pages need no network. Loaded after require.js
   and before embed-amd.js (see nb_ipywidgets_js in _config.yml). */
require.config({
  paths: {
    "@jupyter-widgets/html-manager/dist":
      (document.documentElement.dataset.content_root || "") + "_static/widgets",
  },
});
