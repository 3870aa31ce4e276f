/**
 * Routes live in the URL fragment (#/secrets/secret/list/app): the server serves one page,
 * and nothing about what the user looks at is sent to it. Each segment is URI-encoded, so
 * a mount path with slashes stays one segment.
 */
import { useEffect, useState } from "preact/hooks";

export function currentRoute(): string[] {
  const hash = location.hash.replace(/^#\/?/, "");
  if (hash.startsWith("code=")) return [];
  return hash
    .split("/")
    .filter((segment) => segment !== "")
    .map((segment) => decodeURIComponent(segment));
}

export function href(...segments: string[]): string {
  return `#/${segments.map(encodeURIComponent).join("/")}`;
}

export function navigate(...segments: string[]): void {
  location.hash = href(...segments);
}

export function useRoute(): string[] {
  const [route, setRoute] = useState(currentRoute);
  useEffect(() => {
    const changed = () => setRoute(currentRoute());
    addEventListener("hashchange", changed);
    return () => removeEventListener("hashchange", changed);
  }, []);
  return route;
}
