/**
 * The one-time sign-in of `coffer dev`'s UI link: one code, one use, five minutes, a
 * same-origin JSON POST, audited before anything is checked, and a token that is not the
 * root token but expires.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  createUiSignIn,
  SIGN_IN_CODE_TTL_MS,
  UI_TOKEN_TTL_S,
  type UiSignIn,
} from "../../../cli/ui-sign-in.ts";
import { type Deployment, openDeployment } from "../../support/deployment.ts";
import { frozenClock } from "../../support/test-clock.ts";

const SERVER = "http://127.0.0.1:8200";

/** Not initialized: `coffer dev` signs in before anything else exists. */
let deployment: Deployment;
let signIn: UiSignIn;
let fetchApp: (request: Request) => Response | Promise<Response>;
let announced: string[];
let firstLink: string;

beforeEach(async () => {
  announced = [];
  deployment = await openDeployment({ clock: frozenClock(), initialize: false });
  signIn = createUiSignIn({
    broker: deployment.broker,
    announce: (link) => announced.push(link),
    now: deployment.clock.now,
  });
  fetchApp = signIn.wrap(() => new Response("the app", { status: 200 }));
  firstLink = await signIn.start(SERVER);
});
afterEach(() => deployment.close());

const codeOf = (link: string) => new URL(link).hash.replace("#code=", "");

function exchange(code: string, headers: Record<string, string> = {}) {
  return fetchApp(
    new Request(`${SERVER}/ui/sign-in`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Sec-Fetch-Site": "same-origin", ...headers },
      body: JSON.stringify({ code }),
    }),
  );
}

describe("the UI sign-in link of coffer dev", () => {
  it("puts the code in the fragment of a /ui/ link, never the token", () => {
    expect(firstLink).toMatch(/^http:\/\/127\.0\.0\.1:8200\/ui\/#code=[A-Za-z0-9_-]{43}$/);
  });

  it("exchanges the code once for an expiring root token, and announces a new link", async () => {
    const reply = await exchange(codeOf(firstLink));
    expect(reply.status).toBe(200);
    const { auth } = await reply.json();
    expect(auth.policies).toEqual(["root"]);
    expect(auth.lease_duration).toBe(UI_TOKEN_TTL_S);
    const record = await deployment.broker.tokens.lookup(auth.client_token);
    expect(record?.expiresAt).toBe(deployment.clock.now() + UI_TOKEN_TTL_S * 1000);
    expect(announced).toHaveLength(1);

    const again = await exchange(codeOf(firstLink));
    expect(again.status).toBe(400);
    expect((await again.json()).errors[0]).toContain("already used or has expired");
    // The announced link works, once.
    expect((await exchange(codeOf(announced[0] as string))).status).toBe(200);
  });

  it("refuses an expired code and announces a fresh link", async () => {
    deployment.clock.advance(SIGN_IN_CODE_TTL_MS);
    expect((await exchange(codeOf(firstLink))).status).toBe(400);
    expect(announced).toHaveLength(1);
    expect((await exchange(codeOf(announced[0] as string))).status).toBe(200);
  });

  it("refuses a wrong code without spending or replacing the right one", async () => {
    expect((await exchange("not-the-code")).status).toBe(400);
    expect(announced).toEqual([]);
    expect((await exchange(codeOf(firstLink))).status).toBe(200);
  });

  it("refuses requests that are not a same-origin JSON POST, keeping the code", async () => {
    expect((await exchange(codeOf(firstLink), { "Sec-Fetch-Site": "cross-site" })).status).toBe(403);
    expect((await exchange(codeOf(firstLink), { "Content-Type": "text/plain" })).status).toBe(403);
    const get = await fetchApp(new Request(`${SERVER}/ui/sign-in`));
    expect(get.status).toBe(405);
    expect((await exchange(codeOf(firstLink))).status).toBe(200);
  });

  it("audits the exchange with the code and the token hashed, and does nothing when it cannot", async () => {
    const reply = await (await exchange(codeOf(firstLink))).json();
    const records = deployment.audit;
    expect(records.map((record) => record.type)).toEqual(["request", "response"]);
    expect(records[0].request.path).toBe("ui/sign-in");
    expect(records[0].request.data.code).toMatch(/^hmac-sha256:/);
    expect(records[1].response.data.auth.client_token).toMatch(/^hmac-sha256:/);
    expect(JSON.stringify(records)).not.toContain(reply.auth.client_token);
    expect(JSON.stringify(records)).not.toContain(codeOf(firstLink));

    // No audit record, no action: the next code stays unspent.
    const next = codeOf(announced[0] as string);
    deployment.auditFails = true;
    expect((await exchange(next)).status).toBe(503);
    deployment.auditFails = false;
    expect((await exchange(next)).status).toBe(200);
  });

  it("hands every other request to the app", async () => {
    expect(await (await fetchApp(new Request(`${SERVER}/ui/`))).text()).toBe("the app");
  });
});
