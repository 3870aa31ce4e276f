/**
 * A request's route as a label for metrics and logs: the mount's type and the pattern of
 * the route that served it, each path parameter a `*` ("kv:data/*", "system:leases/renew").
 * It is made from the code's own patterns, never from the path the caller sent, which can
 * name a secret, a role or a lease; there are as many labels as routes, however many paths.
 */
import type { Route } from "../engines/engine.ts";
import type { RouteTrace } from "./router.ts";

/** No mount holds the path. */
export const NO_MOUNT = "unmatched";

export function routeLabel(trace: Pick<RouteTrace, "mount" | "route">): string {
  if (!trace.mount) return NO_MOUNT;
  return `${trace.mount.type}:${trace.route ? patternLabel(trace.route) : NO_MOUNT}`;
}

/** The route's pattern without anchors and escapes, each named group (a path parameter) a `*`. */
export function patternLabel(route: Route): string {
  const source = route.pattern.source;
  let label = "";
  for (let i = 0; i < source.length; i++) {
    if (source.startsWith("(?<", i) && source[i + 3] !== "=" && source[i + 3] !== "!") {
      i = closingParenthesis(source, i);
      label += "*";
    } else if (source[i] === "\\") {
      i++;
      label += source[i] ?? "";
    } else {
      label += source[i];
    }
  }
  return label.replace(/^\^/, "").replace(/\$$/, "");
}

/** Where the group opened at `open` closes, past escapes and character classes. */
function closingParenthesis(source: string, open: number): number {
  let depth = 0;
  let inClass = false;
  for (let i = open; i < source.length; i++) {
    const char = source[i];
    if (char === "\\") i++;
    else if (inClass) inClass = char !== "]";
    else if (char === "[") inClass = true;
    else if (char === "(") depth++;
    else if (char === ")" && --depth === 0) return i;
  }
  return source.length;
}
