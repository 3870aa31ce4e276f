#!/usr/bin/env node
// The `coffer` command. The published package holds the bundle (build/cli/, made by
// `npm run build`) and not the TypeScript sources: it runs on Node.js alone, writing
// nothing to disk. A checkout has the sources and tsx (a development dependency), and runs
// the sources, so an edit counts at once and a bundle left from an earlier build is never
// run by mistake. docs/architecture.md says why.
import { existsSync } from "node:fs";

if (existsSync(new URL("./main.ts", import.meta.url))) {
  const { register } = await import("tsx/esm/api");
  register();
  await import("./main.ts");
} else {
  await import("../build/cli/coffer.mjs");
}
