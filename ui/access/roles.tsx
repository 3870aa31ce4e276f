/** The Kubernetes auth methods' roles: who may log in, and with which policies. */
import { apiPath, listKeys, vault } from "../api.ts";
import { ErrorBox, Title, useLoad } from "../components.tsx";
import { loadMounts, mountName } from "../mounts.ts";
import { href } from "../route.ts";
import { AccessNav } from "./access-nav.tsx";

async function loadRoles() {
  const { auth } = await loadMounts();
  const kubernetes = auth.filter((mount) => mount.type === "kubernetes");
  return Promise.all(
    kubernetes.map(async (mount) => ({
      mount: mountName(mount),
      roles: await listKeys(apiPath("auth", mountName(mount), "role")),
    })),
  );
}

const FIELDS = [
  ["bound_service_account_names", "Service accounts"],
  ["bound_service_account_namespaces", "Namespaces"],
  ["audience", "Audience"],
  ["token_policies", "Policies"],
  ["token_ttl", "Token TTL (s)"],
  ["token_max_ttl", "Token max TTL (s)"],
  ["alias_name_source", "Alias name source"],
] as const;

function show(value: unknown): string {
  if (Array.isArray(value)) return value.join(", ") || "—";
  if (value === undefined || value === null || value === "") return "—";
  return String(value);
}

function Role({ mount, name }: { mount: string; name: string }) {
  const role = useLoad(
    async () => (await vault("GET", apiPath("auth", mount, "role", name))).data,
    [mount, name],
  );
  return (
    <>
      <Title>
        Role {name} of auth/{mount}/
      </Title>
      <AccessNav current="roles" />
      <ErrorBox error={role.error} />
      {role.value && (
        <dl class="fields">
          {FIELDS.map(([field, label]) => (
            <div key={field}>
              <dt>{label}</dt>
              <dd>{show(role.value[field])}</dd>
            </div>
          ))}
        </dl>
      )}
    </>
  );
}

export function Roles({ route }: { route: string[] }) {
  const [mount, name] = route;
  const listing = useLoad(loadRoles, []);
  if (mount && name) return <Role mount={mount} name={name} />;
  return (
    <>
      <Title>Kubernetes roles</Title>
      <AccessNav current="roles" />
      <ErrorBox error={listing.error} />
      {listing.value?.length === 0 && <p>No Kubernetes auth method is enabled that this token may see.</p>}
      {listing.value?.map(({ mount: at, roles }) => (
        <section key={at} aria-labelledby={`roles-${at}`}>
          <h2 id={`roles-${at}`}>auth/{at}/</h2>
          {roles.length === 0 ? (
            <p>No roles.</p>
          ) : (
            <ul class="keys">
              {roles.map((role) => (
                <li key={role}>
                  <a href={href("access", "roles", at, role)}>{role}</a>
                </li>
              ))}
            </ul>
          )}
        </section>
      ))}
    </>
  );
}
