/**
 * The service account token fixtures of ../shared/fixtures/k8s-tokens/ (real tokens from
 * real clusters, with their keys). Read in place, never copied into the repository;
 * suites skip when the folder is absent.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";

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

export function fixturesAvailable(): boolean {
  return existsSync(FIXTURES_DIR);
}

export function loadFixtures(): TokenFixture[] {
  return readdirSync(FIXTURES_DIR)
    .filter((name) => name.endsWith(".json"))
    .sort()
    .map(
      (file) =>
        ({
          file,
          ...(JSON.parse(readFileSync(new URL(file, FIXTURES_DIR), "utf8")) as object),
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
