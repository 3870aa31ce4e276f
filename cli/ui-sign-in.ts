/**
 * One-click sign-in to the web UI, for `coffer dev` only: the dev server prints a link to
 * /ui/ whose URL fragment holds a one-time code, and the UI exchanges the code for a token
 * at POST /ui/sign-in. The token itself never appears in a URL (a fragment still lands in
 * browser history and may be shared); the code is worth nothing once used or expired.
 *
 * - One code at a time, 256 random bits, kept only as its SHA-256 and compared in
 *   constant time; valid for SIGN_IN_CODE_TTL_MS and for one exchange.
 * - The exchange mints a token with the root policy that expires after UI_TOKEN_TTL_S
 *   (the UI revokes it on sign-out), not the dev root token the terminal uses.
 * - Every exchange is audited like an API request: the request record (the code hashed)
 *   before anything is checked, the response record (the token hashed) after. Without
 *   the request record, nothing happens.
 * - Only a same-origin JSON POST is accepted, so another site cannot make a visitor's
 *   browser spend the code.
 * - When the code is used, or someone presents a code after it expired, a new link is
 *   announced (the dev server prints it), so the terminal always shows one that works.
 *
 * The Lambda function has none of this: the path is served by the dev server alone.
 */
import type { AuditedRequest } from "../shared/audit/audit-log.ts";
import type { Broker } from "../shared/broker.ts";
import { constantTimeEqual, toBase64Url } from "../shared/crypto/encoding.ts";
import { readAtMost } from "../shared/http/read-at-most.ts";

export const SIGN_IN_PATH = "/ui/sign-in";
export const SIGN_IN_CODE_TTL_MS = 5 * 60_000;
export const UI_TOKEN_TTL_S = 8 * 3600;
/** How the exchange appears in the audit log (it is not under /v1/, so not an API path). */
export const SIGN_IN_AUDIT_PATH = "ui/sign-in";
const MAX_BODY_BYTES = 1024;

type Fetch = (request: Request, env?: unknown) => Response | Promise<Response>;

export interface UiSignIn {
  /** Sets the server's address, as the browser reaches it; returns the first link. */
  start(serverUrl: string): Promise<string>;
  /** Serves POST /ui/sign-in and hands every other request to `app`. */
  wrap(app: Fetch): Fetch;
}

export interface UiSignInOptions {
  broker: Broker;
  /** Called with each new link after the first (the dev server prints it). */
  announce: (link: string) => void;
  now?: () => number;
}

interface Code {
  digest: Uint8Array;
  expiresAt: number;
}

const sha256 = async (text: string) =>
  new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: {
      "Content-Type": "application/json",
      "Cache-Control": "no-store",
      "X-Content-Type-Options": "nosniff",
    },
  });
}

const refuse = (status: number, message: string) => json(status, { errors: [message] });

/**
 * Why the request is not a same-origin JSON POST; undefined when it is. A JSON body makes
 * another origin's request need a CORS preflight, which nothing here answers; browsers
 * also say where a request comes from in Sec-Fetch-Site.
 */
function notFromTheUi(request: Request): string | undefined {
  if (!(request.headers.get("content-type") ?? "").toLowerCase().startsWith("application/json")) {
    return "the sign-in request must be JSON";
  }
  const fetchSite = request.headers.get("sec-fetch-site");
  if (fetchSite && fetchSite !== "same-origin")
    return "the sign-in request must come from the UI's own origin";
  return undefined;
}

async function codeFrom(request: Request): Promise<string | undefined> {
  if (!request.body) return undefined;
  const bytes = await readAtMost(request.body, MAX_BODY_BYTES, () => new RangeError("too large"));
  const body: unknown = JSON.parse(new TextDecoder().decode(bytes));
  const code = (body as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.length > 0 && code.length <= 128 ? code : undefined;
}

export function createUiSignIn(options: UiSignInOptions): UiSignIn {
  const { broker, announce, now = Date.now } = options;
  let origin = "";
  let current: Code | undefined;

  async function newLink(): Promise<string> {
    const code = toBase64Url(crypto.getRandomValues(new Uint8Array(32)));
    current = { digest: await sha256(code), expiresAt: now() + SIGN_IN_CODE_TTL_MS };
    return `${origin}/ui/#code=${code}`;
  }

  /** Spends the current code if `code` is it; false when it is not, or used, or expired. */
  async function spend(code: string): Promise<boolean> {
    const presented = await sha256(code);
    const valid = current && now() < current.expiresAt && constantTimeEqual(presented, current.digest);
    if (valid) current = undefined;
    // Used or expired: the terminal gets a link that works. A wrong guess changes nothing.
    if (!current || now() >= current.expiresAt) announce(await newLink());
    return Boolean(valid);
  }

  async function exchange(request: Request): Promise<Response> {
    const refused = notFromTheUi(request);
    if (refused) return refuse(403, refused);
    let code: string | undefined;
    try {
      code = await codeFrom(request);
    } catch {
      return refuse(400, 'the body must be a small JSON object: {"code": "..."}');
    }
    if (!code) return refuse(400, 'missing required field "code"');

    const requestId = crypto.randomUUID();
    let audited: AuditedRequest;
    try {
      audited = await broker.audit.request({
        requestId,
        operation: "update",
        path: SIGN_IN_AUDIT_PATH,
        requestData: { code },
      });
    } catch {
      return refuse(503, "the audit log cannot be written; try again");
    }
    if (!(await spend(code))) {
      const message = "this sign-in link was already used or has expired: `coffer dev` has printed a new one";
      await audited.response({ status: 400, error: message });
      return refuse(400, message);
    }
    const { token, record } = await broker.tokens.create({
      policies: ["root"],
      displayName: "ui",
      path: "auth/token/create",
      ttl: UI_TOKEN_TTL_S,
      maxTtl: UI_TOKEN_TTL_S,
      renewable: false,
      meta: { signed_in_with: "coffer dev link" },
    });
    const auth = {
      client_token: token,
      accessor: record.accessor,
      policies: record.policies,
      token_policies: record.policies,
      metadata: record.meta,
      lease_duration: UI_TOKEN_TTL_S,
      renewable: false,
    };
    await audited.response({ status: 200, responseData: { auth } });
    return json(200, { request_id: requestId, auth });
  }

  return {
    start(serverUrl) {
      origin = new URL(serverUrl).origin;
      return newLink();
    },
    wrap(app) {
      return async (request, env) => {
        if (new URL(request.url).pathname !== SIGN_IN_PATH) return app(request, env);
        if (request.method !== "POST") return refuse(405, "use POST");
        try {
          return await exchange(request);
        } catch {
          return refuse(500, "internal error");
        }
      };
    },
  };
}
