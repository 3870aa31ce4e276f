/**
 * What a caller who cannot be charged for a request can make the broker do: a request to
 * an authenticated route without a valid token is refused before its body is read, and
 * its one audit record is small and the same whatever the body's size. Routes that need
 * no token read a body of bounded size.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_UNAUTHENTICATED_DATA_BYTES, MAX_UNAUTHENTICATED_VALUES } from "../../../shared/http/request.ts";
import { type Deployment, openDeployment } from "../../support/deployment.ts";

const CHUNK_BYTES = 4096;

/** `{...fields, "x":["a","a",...]}`: `strings` one-letter strings, about 4 bytes each. */
const manyStrings = (strings: number, fields = "") =>
  `{${fields}"x":[${Array.from({ length: strings }, () => '"a"').join(",")}]}`;

describe("work a caller without a token can cause", () => {
  let subject: Deployment;
  let ungranted: string;

  beforeAll(async () => {
    subject = await openDeployment();
    await subject.call("POST", "sys/policies/acl/elsewhere", {
      policy: 'path "elsewhere/*" { capabilities = ["read"] }',
    });
    ungranted = (await subject.call("POST", "auth/token/create", { policies: ["elsewhere"] })).body.auth
      .client_token;
  });
  afterAll(() => subject?.close());

  /** Sends `body` as a stream and reports how many of its bytes the app pulled. */
  async function send(path: string, body: string, token?: string) {
    const bytes = new TextEncoder().encode(body);
    let pulled = 0;
    // Nothing buffered ahead: a chunk is produced only when the app reads one.
    const stream = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          const chunk = bytes.subarray(pulled, pulled + CHUNK_BYTES);
          pulled += chunk.byteLength;
          if (chunk.byteLength > 0) controller.enqueue(chunk);
          else controller.close();
        },
      },
      { highWaterMark: 0 },
    );
    const audited = subject.audit.length;
    const response = await subject.app.fetch(
      new Request(`http://coffer.local/v1/${path}`, {
        method: "POST",
        body: stream,
        headers: token ? { "X-Vault-Token": token } : {},
        duplex: "half",
      } as RequestInit),
    );
    return {
      status: response.status,
      body: await response.json(),
      pulled,
      records: subject.audit.slice(audited),
    };
  }

  it("refuses without reading the body, and audits one small record whatever the body's size", async () => {
    const sizes: number[] = [];
    for (const path of ["secret/data/app/db", "sys/policies/acl/admin", "auth/token/create", "nosuch/path"]) {
      for (const token of [undefined, "cof.forged", ungranted]) {
        for (const body of ["{}", manyStrings(200_000)]) {
          const reply = await send(path, body, token);
          expect({ path, status: reply.status, body: reply.body }).toEqual({
            path,
            status: 403,
            body: { errors: ["permission denied"] },
          });
          expect({ path, pulled: reply.pulled }).toEqual({ path, pulled: 0 });
          expect(reply.records).toHaveLength(1);
          const [record] = reply.records;
          expect(record.request.data).toBeUndefined();
          sizes.push(JSON.stringify(record).length);
        }
        // The same record for a 2-byte body and a 800 KB one, apart from its id and time.
        const [small, large] = subject.audit.slice(-2).map((record) => {
          const { time: _time, request, ...rest } = record;
          return { ...rest, request: { ...request, id: undefined } };
        });
        expect(large).toEqual(small);
      }
    }
    expect(Math.max(...sizes)).toBeLessThan(512);
  });

  it("bounds the data of a route that needs no token, in bytes and in values", async () => {
    const limit = MAX_UNAUTHENTICATED_DATA_BYTES;
    await subject.call("POST", "sys/auth/kubernetes", { type: "kubernetes" });
    const tooLarge = await send("auth/kubernetes/login", manyStrings(200_000));
    expect(tooLarge).toMatchObject({
      status: 413,
      body: { errors: [`request body exceeds the limit of ${limit} bytes`] },
    });
    // Reading stops at the first chunk past the limit, long before the 800 KB end.
    expect(tooLarge.pulled).toBe(limit + CHUNK_BYTES);
    expect(tooLarge.records[0].request.data).toBeUndefined();

    const values = MAX_UNAUTHENTICATED_VALUES;
    // "role" and "jwt" are two values, the array and its elements the rest.
    const tooMany = await send("auth/kubernetes/login", manyStrings(values - 2, '"role":"app","jwt":"x",'));
    expect(tooMany).toMatchObject({
      status: 413,
      body: { errors: [`the request body holds more than ${values} values`] },
    });
    expect(tooMany.records[0].request.data).toBeUndefined();
    // At the limit, the body is read and hashed into the request record, then refused by
    // the login itself (no such role): the most an anonymous login can have hashed.
    const most = await send("auth/kubernetes/login", manyStrings(values - 3, '"role":"app","jwt":"x",'));
    expect(most.status).toBe(400);
    const [request, response] = most.records;
    expect(request).toMatchObject({
      type: "request",
      request: { data: { role: expect.stringMatching(/^hmac/) } },
    });
    expect(request.request.data.x).toHaveLength(values - 3);
    expect(response).toMatchObject({ type: "response", response: { status: 400 } });

    const login = JSON.stringify({ role: "app", jwt: "x" });
    expect(await send("auth/kubernetes/login", login)).toMatchObject({ status: 400, pulled: login.length });

    const health = (query: string) => subject.app.request(`/v1/sys/health?${query}`);
    expect((await health(`standbyok=true&x=${"a".repeat(limit)}`)).status).toBe(413);
    const parameters = Array.from({ length: values + 1 }, (_, index) => `p${index}=1`).join("&");
    expect((await health(parameters)).status).toBe(413);
    expect((await health("standbyok=true")).status).toBe(200);
  });
});
