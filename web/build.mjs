// Bundles src/index.js and its dependencies (socket.io-client) into one self-contained file,
// dist/commonground-widget.js, that a firm's page loads with a single <script> tag.
import { build } from "esbuild";

const pkg = JSON.parse(await (await import("node:fs/promises")).readFile(new URL("./package.json", import.meta.url), "utf8"));

await build({
  entryPoints: ["src/index.js"],
  outfile: "dist/commonground-widget.js",
  bundle: true,
  format: "iife",
  platform: "browser",
  target: ["es2019"],
  minify: true,
  sourcemap: false,
  legalComments: "eof",
  banner: { js: `/* Common Ground chat widget ${pkg.version} — bundled with socket.io-client (MIT). */` },
  define: { __WIDGET_VERSION__: JSON.stringify(pkg.version) },
  logLevel: "info",
});

// The staff console's dashboard charts (chart.js), served by the console as /static/charts.js.
await build({
  entryPoints: ["src/console-charts.js"],
  outfile: "dist/console-charts.js",
  bundle: true,
  format: "iife",
  platform: "browser",
  target: ["es2019"],
  minify: true,
  sourcemap: false,
  legalComments: "eof",
  banner: { js: `/* Common Ground console charts ${pkg.version} — bundled with chart.js (MIT). */` },
  logLevel: "info",
});
