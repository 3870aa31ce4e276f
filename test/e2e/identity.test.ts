/**
 * Identity and access end to end through the Vault API: auth mounts per cluster, their
 * configuration, roles, login against a real issuer served over HTTP (OIDC discovery and
 * JWKS on a node:http server), policies with templating, and every refusal audited.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KEY_REFRESH_INTERVAL_MS } from "../../shared/auth/kubernetes/remote-keys.ts";
import {
  type ClusterKey,
  clusterKey,
  hs256WithPublicKey,
  jwksOf,
  mintLegacy,
  mintProjected,
  type ProjectedClaims,
  projectedPayload,
  tamperPayload,
  unsecured,
  WEAK_RSA_CERTIFICATE,
  weakRsaKey,
} from "../support/cluster-keys.ts";
import { type Deployment, openDeployment } from "../support/deployment.ts";
import { type IssuerServer, startIssuerServer } from "../support/issuer-server.ts";
import { fixture, fixturesAvailable } from "../support/k8s-token-fixtures.ts";
import { frozenClock } from "../support/test-clock.ts";

const TEAM_POLICY = (accessor: string) => `
# Each namespace reads its own secrets
path "secret/data/{{identity.entity.aliases.${accessor}.metadata.service_account_namespace}}/*" {
  capabilities = ["read"]
}
path "secret/metadata/{{identity.entity.aliases.${accessor}.metadata.service_account_namespace}}/*" {
  capabilities = ["list"]
}
`;

describe("identity and access", () => {
  let deployment: Deployment;
  let issuer: IssuerServer;
  let key: ClusterKey;
  let stranger: ClusterKey;
  let accessor: string;

  const call: Deployment["call"] = (...args) => deployment.call(...args);
  const now = () => Math.floor(deployment.clock.now() / 1000);
  const mint = (claims: Partial<ProjectedClaims> = {}, signer = key) =>
    mintProjected(signer, { issuer: issuer.url, audience: ["coffer"], iat: now(), ...claims });
  const login = (jwt: string, role = "app", mount = "kubernetes") =>
    deployment.call("POST", `auth/${mount}/login`, { role, jwt }, null);
  const lastAudit = () =>
    deployment.audit.at(-1) as { request: { path: string }; response: { status: number }; error?: string };

  beforeAll(async () => {
    deployment = await openDeployment({ clock: frozenClock() });
    key = await clusterKey("RS256");
    stranger = await clusterKey("RS256");
    issuer = await startIssuerServer(jwksOf(key));

    expect(
      (await call("POST", "sys/auth/kubernetes", { type: "kubernetes", description: "prod cluster" })).status,
    ).toBe(204);
    const mounts = await call("GET", "sys/auth");
    accessor = mounts.body.data["kubernetes/"].accessor;
    expect(accessor).toMatch(/^auth_kubernetes_[0-9a-f]{8}$/);
    expect((await call("POST", "auth/kubernetes/config", { oidc_discovery_url: issuer.url })).status).toBe(
      204,
    );

    await call("POST", "sys/policies/acl/app-read", {
      policy: 'path "secret/data/app/*" { capabilities = ["read"] }',
    });
    await call("POST", "sys/policies/acl/team", { policy: TEAM_POLICY(accessor) });
    const role = await call("POST", "auth/kubernetes/role/app", {
      bound_service_account_names: ["app"],
      bound_service_account_namespaces: ["default", "team-*"],
      audience: "coffer",
      token_policies: "app-read,team",
      token_ttl: "1h",
      token_max_ttl: "4h",
    });
    expect(role.status).toBe(204);
    for (const [path, value] of [
      ["app/db", "app-secret"],
      ["other/db", "other-secret"],
      ["team-a/db", "a-secret"],
      ["team-b/db", "b-secret"],
    ]) {
      expect((await call("POST", `secret/data/${path}`, { data: { value } })).status).toBe(200);
    }
  });

  afterAll(async () => {
    await issuer?.stop();
    await deployment?.close();
  });

  describe("auth mounts", () => {
    it("lists the built-in token method and kubernetes mounts with accessors", async () => {
      const { body } = await call("GET", "sys/auth");
      expect(body.data["token/"]).toMatchObject({ type: "token" });
      expect(body.data["kubernetes/"]).toMatchObject({
        type: "kubernetes",
        description: "prod cluster",
        accessor,
        config: { default_lease_ttl: 0, max_lease_ttl: 0, token_type: "default-service" },
      });
      expect((await call("GET", "sys/auth/kubernetes")).body.data).toMatchObject({
        type: "kubernetes",
        accessor,
      });
      expect((await call("GET", "sys/auth/kubernetes/tune")).body.data).toMatchObject({
        default_lease_ttl: 0,
      });
    });

    it("refuses unknown types, taken paths, reserved paths and non-sudo callers", async () => {
      expect((await call("POST", "sys/auth/ldap", { type: "ldap" })).body.errors).toEqual([
        "plugin not found in the catalog: ldap",
      ]);
      expect((await call("POST", "sys/auth/kubernetes", { type: "kubernetes" })).status).toBe(400);
      expect((await call("POST", "sys/auth/token", { type: "kubernetes" })).status).toBe(400);
      // Fields Vault does not know are ignored, as Vault ignores them (a Node client sends mount_point).
      expect((await call("POST", "sys/auth/k8s", { type: "kubernetes", mount_point: "k8s" })).status).toBe(
        204,
      );
      expect((await call("DELETE", "sys/auth/k8s")).status).toBe(204);
      expect((await call("POST", "sys/mounts/k8s", { type: "kubernetes" })).body.errors).toEqual([
        "plugin not found in the catalog: kubernetes",
      ]);
      expect((await call("DELETE", "sys/auth/token")).status).toBe(400);
      const jwt = (await login(await mint())).body.auth.client_token;
      expect((await call("POST", "sys/auth/k8s-x", { type: "kubernetes" }, jwt)).status).toBe(403);
      expect((await call("GET", "sys/auth/k8s-x")).status).toBe(400);
    });

    it("keeps one mount per cluster, each with its own keys and roles", async () => {
      const other = await clusterKey("ES256");
      expect((await call("POST", "sys/auth/k8s-staging", { type: "kubernetes" })).status).toBe(204);
      expect(
        (
          await call("POST", "auth/k8s-staging/config", {
            issuer: "https://staging.example",
            jwks: jwksOf(other),
          })
        ).status,
      ).toBe(204);
      await call("POST", "auth/k8s-staging/role/app", {
        bound_service_account_names: "app",
        bound_service_account_namespaces: "default",
        audience: "coffer",
        token_policies: "app-read",
      });
      const stagingToken = await mintProjected(other, {
        issuer: "https://staging.example",
        audience: ["coffer"],
        iat: now(),
      });
      expect((await login(stagingToken, "app", "k8s-staging")).status).toBe(200);
      expect((await login(stagingToken, "app", "kubernetes")).status).toBe(403);
      expect((await login(await mint(), "app", "k8s-staging")).status).toBe(403);
      expect((await call("DELETE", "sys/auth/k8s-staging")).status).toBe(204);
    });

    it("revokes every token a mount issued when it is disabled, and starts empty when enabled again", async () => {
      await call("POST", "sys/auth/k8s-temp", { type: "kubernetes" });
      await call("POST", "auth/k8s-temp/config", { issuer: issuer.url, pem_keys: [key.pem] });
      await call("POST", "auth/k8s-temp/role/app", {
        bound_service_account_names: "app",
        bound_service_account_namespaces: "default",
        audience: "coffer",
        token_policies: "app-read",
      });
      const tokens = await Promise.all(
        [1, 2, 3].map(async () => (await login(await mint(), "app", "k8s-temp")).body.auth.client_token),
      );
      for (const token of tokens)
        expect((await call("GET", "secret/data/app/db", undefined, token)).status).toBe(200);
      expect((await call("DELETE", "sys/auth/k8s-temp")).status).toBe(204);
      for (const token of tokens) {
        expect((await call("GET", "secret/data/app/db", undefined, token)).status).toBe(403);
        expect((await call("GET", "auth/token/lookup-self", undefined, token)).status).toBe(403);
      }
      expect((await call("DELETE", "sys/auth/k8s-temp")).status).toBe(204);
      await call("POST", "sys/auth/k8s-temp", { type: "kubernetes" });
      expect((await call("GET", "auth/k8s-temp/role/app")).status).toBe(404);
      expect((await call("GET", "auth/k8s-temp/config")).status).toBe(404);
      await call("DELETE", "sys/auth/k8s-temp");
    });
  });

  describe("configuration", () => {
    it("reads back Vault's fields", async () => {
      const { body } = await call("GET", "auth/kubernetes/config");
      expect(body.data).toMatchObject({
        oidc_discovery_url: issuer.url,
        jwks_url: "",
        pem_keys: [],
        issuer: "",
        disable_iss_validation: false,
        allow_legacy_tokens: false,
        clock_skew_leeway: 60,
        jwt_supported_algs: ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384"],
      });
    });

    it("refuses configurations that cannot work, storing nothing", async () => {
      await call("POST", "sys/auth/k8s-bad", { type: "kubernetes" });
      const weak = await weakRsaKey();
      const noKey = "no usable signing key, so no token could ever verify: ";
      const cases: [Record<string, unknown>, string][] = [
        [{}, "configure where the signing keys come from"],
        [{ jwks_url: issuer.jwksUrl, oidc_discovery_url: issuer.url }, "choose one key source"],
        [{ jwks_url: issuer.jwksUrl }, '"issuer" is required'],
        [{ oidc_discovery_url: "http://10.1.2.3/" }, "must use https"],
        [{ jwks_url: "not a url", issuer: "x" }, "not a valid URL"],
        [{ pem_keys: ["garbage"], issuer: "x" }, "pem_keys[0]: not a PEM public key or certificate"],
        [{ pem_keys: [`${key.pem}\n${key.pem}`], issuer: "x" }, "holds 2 PEM blocks"],
        [{ pem_keys: [key.pem], jwt_validation_pubkeys: [key.pem], issuer: "x" }, "not both"],
        [{ jwks: { keys: [{ ...key.publicJwk, d: "AAAA" }] }, issuer: "x" }, "private key material"],
        [{ jwks: "{nope", issuer: "x" }, "not valid JSON"],
        [{ jwks: { nokeys: [] }, issuer: "x" }, "not a JWKS document"],
        [
          { jwks: { keys: [{ kty: "oct", k: "c2VjcmV0" }] }, issuer: "x" },
          `${noKey}jwks.keys[0]: not an RSA or EC (P-256, P-384) signature key`,
        ],
        [
          { jwks: { keys: [weak.publicJwk] }, issuer: "x" },
          `${noKey}jwks.keys[0]: an RSA key of 1024 bits (at least 2048 are needed)`,
        ],
        [
          { pem_keys: [weak.pem, WEAK_RSA_CERTIFICATE], issuer: "x" },
          `${noKey}pem_keys[0]: an RSA key of 1024 bits (at least 2048 are needed); pem_keys[1]: an RSA key of 1024 bits (at least 2048 are needed)`,
        ],
        [
          { pem_keys: [key.pem], issuer: "x", jwt_supported_algs: ["ES256"] },
          `${noKey}pem_keys[0]: an RSA key fits none of the accepted algorithms (ES256)`,
        ],
        [{ jwks: { keys: [] }, issuer: "x" }, `${noKey}the JWKS holds no keys`],
        [{ pem_keys: [key.pem], issuer: "x", jwt_supported_algs: ["HS256"] }, "HS256 not accepted"],
        [{ pem_keys: [key.pem], issuer: "x", clock_skew_leeway: "1h" }, "at most 300 seconds"],
        [
          { pem_keys: [key.pem], issuer: "x", token_reviewer_jwt: "eyJ..." },
          "never calls the TokenReview API",
        ],
      ];
      for (const [body, fragment] of cases) {
        const reply = await call("POST", "auth/k8s-bad/config", body);
        expect(reply.status, fragment).toBe(400);
        expect(reply.body.errors?.[0], fragment).toContain(fragment);
      }
      expect((await call("GET", "auth/k8s-bad/config")).status).toBe(404);
      await call("DELETE", "sys/auth/k8s-bad");
    });
    it("keeps the usable keys of a mixed set and warns about the others", async () => {
      const weak = await weakRsaKey();
      await call("POST", "sys/auth/k8s-mixed", { type: "kubernetes" });
      const reply = await call("POST", "auth/k8s-mixed/config", {
        issuer: issuer.url,
        pem_keys: [WEAK_RSA_CERTIFICATE],
        jwks: { keys: [weak.publicJwk, key.publicJwk] },
        kubernetes_hots: "typo",
      });
      expect(reply.status).toBe(200);
      expect(reply.body.warnings).toEqual([
        "pem_keys[0] is not used: an RSA key of 1024 bits (at least 2048 are needed)",
        "jwks.keys[0] is not used: an RSA key of 1024 bits (at least 2048 are needed)",
        "Endpoint ignored these unrecognized parameters: [kubernetes_hots]",
      ]);
      await call("POST", "auth/k8s-mixed/role/app", {
        bound_service_account_names: "app",
        bound_service_account_namespaces: "default",
        audience: "coffer",
        token_policies: "app-read",
      });
      expect((await login(await mint(), "app", "k8s-mixed")).status).toBe(200);
      await call("DELETE", "sys/auth/k8s-mixed");
    });
  });

  describe("roles", () => {
    it("reads, lists and deletes roles in Vault's shape", async () => {
      const { body } = await call("GET", "auth/kubernetes/role/app");
      expect(body.data).toMatchObject({
        bound_service_account_names: ["app"],
        bound_service_account_namespaces: ["default", "team-*"],
        audience: "coffer",
        alias_name_source: "serviceaccount_uid",
        token_policies: ["app-read", "team"],
        policies: ["app-read", "team"],
        token_ttl: 3600,
        token_max_ttl: 14400,
        token_no_default_policy: false,
        token_type: "default",
        max_age: 86400,
      });
      await call("POST", "auth/kubernetes/role/Temp", {
        bound_service_account_names: "*",
        bound_service_account_namespaces: "ops",
        policies: ["app-read"],
        ttl: 60,
      });
      expect((await call("LIST", "auth/kubernetes/role")).body.data.keys).toEqual(["app", "temp"]);
      const update = await call("POST", "auth/kubernetes/role/temp", { token_ttl: 120, max_age: "2h" });
      expect(update.body.warnings?.[0]).toContain("does not specify an audience");
      expect((await call("GET", "auth/kubernetes/role/temp")).body.data).toMatchObject({
        bound_service_account_names: ["*"],
        token_ttl: 120,
        token_policies: ["app-read"],
        max_age: 7200,
      });
      expect((await call("DELETE", "auth/kubernetes/role/temp")).status).toBe(204);
      expect((await call("GET", "auth/kubernetes/role/temp")).status).toBe(404);
    });

    it("refuses invalid roles with Vault's messages", async () => {
      const cases: [string, Record<string, unknown>, string][] = [
        ["r1", { bound_service_account_namespaces: "a" }, '"bound_service_account_names" can not be empty'],
        ["r1", { bound_service_account_names: "a" }, '"bound_service_account_namespaces" can not be empty'],
        [
          "r1",
          { bound_service_account_names: ["*", "a"], bound_service_account_namespaces: "a" },
          'can not mix "*"',
        ],
        [
          "r1",
          {
            bound_service_account_names: "a",
            bound_service_account_namespaces: "a",
            token_ttl: "2h",
            token_max_ttl: "1h",
          },
          "token ttl should not be greater than token max ttl",
        ],
        [
          "r1",
          {
            bound_service_account_names: "a",
            bound_service_account_namespaces: "a",
            policies: "x",
            token_policies: "y",
          },
          'cannot specify both "token_policies" and "policies"',
        ],
        [
          "r1",
          {
            bound_service_account_names: "a",
            bound_service_account_namespaces: "a",
            alias_name_source: "pod",
          },
          '"alias_name_source" must be',
        ],
        [
          "r1",
          {
            bound_service_account_names: "a",
            bound_service_account_namespace_selector: '{"matchLabels":{}}',
          },
          "cannot read namespace labels",
        ],
        [
          "r1",
          { bound_service_account_names: "a", bound_service_account_namespaces: "a", token_num_uses: 3 },
          '"token_num_uses" is not supported',
        ],
        [
          "r1",
          { bound_service_account_names: "a", bound_service_account_namespaces: "a", token_type: "batch" },
          "only service tokens",
        ],
        [
          "r1",
          { bound_service_account_names: "a", bound_service_account_namespaces: "a", max_age: 0 },
          '"max_age" must be a positive duration (default 24h)',
        ],
        [
          "bad/name",
          { bound_service_account_names: "a", bound_service_account_namespaces: "a" },
          "unsupported path",
        ],
        [
          "-bad",
          { bound_service_account_names: "a", bound_service_account_namespaces: "a" },
          'invalid role name "-bad"',
        ],
      ];
      for (const [name, body, fragment] of cases) {
        const reply = await call("POST", `auth/kubernetes/role/${name}`, body);
        expect(reply.status, fragment).toBeGreaterThanOrEqual(400);
        expect(reply.body.errors?.[0], fragment).toContain(fragment);
      }
      expect((await call("LIST", "auth/kubernetes/role")).body.data.keys).toEqual(["app"]);
    });
  });

  describe("login", () => {
    it("returns Vault's auth block with the service account and pod in the metadata", async () => {
      deployment.clock.set(Date.now());
      const { status, body } = await login(await mint({ namespace: "team-a" }));
      expect(status).toBe(200);
      expect(body.auth).toMatchObject({
        client_token: expect.stringMatching(/^cof\./),
        accessor: expect.any(String),
        policies: ["app-read", "default", "team"],
        token_policies: ["app-read", "default", "team"],
        metadata: {
          role: "app",
          service_account_name: "app",
          service_account_namespace: "team-a",
          service_account_uid: "3c1d0f9e-8a7b-4c6d-9e5f-a1b2c3d4e5f6",
          service_account_secret_name: "",
          pod_name: "app-7d4b9c",
          pod_uid: "0f7e6d5c-4b3a-4291-8877-665544332211",
        },
        lease_duration: 3600,
        renewable: true,
        entity_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      });
      const self = await call("GET", "auth/token/lookup-self", undefined, body.auth.client_token);
      expect(self.body.data).toMatchObject({
        display_name: "kubernetes-team-a-app",
        path: "auth/kubernetes/login",
      });
      // The same service account is the same entity on every login.
      const again = await login(await mint({ namespace: "team-a" }));
      expect(again.body.auth.entity_id).toBe(body.auth.entity_id);
    });

    it("grants what the role's policies allow and refuses everything else with 403", async () => {
      const token = (await login(await mint())).body.auth.client_token;
      const read = await call("GET", "secret/data/app/db", undefined, token);
      expect(read.status).toBe(200);
      expect(read.body.data.data).toEqual({ value: "app-secret" });
      for (const [method, path, body] of [
        ["GET", "secret/data/other/db"],
        ["POST", "secret/data/app/db", { data: { value: "overwrite" } }],
        ["DELETE", "secret/data/app/db"],
        ["GET", "sys/policies/acl/app-read"],
        ["POST", "auth/kubernetes/role/app", { bound_service_account_names: "*" }],
        ["POST", "auth/token/create", {}],
      ] as [string, string, unknown][]) {
        expect((await call(method, path, body, token)).status, `${method} ${path}`).toBe(403);
      }
      expect((await call("GET", "auth/token/lookup-self", undefined, token)).status).toBe(200);
    });

    it("lets a templated policy give team-a/app its own namespace's secrets and nothing else", async () => {
      const teamA = (await login(await mint({ namespace: "team-a" }))).body.auth.client_token;
      const teamB = (await login(await mint({ namespace: "team-b" }))).body.auth.client_token;
      expect((await call("GET", "secret/data/team-a/db", undefined, teamA)).body.data.data).toEqual({
        value: "a-secret",
      });
      expect((await call("GET", "secret/data/team-b/db", undefined, teamA)).status).toBe(403);
      expect((await call("GET", "secret/data/team-b/db", undefined, teamB)).body.data.data).toEqual({
        value: "b-secret",
      });
      expect((await call("GET", "secret/data/team-a/db", undefined, teamB)).status).toBe(403);
      expect((await call("LIST", "secret/metadata/team-a/", undefined, teamA)).body.data.keys).toEqual([
        "db",
      ]);
      expect((await call("LIST", "secret/metadata/team-b/", undefined, teamA)).status).toBe(403);

      const capabilities = await call(
        "POST",
        "sys/capabilities-self",
        {
          paths: ["secret/data/team-a/db", "secret/data/team-b/db"],
        },
        teamA,
      );
      expect(capabilities.body.data).toEqual({
        "secret/data/team-a/db": ["read"],
        "secret/data/team-b/db": ["deny"],
      });
      const single = await call("POST", "sys/capabilities-self", { path: "secret/data/app/x" }, teamA);
      expect(single.body.data).toEqual({ "secret/data/app/x": ["read"], capabilities: ["read"] });
      expect((await call("POST", "sys/capabilities-self", { path: "x" })).body.data.capabilities).toEqual([
        "root",
      ]);
    });

    it("supports alias_name_source serviceaccount_name", async () => {
      await call("POST", "auth/kubernetes/role/by-name", {
        bound_service_account_names: "app",
        bound_service_account_namespaces: "default",
        audience: "coffer",
        alias_name_source: "serviceaccount_name",
        token_policies: "app-read",
        token_no_default_policy: true,
      });
      const { body } = await login(await mint(), "by-name");
      expect(body.auth.policies).toEqual(["app-read"]);
      await call("DELETE", "auth/kubernetes/role/by-name");
    });

    const refusals: [string, () => Promise<string>, number, string][] = [
      [
        "a tampered signature",
        async () => tamperPayload(await mint()),
        403,
        "the token's signature is invalid",
      ],
      [
        "the wrong audience",
        () => mint({ audience: ["sts.amazonaws.com"] }),
        403,
        "the token's audience does not match the role",
      ],
      [
        "the wrong issuer",
        () => mint({ issuer: "https://evil.example" }),
        403,
        "the token's issuer does not match the mount's issuer",
      ],
      ["an expired token", () => mint({ iat: now() - 7200, lifetime: 3600 }), 403, "the token has expired"],
      ["a token not yet valid", () => mint({ nbf: now() + 600 }), 403, "the token is not yet valid"],
      [
        "a token issued to live longer than the role's max_age",
        () => mint({ lifetime: 2 * 86_400 }),
        403,
        "the token was issued to live 172800 s, longer than the role's max_age (86400 s)",
      ],
      [
        "a year-long kubelet token older than the role's max_age",
        () => mint({ iat: now() - 2 * 86_400, lifetime: 365 * 86_400, warnAfter: now() - 2 * 86_400 + 3607 }),
        403,
        "the token was issued 172800 s ago, longer ago than the role's max_age (86400 s)",
      ],
      [
        'alg "none"',
        async () => unsecured(projectedPayload({ issuer: issuer.url, audience: ["coffer"], iat: now() })),
        403,
        "the token's signing algorithm is not accepted",
      ],
      [
        "HS256 signed with the public key",
        async () =>
          hs256WithPublicKey(key, projectedPayload({ issuer: issuer.url, audience: ["coffer"], iat: now() })),
        403,
        "the token's signing algorithm is not accepted",
      ],
      ["an unknown kid", () => mint({}, stranger), 403, "no configured key matches the token's key id"],
      [
        "a service account not bound to the role",
        () => mint({ serviceAccount: "intruder" }),
        403,
        "service account name not authorized",
      ],
      [
        "a namespace not bound to the role",
        () => mint({ namespace: "kube-system" }),
        403,
        "namespace not authorized",
      ],
      ["a legacy token without exp", () => mintLegacy(key), 403, "the token has no expiry"],
      ["a malformed token", async () => "definitely-not-a-jwt", 400, "invalid jwt: not a signed JWT"],
      [
        "an oversized token",
        async () => `${"a".repeat(20_000)}.b.c`,
        400,
        "invalid jwt: the token exceeds the limit of 16384 bytes",
      ],
    ];
    for (const [what, jwt, status, reason] of refusals) {
      it(`refuses ${what} with a clear error and an audit record`, async () => {
        const presented = await jwt();
        const reply = await login(presented);
        expect(reply.status).toBe(status);
        expect(reply.body.errors?.[0]).toContain(reason);
        if (status === 403) expect(reply.body.errors?.[0]).toMatch(/^permission denied: /);
        const record = lastAudit();
        expect(record.request.path).toBe("auth/kubernetes/login");
        expect(record.response.status).toBe(status);
        expect(record.error).toContain(reason);
        // Neither the refusal nor its audit record carries the token.
        const segment = presented.split(".").sort((a, b) => b.length - a.length)[0] as string;
        expect(JSON.stringify(record)).not.toContain(segment.slice(0, 24));
        expect(reply.body.errors?.join(" ")).not.toContain(segment.slice(0, 24));
      });
    }

    it("refuses missing fields, unknown roles and an unconfigured mount with 400", async () => {
      expect(
        (await deployment.call("POST", "auth/kubernetes/login", { jwt: "x" }, null)).body.errors,
      ).toEqual(["missing role"]);
      expect(
        (await deployment.call("POST", "auth/kubernetes/login", { role: "app" }, null)).body.errors,
      ).toEqual(["missing jwt"]);
      expect((await login(await mint(), "nope")).body.errors).toEqual(['invalid role name "nope"']);
      expect(
        (await deployment.call("POST", "auth/kubernetes/login", { role: "app", jwt: 5 }, null)).status,
      ).toBe(400);
      await call("POST", "sys/auth/k8s-empty", { type: "kubernetes" });
      await call("POST", "auth/k8s-empty/role/app", {
        bound_service_account_names: "a",
        bound_service_account_namespaces: "b",
      });
      expect((await login(await mint(), "app", "k8s-empty")).body.errors?.[0]).toContain("is not configured");
      await call("DELETE", "sys/auth/k8s-empty");
    });
  });

  describe("the issuer", () => {
    it("is not asked again for logins while keys are cached, and keeps logins working while it is down", async () => {
      const before = issuer.total();
      for (let i = 0; i < 10; i++) expect((await login(await mint())).status).toBe(200);
      expect(issuer.total()).toBe(before);

      issuer.failWith(503);
      deployment.clock.advance(30 * 60_000);
      for (let i = 0; i < 5; i++) expect((await login(await mint())).status).toBe(200);
      issuer.failWith(undefined);
    });

    it("is not flooded by a flood of unknown key ids", async () => {
      deployment.clock.advance(KEY_REFRESH_INTERVAL_MS);
      const before = issuer.total();
      const forged = await Promise.all(Array.from({ length: 100 }, () => mint({}, stranger)));
      const replies = await Promise.all(forged.map((jwt) => login(jwt)));
      expect(replies.every((reply) => reply.status === 403)).toBe(true);
      // At most one refetch (discovery + JWKS) for the whole flood.
      expect(issuer.total() - before).toBeLessThanOrEqual(2);
    });

    it("picks up a rotated key", async () => {
      const next = await clusterKey("ES384");
      issuer.setJwks(jwksOf(key, next));
      deployment.clock.advance(KEY_REFRESH_INTERVAL_MS);
      expect((await login(await mint({}, next))).status).toBe(200);
    });
  });

  describe("policies", () => {
    it("round-trips HCL and JSON through sys/policies/acl and the legacy sys/policy", async () => {
      const json = '{"path": {"kv/*": {"capabilities": ["read"]}}}';
      expect((await call("PUT", "sys/policies/acl/json-one", { policy: json })).status).toBe(204);
      expect((await call("GET", "sys/policies/acl/json-one")).body.data).toEqual({
        name: "json-one",
        policy: json,
      });
      const hcl = 'path "kv/x" {\n  capabilities = ["update"]\n}\n';
      expect((await call("PUT", "sys/policy/legacy-one", { rules: hcl })).status).toBe(204);
      const legacy = await call("GET", "sys/policy/legacy-one");
      expect(legacy.body).toMatchObject({
        name: "legacy-one",
        rules: hcl,
        data: { name: "legacy-one", rules: hcl },
      });
      const list = await call("GET", "sys/policy");
      expect(list.body.policies).toEqual(
        expect.arrayContaining(["default", "root", "json-one", "legacy-one"]),
      );
      expect(list.body.data.keys).toEqual(list.body.policies);
      expect((await call("LIST", "sys/policies/acl")).body.data.keys).toEqual(
        expect.arrayContaining(["app-read", "default", "root", "team"]),
      );
      const encoded = Buffer.from(hcl).toString("base64");
      await call("PUT", "sys/policies/acl/b64", { policy: encoded });
      expect((await call("GET", "sys/policies/acl/b64")).body.data.policy).toBe(hcl);
      for (const name of ["json-one", "legacy-one", "b64"])
        expect((await call("DELETE", `sys/policies/acl/${name}`)).status).toBe(204);
      expect((await call("GET", "sys/policies/acl/json-one")).status).toBe(404);
      expect((await call("GET", "sys/policy/legacy-one")).status).toBe(404);
    });

    it("refuses bad policies with 400 and protects root and default", async () => {
      const bad = await call("PUT", "sys/policies/acl/bad", {
        policy: 'path "a" { capabilities = ["fly"] }',
      });
      expect(bad).toMatchObject({
        status: 400,
        body: { errors: [expect.stringContaining('unknown capability "fly"')] },
      });
      expect((await call("PUT", "sys/policies/acl/bad", {})).body.errors).toEqual([
        'missing required field "policy"',
      ]);
      expect((await call("GET", "sys/policies/acl/bad")).status).toBe(404);
      expect((await call("PUT", "sys/policies/acl/root", { policy: "" })).status).toBe(400);
      expect((await call("DELETE", "sys/policies/acl/default")).status).toBe(400);
      expect((await call("DELETE", "sys/policy/root")).status).toBe(400);
      expect((await call("GET", "sys/policies/acl/default")).body.data.policy).toContain(
        "auth/token/lookup-self",
      );
    });

    it("applies policy changes to tokens already issued", async () => {
      const token = (await login(await mint())).body.auth.client_token;
      expect((await call("GET", "secret/data/app/db", undefined, token)).status).toBe(200);
      await call("PUT", "sys/policies/acl/app-read", {
        policy: 'path "secret/data/app/*" { capabilities = ["deny"] }',
      });
      expect((await call("GET", "secret/data/app/db", undefined, token)).status).toBe(403);
      await call("PUT", "sys/policies/acl/app-read", {
        policy: 'path "secret/data/app/*" { capabilities = ["read"] }',
      });
      expect((await call("GET", "secret/data/app/db", undefined, token)).status).toBe(200);
    });
  });

  describe.skipIf(!fixturesAvailable())("real cluster tokens", () => {
    it("logs in with the kind cluster's projected token, its JWKS and the clock at its iat", async () => {
      const kind = fixture("kind-v1.34-projected-rs256.json");
      await call("POST", "sys/auth/kind", { type: "kubernetes" });
      await call("POST", "auth/kind/config", { issuer: kind.claims.iss, jwks: kind.jwks });
      await call("POST", "auth/kind/role/default", {
        bound_service_account_names: "default",
        bound_service_account_namespaces: "default",
        audience: "https://kubernetes.default.svc.cluster.local",
        token_policies: "app-read",
      });
      const saved = deployment.clock.now();
      deployment.clock.set(((kind.claims.iat as number) + 1) * 1000);
      try {
        const reply = await login(kind.token, "default", "kind");
        expect(reply.status).toBe(200);
        expect(reply.body.auth.metadata).toMatchObject({
          service_account_namespace: "default",
          service_account_name: "default",
        });
        expect((await login(fixture("neg-kind-payload-tampered.json").token, "default", "kind")).status).toBe(
          403,
        );
        // Two days on, the token is still a year from its exp, but older than the role's max_age.
        deployment.clock.advance(2 * 86_400_000);
        const stale = await login(kind.token, "default", "kind");
        expect(stale.status).toBe(403);
        expect(stale.body.errors?.[0]).toContain("longer ago than the role's max_age (86400 s)");
      } finally {
        deployment.clock.set(saved);
        await call("DELETE", "sys/auth/kind");
      }
    });

    it("refuses the legacy minikube token by default and accepts it, through its certificate, when the mount opts in", async () => {
      const legacy = fixture("minikube-legacy-secret-rs256.json");
      await call("POST", "sys/auth/minikube", { type: "kubernetes" });
      const config = { issuer: "kubernetes/serviceaccount", pem_keys: [legacy.pem] };
      await call("POST", "auth/minikube/config", config);
      await call("POST", "auth/minikube/role/vault-auth", {
        bound_service_account_names: "vault-auth",
        bound_service_account_namespaces: "default",
        token_policies: "app-read",
      });
      const refused = await login(legacy.token, "vault-auth", "minikube");
      expect(refused.status).toBe(403);
      expect(refused.body.errors?.[0]).toContain("allow_legacy_tokens");
      await call("POST", "auth/minikube/config", { ...config, allow_legacy_tokens: true });
      const accepted = await login(legacy.token, "vault-auth", "minikube");
      expect(accepted.status).toBe(200);
      expect(accepted.body.auth.metadata).toMatchObject({
        service_account_name: "vault-auth",
        service_account_secret_name: "vault-auth-token-t5pcn",
      });
      const wrongKey = await login(
        fixture("neg-vault-wrong-signing-key.json").token,
        "vault-auth",
        "minikube",
      );
      expect(wrongKey.body.errors?.[0]).toBe("permission denied: the token's signature is invalid");
      await call("DELETE", "sys/auth/minikube");
    });
  });
});
