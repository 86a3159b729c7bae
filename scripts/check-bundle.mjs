// Does the client bundle start? Instantiates target/site/pkg/convergence.wasm with its own
// JavaScript glue in Node (V8, the engine of Chromium) and runs its start function, as a page
// does before it hydrates. A bundle a tool damaged fails here in seconds with the browser's own
// error, instead of shipping a site whose pages never become interactive (binaryen 108 once
// pointed the wasm-bindgen externref table's export at the function table; see
// docs/architecture.md, "The client bundle").
//
// Usage: node scripts/check-bundle.mjs [PKG_DIR]   (default target/site/pkg). Exit 1 on failure.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const pkg = resolve(process.argv[2] ?? "target/site/pkg");
const name = process.env.LEPTOS_OUTPUT_NAME ?? "convergence";
const fail = (why) => {
  console.error(`[check-bundle] ${pkg}/${name}.wasm does not start: ${why}`);
  process.exit(1);
};

let bytes;
try {
  bytes = readFileSync(`${pkg}/${name}.wasm`);
} catch (e) {
  fail(`cannot read it (${e.message}); build first`);
}
if (!WebAssembly.validate(bytes)) fail("WebAssembly.validate says the module is invalid");

// The exported tables must be what their names say: the function table holds functions and
// wasm-bindgen's externref table holds JavaScript values.
const module = new WebAssembly.Module(bytes);
const exported = WebAssembly.Module.exports(module).filter((e) => e.kind === "table");
const glue = await import(pathToFileURL(`${pkg}/${name}.js`).href);
let wasm;
try {
  wasm = glue.initSync({ module });
} catch (e) {
  fail(e && e.message ? e.message : String(e));
}
for (const { name: table } of exported) {
  const t = wasm[table];
  if (!(t instanceof WebAssembly.Table)) fail(`export ${table} is not a table`);
  const first = t.length > 0 ? t.get(t.length - 1) : null;
  if (table === "__indirect_function_table" && first !== null && typeof first !== "function") {
    fail(`${table} holds something other than functions`);
  }
}
if (typeof glue.hydrate !== "function") fail("it exports no hydrate function");
console.log(
  `[check-bundle] ${name}.wasm starts (${bytes.length} bytes; tables: ${exported.map((e) => e.name).join(", ")})`,
);
