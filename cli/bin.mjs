#!/usr/bin/env node
// The `coffer` command runs from TypeScript sources, so a checkout needs no build step.
import { register } from "tsx/esm/api";

register();
await import("./main.ts");
