/**
 * The service account token fixtures of ../shared/fixtures/k8s-tokens/ (real tokens from
 * real clusters, with their keys). Read in place, never copied into the repository.
 *
 * The folder sits beside the repository on the machines that have it. Where it is absent,
 * the suites that read it skip with a loud line. Where it is there but cannot be read or
 * holds no fixture, they skip saying why, and with CI set that fails the run instead: a
 * broken copy must not pass for a machine without one.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const FIXTURES_DIR = new URL("../../../shared/fixtures/k8s-tokens/", import.meta.url);

export interface TokenFixture {
  file: string;
  token: string;
  expectValid: boolean;
  alg: string;
  kid: string | null;
  jwks?: { keys: unknown[] };
  pem?: string;
  discovery?: Record<string, unknown>;
  claims: Record<string, unknown> & { iat?: number; exp?: number; iss?: string };
}

export type FixtureFolder =
  | { state: "absent" }
  | { state: "usable"; fixtures: TokenFixture[] }
  | { state: "unusable"; reason: string };

export function inspectFixtureFolder(dir: URL = FIXTURES_DIR): FixtureFolder {
  // Without its trailing slash: a file in the folder's place is there, and unusable.
  if (!existsSync(fileURLToPath(dir).replace(/\/+$/, ""))) return { state: "absent" };
  let fixtures: TokenFixture[];
  try {
    fixtures = loadFixtures(dir);
  } catch (error) {
    return { state: "unusable", reason: `cannot be read (${(error as Error).message})` };
  }
  if (fixtures.length === 0) return { state: "unusable", reason: "holds no fixture (*.json)" };
  return { state: "usable", fixtures };
}

/** Whether the suites that read the fixtures run; see above for when it warns or throws. */
export function fixturesAvailable(env: NodeJS.ProcessEnv = process.env, dir: URL = FIXTURES_DIR): boolean {
  const folder = inspectFixtureFolder(dir);
  if (folder.state === "usable") return true;
  const path = fileURLToPath(dir);
  if (folder.state === "unusable" && env.CI) {
    throw new Error(`the token fixtures in ${path} ${folder.reason}; CI requires the fixture suites to run`);
  }
  const problem = folder.state === "absent" ? "not found" : folder.reason;
  console.warn(`\n*** token fixtures in ${path} ${problem}: SKIPPING the real cluster token suites ***\n`);
  return false;
}

export function loadFixtures(dir: URL = FIXTURES_DIR): TokenFixture[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith(".json"))
    .sort()
    .map(
      (file) =>
        ({
          file,
          ...(JSON.parse(readFileSync(new URL(file, dir), "utf8")) as object),
        }) as TokenFixture,
    );
}

export function fixture(name: string): TokenFixture {
  const found = loadFixtures().find((candidate) => candidate.file === name);
  if (!found) throw new Error(`no fixture ${name}`);
  return found;
}

/** The instant each token was verified at: one second after iat, or now for tokens without one. */
export function pinnedNow(fixture: TokenFixture): number {
  return fixture.claims.iat === undefined ? Date.now() : (fixture.claims.iat + 1) * 1000;
}
