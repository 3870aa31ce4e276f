/**
 * connection_url: read by Coffer into explicit driver settings, templated credentials
 * filled in encoded, parameters that would read local files refused, and a password
 * written into the URL detected and masked for reads.
 */
import { describe, expect, it } from "vitest";
import {
  connectionTarget,
  DEFAULT_CONNECT_TIMEOUT_MS,
  describeConnectionUrl,
  hasLiteralPassword,
  literalPasswordsIn,
} from "../../../shared/engines/database/connection-url.ts";

const credentials = { username: "vault admin", password: "p@ss:w/rd%" };

describe("connection_url", () => {
  it("fills the templates with the root credentials, encoded, and reads every part", () => {
    expect(
      connectionTarget(
        "postgresql://{{username}}:{{password}}@db.internal:6432/app?application_name=x",
        credentials,
      ),
    ).toEqual({
      host: "db.internal",
      port: 6432,
      database: "app",
      user: "vault admin",
      password: "p@ss:w/rd%",
      ssl: false,
      connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS,
      applicationName: "x",
    });
  });

  it("takes the credentials from the fields when the URL names none, and defaults port and database", () => {
    expect(connectionTarget("postgres://[::1]", credentials)).toMatchObject({
      host: "::1",
      port: 5432,
      user: "vault admin",
      database: "vault admin",
      password: "p@ss:w/rd%",
      applicationName: "coffer",
    });
  });

  it("maps sslmode to TLS settings, with the configured CA", () => {
    const ssl = (mode: string, tlsCa?: string) =>
      connectionTarget(`postgresql://h/d?sslmode=${mode}`, { ...credentials, tlsCa }).ssl;
    expect(ssl("disable")).toBe(false);
    expect(ssl("prefer")).toBe(false);
    expect(ssl("require")).toEqual({ rejectUnauthorized: false });
    expect(ssl("verify-full")).toEqual({ rejectUnauthorized: true });
    expect(ssl("verify-full", "PEM")).toEqual({ rejectUnauthorized: true, ca: "PEM" });
    expect(ssl("verify-ca", "PEM")).toMatchObject({ rejectUnauthorized: true, ca: "PEM" });
    expect(connectionTarget("postgresql://h/d?connect_timeout=2", credentials).connectTimeoutMs).toBe(2000);
  });

  it.each([
    ["mysql://h/d", /postgres:\/\/ or postgresql:\/\//],
    ["not a url", /expected a URL/],
    ["postgresql:///d", /host is missing/],
    ["postgresql://h/d/e", /one database name/],
    ["postgresql://h/d?sslrootcert=/etc/passwd&sslkey=/x", /unsupported parameters: sslkey, sslrootcert/],
    ["postgresql://h/d?sslmode=sometimes", /sslmode must be one of/],
    ["postgresql://h/d?connect_timeout=0", /connect_timeout must be 1 to 30 seconds/],
    ["postgresql://{{user}}@h/d", /only \{\{username\}\} and \{\{password\}\} may be templated/],
    ["postgresql://h/d#frag", /fragment/],
  ])("refuses %s", (url, message) => {
    expect(() => connectionTarget(url, credentials)).toThrow(message);
  });

  it("needs someone to connect as", () => {
    expect(() => connectionTarget("postgresql://h/d", { username: "", password: "" })).toThrow(
      'no user to connect as: set "username" or put one in "connection_url"',
    );
  });

  it("detects a password written into the URL and masks it for reads", () => {
    expect(hasLiteralPassword("postgresql://u:secret@h/d")).toBe(true);
    expect(hasLiteralPassword("postgresql://{{username}}:{{password}}@h/d")).toBe(false);
    expect(hasLiteralPassword("postgresql://u@h/d")).toBe(false);
    expect(describeConnectionUrl("postgresql://u:secret@h:5432/d?sslmode=require")).toBe(
      "postgresql://u:*****@h:5432/d?sslmode=require",
    );
    expect(describeConnectionUrl("postgresql://{{username}}:{{password}}@h/d")).toBe(
      "postgresql://{{username}}:{{password}}@h/d",
    );
  });

  // The parser splits the user info from the host at the authority's LAST "@", and the user
  // from the password at the user info's first ":"; the masking must agree with it exactly.
  it.each([
    ["postgresql://admin:s3cr@tP4ss@db/app", "postgresql://admin:*****@db/app"],
    ["postgresql://ad@min:Sup3rSecret@db/app", "postgresql://ad@min:*****@db/app"],
    ["postgresql://admin:p%40ss%3Aword@db:5432/app", "postgresql://admin:*****@db:5432/app"],
    ["postgresql://admin:a:b@c@db/app?sslmode=require", "postgresql://admin:*****@db/app?sslmode=require"],
    ["postgresql://admin:{{password}}@x@db/app", "postgresql://admin:*****@db/app"],
    ["postgresql://{{username}}:x{{password}}@db/app", "postgresql://{{username}}:*****@db/app"],
    ["POSTGRES://admin:secret@db", "POSTGRES://admin:*****@db"],
    ["postgresql://admin:sec\tret@db/app", "postgresql://admin:*****@db/app"],
  ])("masks all of a literal password as the URL parser reads it: %s", (url, shown) => {
    const parsed = new URL(url);
    expect(parsed.password).not.toBe("");
    expect(hasLiteralPassword(url)).toBe(true);
    const described = describeConnectionUrl(url);
    expect(described).toBe(shown);
    const reparsed = new URL(described);
    expect(reparsed.password).toBe("*****");
    for (const part of ["username", "host", "pathname", "search"] as const) {
      expect(reparsed[part]).toBe(parsed[part]);
    }
    for (const fragment of decodeURIComponent(parsed.password).split(/[@:{}]+/)) {
      if (fragment.length >= 3) expect(described).not.toContain(fragment);
    }
  });

  it("agrees with the URL parser on the password the driver is given", () => {
    expect(connectionTarget("postgresql://admin:s3cr@tP4ss@db/app", credentials)).toMatchObject({
      host: "db",
      user: "admin",
      password: "s3cr@tP4ss",
    });
    expect(connectionTarget("postgresql://ad@min:Sup3rSecret@db/app", credentials)).toMatchObject({
      host: "db",
      user: "ad@min",
      password: "Sup3rSecret",
    });
    expect(connectionTarget("postgresql://admin:p%40ss@db/app", credentials).password).toBe("p@ss");
  });

  it.each([
    "postgresql://{{username}}:{{password}}@db/app",
    "postgresql://{{username}}:{{password}}@db/app?application_name=a@b",
    "postgresql://ad@min:{{password}}@db/app",
    "postgresql://admin@db/app",
    "postgresql://ad@min@db/app",
    "postgresql://admin:@db/app",
    "postgresql://db/app?application_name=x:y@z",
    "postgresql://db/x:y@z",
  ])("finds no literal password in %s", (url) => {
    expect(hasLiteralPassword(url)).toBe(false);
    expect(describeConnectionUrl(url)).toBe(url);
  });

  it("fills a templated password holding @ and : without reading it as URL structure", () => {
    const url = "postgresql://{{username}}:{{password}}@db/app";
    const target = connectionTarget(url, { username: "ad@min", password: "s3cr@t:P4ss@x/y" });
    expect(target).toMatchObject({
      host: "db",
      user: "ad@min",
      password: "s3cr@t:P4ss@x/y",
      database: "app",
    });
    expect(hasLiteralPassword(url)).toBe(false);
  });

  it("names a literal password as written and decoded, for scrubbing from errors", () => {
    expect(literalPasswordsIn("postgresql://admin:s3cr%40t@db/app")).toEqual(["s3cr%40t", "s3cr@t"]);
    expect(literalPasswordsIn("postgresql://admin:bad%zz@db/app")).toEqual(["bad%zz"]);
    expect(literalPasswordsIn("postgresql://{{username}}:{{password}}@db/app")).toEqual([]);
    expect(literalPasswordsIn("postgresql://db/app")).toEqual([]);
  });
});
