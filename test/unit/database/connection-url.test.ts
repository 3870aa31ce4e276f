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
});
