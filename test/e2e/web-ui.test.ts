import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateRoleCommand, IAMClient } from "@aws-sdk/client-iam";
import type axe from "axe-core";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UI_CONTENT_SECURITY_POLICY } from "../../shared/ui/ui-routes.ts";
import { MOTO_ACCESS_KEY, MOTO_SECRET_KEY, TRUST_POLICY } from "../support/aws-engine-fixture.ts";
import { chromiumAvailable, launchChromium } from "../support/chromium.ts";
import { type DevCommand, startDevCommand } from "../support/dev-server.ts";
import { type ApiCall, httpCaller } from "../support/http.ts";
import { motoAvailable, motoClientConfig, useMoto } from "../support/moto.ts";

const SCREENSHOTS = process.env.UPDATE_SCREENSHOTS
  ? new URL("../../docs/ui/", import.meta.url).pathname
  : undefined;

/** The newest sign-in link coffer dev printed. */
function latestLink(dev: DevCommand): string {
  const links = [...dev.output().matchAll(/(http:\/\/\S+\/ui\/#code=[A-Za-z0-9_-]+)/g)];
  return links.at(-1)?.[1] as string;
}

describe.skipIf(!chromiumAvailable() || !motoAvailable())("the web UI in Chromium", () => {
  const moto = useMoto();
  let dataDir: string;
  let dev: DevCommand;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  /** Every URL the browser requested, in order. */
  const requested: string[] = [];
  const screenshotDir = SCREENSHOTS ?? join(tmpdir(), "coffer-ui-screenshots");

  async function screenshot(name: string) {
    await page.screenshot({ path: join(screenshotDir, `${name}.png`) });
  }

  /** An API call, as root unless another token is given. */
  const call: ApiCall = (...args) => httpCaller(dev.url, dev.rootToken)(...args);

  /** axe-core's rules on the current screen: nothing serious or critical. */
  async function expectAccessible() {
    const violations = await page.evaluate(async () => {
      const result = await (window as unknown as { axe: typeof axe }).axe.run(document);
      return result.violations
        .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
        .map(
          (violation) =>
            `${violation.id}: ${violation.nodes.map((node) => node.target.join(" ")).join(", ")}`,
        );
    });
    expect(violations).toEqual([]);
  }

  /** Presses Tab until `target` has focus: the keyboard reaches it. */
  async function tabTo(target: Locator) {
    for (let presses = 0; presses < 40; presses++) {
      await page.keyboard.press("Tab");
      if (await target.evaluate((element) => element === document.activeElement)) return;
    }
    throw new Error(`Tab never reached ${target}`);
  }

  beforeAll(async () => {
    await mkdir(screenshotDir, { recursive: true });
    dataDir = await mkdtemp(join(tmpdir(), "coffer-ui-"));
    dev = await startDevCommand({ dataDir });
    const iam = new IAMClient(motoClientConfig(moto));
    const role = await iam.send(
      new CreateRoleCommand({ RoleName: "deploy", AssumeRolePolicyDocument: TRUST_POLICY }),
    );
    await call("POST", "sys/mounts/aws", { type: "aws" });
    await call("POST", "aws/config/root", {
      region: moto.region,
      sts_endpoint: moto.endpoint,
      iam_endpoint: moto.endpoint,
      access_key: MOTO_ACCESS_KEY,
      secret_key: MOTO_SECRET_KEY,
    });
    await call("POST", "aws/roles/deploy", {
      credential_type: "assumed_role",
      role_arns: [role.Role?.Arn],
    });

    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1100, height: 720 } });
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: dev.url });
    context.on("request", (request) => requested.push(request.url()));
    // axe-core runs in the page for the accessibility checks (added by the test, not the UI).
    await context.addInitScript({
      content: readFileSync(createRequire(import.meta.url).resolve("axe-core"), "utf8"),
    });
    page = await context.newPage();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await dev?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("serves /ui/ with a strict content security policy, no framing and no referrer", async () => {
    const index = await fetch(`${dev.url}/ui/`);
    expect(index.status).toBe(200);
    const csp = index.headers.get("content-security-policy") as string;
    expect(csp).toBe(UI_CONTENT_SECURITY_POLICY);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|\*|https?:/);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(index.headers.get("referrer-policy")).toBe("no-referrer");
    expect(index.headers.get("x-frame-options")).toBe("DENY");
    expect(index.headers.get("x-content-type-options")).toBe("nosniff");
    expect(index.headers.get("cache-control")).toBe("no-store");
    const html = await index.text();
    // No inline script or style for the policy to allow, and nothing from elsewhere.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=|\son\w+=/i);
    const script = /src="\.\/([^"]+\.js)"/.exec(html)?.[1] as string;
    const asset = await fetch(`${dev.url}/ui/${script}`);
    expect(asset.headers.get("content-security-policy")).toBe(UI_CONTENT_SECURITY_POLICY);
    expect(asset.headers.get("cache-control")).toContain("immutable");
    expect((await fetch(`${dev.url}/ui/nothing-here.js`)).status).toBe(404);
  });

  it("signs in with the one-time link coffer dev prints, which then stops working", async () => {
    const link = latestLink(dev);
    await page.goto(link);
    await expect.poll(() => page.getByRole("heading", { name: "Secrets engines" }).isVisible()).toBe(true);
    expect(page.url()).not.toContain("code=");
    // The code was spent, and the terminal shows a new link.
    const code = new URL(link).hash.replace("#code=", "");
    const again = await fetch(`${dev.url}/ui/sign-in`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ code }),
    });
    expect(again.status).toBe(400);
    expect(latestLink(dev)).not.toBe(link);
    await expectAccessible();
    await screenshot("secrets-engines");
  });

  it("creates a secret, refuses an edit with a stale cas, browses versions and destroys one", async () => {
    await page.getByRole("link", { name: "secret/" }).click();
    await page.getByRole("link", { name: "Create secret" }).click();
    await page.getByLabel("Path").fill("app/db");
    await page.getByLabel("secret key 1").fill("password");
    await page.getByLabel("secret value 1").fill("s3cr3t");
    await page.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => page.getByRole("heading", { name: "secret/app/db" }).isVisible()).toBe(true);
    await expect.poll(() => page.getByText("Version 1 (current)").isVisible()).toBe(true);
    expect(await page.getByText("s3cr3t").count()).toBe(0);
    await page.getByRole("button", { name: "Reveal password" }).click();
    await expect.poll(() => page.getByText("s3cr3t").isVisible()).toBe(true);
    await page.getByRole("button", { name: "Copy password" }).click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe("s3cr3t");

    // Someone else saves version 2 while this editor holds version 1.
    await page.getByRole("link", { name: "Create new version" }).click();
    await expect.poll(() => page.getByText("Editing version 1").isVisible()).toBe(true);
    await call("POST", "secret/data/app/db", { data: { password: "theirs" } });
    await page.getByLabel("secret value 1").fill("mine");
    await page.getByRole("button", { name: "Save" }).click();
    const refusal = page.getByRole("alert");
    await expect
      .poll(() => refusal.textContent())
      .toContain("Not saved: this secret changed after you opened it");
    expect(await refusal.textContent()).toContain("you edited version 1");
    await screenshot("stale-cas");
    await page.getByRole("button", { name: "Load the latest version" }).click();
    await expect.poll(() => page.getByText("Editing version 2").isVisible()).toBe(true);
    await page.getByLabel("secret value 1").fill("mine");
    await page.getByRole("button", { name: "Save" }).click();
    await expect.poll(() => page.getByText("Version 3 (current)").isVisible()).toBe(true);

    const rows = page.locator("table.versions tbody tr");
    expect(await rows.count()).toBe(3);
    await page.getByRole("button", { name: "View version 2" }).click();
    await page.getByRole("button", { name: "Reveal password" }).click();
    await expect.poll(() => page.getByText("theirs").isVisible()).toBe(true);

    await page.getByRole("button", { name: "Destroy version 1" }).click();
    const dialog = page.getByRole("dialog", { name: "Destroy version 1?" });
    await expect.poll(() => dialog.isVisible()).toBe(true);
    await dialog.getByRole("button", { name: "Destroy version 1" }).click();
    await expect.poll(() => page.getByRole("status").first().textContent()).toContain("Version 1 destroyed");
    await expect.poll(() => rows.last().textContent()).toContain("destroyed");
    const metadata = await call("GET", "secret/metadata/app/db");
    expect(metadata.body.data.versions["1"].destroyed).toBe(true);
    await expectAccessible();
    await screenshot("secret");
  });

  it("finds a secret by name within its folder", async () => {
    await call("POST", "secret/data/app/cache", { data: { url: "redis://" } });
    await page.goto(`${dev.url}/ui/#/secrets/secret/list/app`);
    await page.getByLabel("Search in this folder").fill("cac");
    const keys = page.getByRole("list", { name: "Secrets and folders" }).getByRole("link");
    await expect.poll(() => keys.allTextContents()).toEqual(["cache"]);
    await expectAccessible();
  });

  it("revokes the lease of AWS credentials issued on moto", async () => {
    const creds = await call("POST", "aws/creds/deploy", {});
    const leaseId = creds.body.lease_id as string;
    expect(leaseId).toMatch(/^aws\/creds\/deploy\//);
    await page.goto(`${dev.url}/ui/#/leases/aws/creds/deploy`);
    const row = page.getByRole("row").filter({ hasText: leaseId });
    await expect.poll(() => row.isVisible()).toBe(true);
    await expectAccessible();
    await screenshot("leases");
    await row.getByRole("button", { name: `Revoke ${leaseId}` }).click();
    const dialog = page.getByRole("dialog", { name: "Revoke this lease?" });
    expect(await dialog.textContent()).toContain(leaseId);
    await dialog.getByRole("button", { name: "Revoke lease" }).click();
    await expect.poll(() => page.getByRole("status").first().textContent()).toContain(`Revoked ${leaseId}`);
    const lookup = await call("POST", "sys/leases/lookup", { lease_id: leaseId });
    expect(lookup.status).toBe(400);

    // Revoke-prefix names the prefix, and cancelling it revokes nothing.
    const more = await call("POST", "aws/creds/deploy", {});
    await page.getByRole("button", { name: "List" }).click();
    await expect
      .poll(() => page.getByRole("row").filter({ hasText: more.body.lease_id }).isVisible())
      .toBe(true);
    await page.getByRole("button", { name: "Revoke all under aws/creds/deploy/" }).click();
    const prefixDialog = page.getByRole("dialog", { name: "Revoke every lease under aws/creds/deploy/?" });
    expect(await prefixDialog.textContent()).toContain("1 listed on this page");
    await page.keyboard.press("Escape");
    const stillThere = await call("POST", "sys/leases/lookup", { lease_id: more.body.lease_id });
    expect(stillThere.status).toBe(200);
  });

  it("shows a policy's parse error at its line", async () => {
    await page.goto(`${dev.url}/ui/#/access/policies`);
    await page.getByLabel("New policy named").fill("app-reader");
    await page.getByRole("button", { name: "Create" }).click();
    const text = page.getByLabel("Policy (HCL or JSON)");
    await expect.poll(() => text.isEnabled()).toBe(true);
    await text.fill(
      [
        'path "secret/data/app/*" {',
        '  capabilities = ["read"]',
        "}",
        'path "secret/metadata/app/*" {',
        '  capabilities = ["list"',
        "}",
      ].join("\n"),
    );
    await page.getByRole("button", { name: "Save policy" }).click();
    const error = page.getByRole("alert");
    await expect.poll(() => error.textContent()).toMatch(/^Line 6: failed to parse policy at line 6/);
    expect(await page.locator(".gutter .error-line").textContent()).toBe("6");
    expect(await text.getAttribute("aria-invalid")).toBe("true");
    await expectAccessible();
    await screenshot("policy-error");

    // An error in a rule names its path block: the UI finds the block's line.
    await text.fill(
      'path "secret/data/app/*" {\n  capabilities = ["read"]\n}\n\npath "secret/x" {\n  capabilities = ["reed"]\n}',
    );
    await page.getByRole("button", { name: "Save policy" }).click();
    await expect.poll(() => error.textContent()).toMatch(/^Line 5: /);

    await text.fill('path "secret/data/app/*" {\n  capabilities = ["read"]\n}');
    await page.getByRole("button", { name: "Save policy" }).click();
    await expect.poll(() => page.getByText("Policy app-reader saved.").isVisible()).toBe(true);
    const stored = await call("GET", "sys/policies/acl/app-reader");
    expect(stored.body.data.policy).toContain("secret/data/app/*");
  });

  it("checks capabilities with the keyboard alone", async () => {
    await page.goto(`${dev.url}/ui/#/secrets`);
    await expect.poll(() => page.getByRole("heading", { name: "Secrets engines" }).isVisible()).toBe(true);
    await tabTo(page.getByRole("link", { name: "Access" }));
    await page.keyboard.press("Enter");
    await tabTo(page.getByRole("link", { name: "Capabilities" }));
    await page.keyboard.press("Enter");
    await tabTo(page.getByLabel("What can this token do at"));
    await page.keyboard.type("secret/data/app/db");
    await page.keyboard.press("Enter");
    const result = page.getByRole("region", { name: "Result" });
    await expect.poll(() => result.textContent()).toContain("root");
    await expectAccessible();
    await screenshot("capabilities");
  });

  it("creates, rotates and configures a transit key, and encrypts, decrypts and rewraps with it", async () => {
    await page.goto(`${dev.url}/ui/#/transit`);
    await page.getByRole("link", { name: "transit/" }).click();
    await page.getByLabel("Name").fill("orders");
    await page.getByRole("button", { name: "Create key" }).click();
    await expect
      .poll(() => page.getByRole("heading", { name: "Key orders of transit/" }).isVisible())
      .toBe(true);

    await page.getByLabel("Plaintext").fill("card 4111");
    await page.getByRole("button", { name: "Encrypt", exact: true }).click();
    const output = page.getByLabel("Ciphertext").last();
    await expect.poll(() => output.inputValue()).toMatch(/^vault:v1:/);
    const ciphertext = await output.inputValue();

    await page.getByRole("button", { name: "Rotate key" }).click();
    await expect.poll(() => page.getByText("Rotated").isVisible()).toBe(true);

    await page.getByRole("radio", { name: "Rewrap" }).check();
    await page.getByLabel("Ciphertext").first().fill(ciphertext);
    await page.getByRole("button", { name: "Rewrap", exact: true }).click();
    await expect.poll(() => page.getByLabel("Ciphertext").last().inputValue()).toMatch(/^vault:v2:/);

    await page.getByRole("radio", { name: "Decrypt" }).check();
    await page.getByLabel("Ciphertext").fill(ciphertext);
    await page.getByRole("button", { name: "Decrypt", exact: true }).click();
    await expect.poll(() => page.getByLabel("Plaintext").inputValue()).toBe("card 4111");

    await page.getByLabel("Oldest version that may decrypt").fill("2");
    await page.getByRole("button", { name: "Save configuration" }).click();
    await expect.poll(() => page.getByText("Configuration saved.").isVisible()).toBe(true);
    const key = await call("GET", "transit/keys/orders");
    expect(key.body.data.min_decryption_version).toBe(2);
    await expectAccessible();
    await screenshot("transit");
  });

  it("lists Kubernetes roles", async () => {
    await call("POST", "auth/kubernetes/role/app", {
      bound_service_account_names: "app",
      bound_service_account_namespaces: "default",
      audience: "coffer",
      token_policies: "app-reader",
    });
    await page.goto(`${dev.url}/ui/#/access/roles`);
    await page.getByRole("link", { name: "app", exact: true }).click();
    await expect.poll(() => page.getByText("app-reader").isVisible()).toBe(true);
    await expectAccessible();
  });

  it("never lets a request leave the origin", () => {
    expect(requested.length).toBeGreaterThan(20);
    expect(requested.filter((url) => new URL(url).origin !== dev.url)).toEqual([]);
  });

  it("keeps the token out of every URL, out of localStorage, and hashed in the audit log", async () => {
    const token = (await page.evaluate(() => sessionStorage.getItem("coffer.token"))) as string;
    expect(token).toMatch(/^cof\./);
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
    expect(requested.filter((url) => url.includes(token))).toEqual([]);
    expect(page.url()).not.toContain(token);
    expect(await page.evaluate(() => history.length)).toBeGreaterThan(1);

    const audit = await readFile(join(dataDir, "audit.log"), "utf8");
    expect(audit).not.toContain(token);
    expect(audit).not.toContain(token.slice(4));
    const signIn = audit
      .split("\n")
      .filter((line) => line.includes('"ui/sign-in"'))
      .map((line) => JSON.parse(line));
    // Each exchange: the request record (the code hashed), then the response record (the token hashed).
    expect(signIn.length).toBeGreaterThanOrEqual(4);
    const issued = signIn.find((record) => record.response?.data?.auth?.client_token);
    expect(issued.response.data.auth.client_token).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    for (const record of signIn.filter((candidate) => candidate.request?.data?.code)) {
      expect(record.request.data.code).toMatch(/^hmac-sha256:/);
    }
  });

  it("signs out: the token is revoked and gone from the tab", async () => {
    const token = (await page.evaluate(() => sessionStorage.getItem("coffer.token"))) as string;
    await page.getByRole("button", { name: "Sign out" }).click();
    await expect.poll(() => page.getByRole("heading", { name: "Sign in to Coffer" }).isVisible()).toBe(true);
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    const lookup = await call("GET", "auth/token/lookup-self", undefined, token);
    expect(lookup.status).toBe(403);
    await expectAccessible();
    await screenshot("sign-in");
  });
});
