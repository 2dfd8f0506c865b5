// ESLint 9 flat config for floodpost's browser scripts (web/static/js; vendored libraries are
// not ours to lint). Run by scripts/test.sh; `npm run lint` / `npm run format` by hand.
import js from "@eslint/js";
import globals from "globals";

export default [
  { ignores: ["web/static/vendor/**", "node_modules/**", ".venv/**"] },
  js.configs.recommended,
  {
    files: ["web/static/js/**/*.js"],
    languageOptions: {
      ecmaVersion: 2020,
      sourceType: "script",
      // Plain scripts: everything shared goes through window.floodpost (http.js); the vendored
      // Leaflet and Chart.js are the only other globals a page script may read.
      globals: { ...globals.browser, L: "readonly", Chart: "readonly" },
    },
    rules: {
      "no-implicit-globals": "error",
      "no-restricted-globals": ["error", "event", "name", "status"],
      "no-unused-vars": ["error", { args: "none", caughtErrors: "none" }],
      "no-var": "off",
      eqeqeq: ["error", "always", { null: "ignore" }],
    },
  },
  {
    // The service worker runs in its own global scope; the server fills in the two placeholders.
    files: ["web/static/js/report-sw.js"],
    languageOptions: {
      globals: { ...globals.serviceworker, __ASSETS__: "readonly" },
    },
    rules: { "no-implicit-globals": "off" }, // a worker's globals are its own, not a page's
  },
];
