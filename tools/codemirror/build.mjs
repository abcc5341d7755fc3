// Builds, with esbuild (`make codemirror`: npm ci + this script):
// - the code editor bundle, static/vendor/codemirror/editor.min.js, from editor.js;
// - the lesson page's one script and one stylesheet, static/js/lesson.bundle.js and
//   static/css/lesson.bundle.css, from the site's own modules and stylesheets listed
//   below (a lesson then costs a handful of requests, not one per small file).
//   bundle-sources.json records each input's sha256: tests/test_frontend_bundles.py
//   fails when a source changed without a rebuild.
//
// One patch, at build time: style-mod (CodeMirror's run-time styles) writes a <style>
// element into a Document and uses a constructable stylesheet only in a shadow root.
// The site's Content-Security-Policy has no 'unsafe-inline' for styles, and its lesson
// pages come from a shared page cache, so a per-request nonce cannot be used (every
// visitor would get the same cached "nonce"). A constructed CSSStyleSheet adopted by
// the document is not an inline style, so CSP allows it: the patch makes style-mod use
// one for documents too (every browser with adoptedStyleSheets).
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import * as esbuild from "esbuild";

const OUT = "../../static/vendor/codemirror/editor.min.js";
const STYLE_MOD_TEST = "if (!root.head && root.adoptedStyleSheets && win.CSSStyleSheet) {";

const adoptedStyles = {
  name: "style-mod-adopted-sheets",
  setup(build) {
    build.onLoad({ filter: /style-mod[\\/]src[\\/]style-mod\.js$/ }, (args) => {
      const source = readFileSync(args.path, "utf8");
      if (!source.includes(STYLE_MOD_TEST)) {
        throw new Error("style-mod changed: update the adoptedStyleSheets patch in build.mjs");
      }
      return {
        contents: source.replace(STYLE_MOD_TEST, "if (root.adoptedStyleSheets && win.CSSStyleSheet) {"),
        loader: "js",
      };
    });
  },
};

const lock = JSON.parse(readFileSync("package-lock.json", "utf8"));
const version = (name) => lock.packages[`node_modules/${name}`].version;

await esbuild.build({
  entryPoints: ["editor.js"],
  bundle: true,
  minify: true,
  format: "esm",
  target: "es2020",
  legalComments: "none",
  banner: {
    js: `/*! CodeMirror ${version("@codemirror/view")} (view) + Python, bundled for this site (tools/codemirror) | MIT License | https://codemirror.net */`,
  },
  plugins: [adoptedStyles],
  outfile: OUT,
});

// The lesson page's modules, in the order base.html and lesson.html loaded them. The
// site-wide ones are small and run at once, before the page's load event, as their
// <script type="module"> tags did (the search box and "/" work from the first key);
// the lesson's own start one task each after that.
const FIRST_JS = ["site.js", "progress.js", "shortcuts.js", "search.js", "header-offset.js"];
const LATER_JS = ["copy.js", "toc.js", "runner.js", "exercises.js", "search-highlight.js"];
const LESSON_JS = [...FIRST_JS, ...LATER_JS];
const LESSON_CSS = [
  "pygments.css", "site.css", "search.css", "runner.css", "trace-diagram.css", "exercises.css",
];

const js = await esbuild.build({
  stdin: {
    // Each module starts in a task of its own, in order, as separate <script
    // type="module"> tags did: one long task for all of them would block the main
    // thread (Lighthouse's Total Blocking Time). esbuild keeps each import() in this
    // file, as a lazily evaluated module.
    contents: [
      ...FIRST_JS.map((name) => `import "./${name}";`),
      "const nextTask = () => new Promise((resolve) => setTimeout(resolve, 0));",
      "(async () => {",
      `  for (const load of [${LATER_JS.map((name) => `() => import("./${name}")`).join(", ")}]) {`,
      "    await load();",
      "    await nextTask();",
      "  }",
      "})();",
    ].join("\n"),
    resolveDir: "../../static/js",
    sourcefile: "<lesson bundle>",
  },
  bundle: true,
  minify: true,
  format: "esm",
  target: "es2020",
  legalComments: "none",
  // Loaded on demand by editor-loader.js: stays a separate file.
  external: ["../vendor/*"],
  metafile: true,
  outfile: "../../static/js/lesson.bundle.js",
});
const css = await esbuild.build({
  stdin: {
    contents: LESSON_CSS.map((name) => `@import "./${name}";`).join("\n"),
    resolveDir: "../../static/css",
    sourcefile: "<lesson styles>",
    loader: "css",
  },
  bundle: true,
  minify: true,
  legalComments: "none",
  metafile: true,
  outfile: "../../static/css/lesson.bundle.css",
});
const inputs = {};
for (const path of [...Object.keys(js.metafile.inputs), ...Object.keys(css.metafile.inputs)]) {
  if (!path.startsWith("../../static/") || path.includes("<")) continue;
  const name = path.slice("../../".length);
  inputs[name] = createHash("sha256").update(readFileSync(path)).digest("hex");
}
writeFileSync(
  "bundle-sources.json",
  `${JSON.stringify({ "static/js/lesson.bundle.js": LESSON_JS, "static/css/lesson.bundle.css": LESSON_CSS, sha256: inputs }, null, 2)}\n`,
);

const bytes = readFileSync(OUT);
writeFileSync(
  "../../static/vendor/codemirror/BUILD.txt",
  `Built by \`make codemirror\` from tools/codemirror (package-lock.json).\n` +
    `editor.min.js sha256 ${createHash("sha256").update(bytes).digest("hex")}\n`,
);
console.log(`${OUT}: ${bytes.length} bytes`);
