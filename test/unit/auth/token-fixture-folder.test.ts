/**
 * When the suites that read the real cluster token fixtures run: with the folder and a
 * fixture in it; not without the folder (a loud skip, CI or not); and with a folder that
 * cannot be read or holds no fixture, a skip that says why, or under CI a failed run.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fixturesAvailable, inspectFixtureFolder } from "../../support/k8s-token-fixtures.ts";

const CI = { CI: "true" };
const NOT_CI = {};

describe("the token fixture folder", () => {
  let root: string;
  let warn: ReturnType<typeof vi.spyOn>;
  const folder = (name: string) => pathToFileURL(`${join(root, name)}/`);

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "coffer-fixtures-"));
    // A skip is announced on the console; these tests check that it is, not its words.
    warn = vi.spyOn(console, "warn").mockImplementation(() => {});
  });
  afterEach(() => {
    vi.restoreAllMocks();
    rmSync(root, { recursive: true, force: true });
  });

  it("runs the suites when the folder holds a fixture", () => {
    writeFileSync(join(root, "one.json"), JSON.stringify({ token: "x", claims: {} }));
    expect(inspectFixtureFolder(folder(""))).toMatchObject({
      state: "usable",
      fixtures: [{ file: "one.json" }],
    });
    expect(fixturesAvailable(CI, folder(""))).toBe(true);
    expect(warn).not.toHaveBeenCalled();
  });

  it("skips without the folder, under CI too", () => {
    expect(inspectFixtureFolder(folder("absent"))).toEqual({ state: "absent" });
    expect(fixturesAvailable(NOT_CI, folder("absent"))).toBe(false);
    expect(fixturesAvailable(CI, folder("absent"))).toBe(false);
    expect(warn).toHaveBeenCalledTimes(2);
  });

  it("fails the run under CI when the folder holds no fixture, and skips elsewhere", () => {
    writeFileSync(join(root, "README.txt"), "no fixtures here");
    expect(inspectFixtureFolder(folder(""))).toEqual({
      state: "unusable",
      reason: "holds no fixture (*.json)",
    });
    expect(() => fixturesAvailable(CI, folder(""))).toThrow(
      /holds no fixture .*CI requires the fixture suites/,
    );
    expect(fixturesAvailable(NOT_CI, folder(""))).toBe(false);
  });

  it("fails the run under CI when a fixture cannot be read, and skips elsewhere", () => {
    writeFileSync(join(root, "broken.json"), '{"token": ');
    expect(inspectFixtureFolder(folder(""))).toMatchObject({ state: "unusable", reason: /^cannot be read/ });
    expect(() => fixturesAvailable(CI, folder(""))).toThrow(
      /cannot be read .*CI requires the fixture suites/,
    );
    expect(fixturesAvailable(NOT_CI, folder(""))).toBe(false);
  });

  it("fails the run under CI when the folder cannot be listed", () => {
    writeFileSync(join(root, "not-a-folder"), "");
    expect(inspectFixtureFolder(folder("not-a-folder"))).toMatchObject({ state: "unusable" });
    expect(() => fixturesAvailable(CI, folder("not-a-folder"))).toThrow(/cannot be read/);
  });
});
