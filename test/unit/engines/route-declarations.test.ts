/**
 * Every route of every backend declares its fields: each named group of its pattern is a
 * path field and each path field a named group, and every field says what it means.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Route } from "../../../shared/engines/engine.ts";
import { type Deployment, openDeployment } from "../../support/deployment.ts";

const MOUNTS: [string, string, Record<string, string>?][] = [
  ["kv1/", "kv", { version: "1" }],
  ["transit/", "transit"],
  ["aws/", "aws"],
  ["database/", "database"],
  ["auth/kubernetes/", "kubernetes"],
];

describe("route declarations", () => {
  let deployment: Deployment;
  const routes: { where: string; route: Route }[] = [];

  beforeAll(async () => {
    deployment = await openDeployment();
    for (const [path, type, options] of MOUNTS)
      await deployment.broker.mounts.enable({ path, type, options });
    for (const mount of await deployment.broker.mounts.list()) {
      for (const route of (await deployment.broker.engineFor(mount)).routes) {
        routes.push({ where: `${mount.path} ${route.pattern.source}`, route });
      }
    }
  });
  afterAll(() => deployment?.close());

  it("covers every kind of backend", async () => {
    const types = new Set((await deployment.broker.mounts.list()).map((mount) => mount.type));
    expect([...types].sort()).toEqual(["aws", "database", "kubernetes", "kv", "system", "token", "transit"]);
    expect(routes.length).toBeGreaterThan(60);
  });

  it("declares each named group of a pattern as a path field, and nothing else as one", () => {
    for (const { where, route } of routes) {
      const groups = [...route.pattern.source.matchAll(/\(\?<([A-Za-z_]\w*)>/g)].map((match) => match[1]);
      const pathFields = Object.entries(route.fields)
        .filter(([, field]) => "path" in field)
        .map(([name]) => name);
      expect({ where, fields: pathFields.sort() }).toEqual({ where, fields: groups.sort() });
    }
  });

  it("describes every field", () => {
    for (const { where, route } of routes) {
      for (const [name, field] of Object.entries(route.fields)) {
        expect({ where, name, described: field.description.trim().length > 3 }).toEqual({
          where,
          name,
          described: true,
        });
      }
    }
  });
});
