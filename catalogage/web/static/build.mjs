// Copies the DSFR files the pages use, and our own sources, into static/dist/ under
// content-hashed names, and writes static/dist/manifest.json (logical name -> path)
// for the templates. DSFR's CSS refers to its fonts and icons by relative paths, so
// its files keep their layout inside one directory named after a hash of them all.
import { createHash } from "node:crypto";
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const staticDir = dirname(fileURLToPath(import.meta.url));
const root = join(staticDir, "..", "..", "..");
const dsfrDist = join(root, "node_modules", "@gouvfr", "dsfr", "dist");
const outDir = join(staticDir, "dist");

// DSFR files and folders the templates need (paths relative to its dist/).
const DSFR_ENTRIES = [
  "dsfr.min.css",
  "dsfr.module.min.js",
  "dsfr.nomodule.min.js",
  "utility/icons/icons.min.css",
  "fonts",
  "icons",
  "favicon",
];
// Our own sources (in static/src/), hashed one by one.
const OWN_FILES = ["app.css", "app.js"];

function filesUnder(path) {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path).sort().flatMap((name) => filesUnder(join(path, name)));
}

function shortHash(hash) {
  return hash.digest("hex").slice(0, 12);
}

rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
const manifest = {};

const dsfrHash = createHash("sha256");
for (const entry of DSFR_ENTRIES) {
  for (const file of filesUnder(join(dsfrDist, entry))) {
    dsfrHash.update(relative(dsfrDist, file));
    dsfrHash.update(readFileSync(file));
  }
}
const dsfrDir = `dsfr-${shortHash(dsfrHash)}`;
for (const entry of DSFR_ENTRIES) {
  const target = join(outDir, dsfrDir, entry);
  mkdirSync(dirname(target), { recursive: true });
  cpSync(join(dsfrDist, entry), target, { recursive: true });
  // Fonts and icons are reached through the CSS; pages link the other files.
  if (entry === "fonts" || entry === "icons") continue;
  for (const file of filesUnder(target)) {
    manifest[`dsfr/${relative(join(outDir, dsfrDir), file)}`] = relative(outDir, file);
  }
}

for (const name of OWN_FILES) {
  const content = readFileSync(join(staticDir, "src", name));
  const hashed = name.replace(/\.(\w+)$/, `.${shortHash(createHash("sha256").update(content))}.$1`);
  writeFileSync(join(outDir, hashed), content);
  manifest[name] = hashed;
}

writeFileSync(join(outDir, "manifest.json"), JSON.stringify(manifest, null, 1) + "\n");
console.log(`static/dist: ${Object.keys(manifest).length} files (${dsfrDir})`);
