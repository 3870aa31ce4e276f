/** Secrets: the mounts, then a KV mount's folders, a secret, or its editor. */
import { ErrorBox, Title, useLoad } from "../components.tsx";
import { isKvV2, loadMounts, type MountInfo, mountName } from "../mounts.ts";
import { href } from "../route.ts";
import { KvEditor } from "./kv-editor.tsx";
import { KvList } from "./kv-list.tsx";
import { KvSecret } from "./kv-secret.tsx";

function MountList({ mounts }: { mounts: MountInfo[] }) {
  return (
    <>
      <Title>Secrets engines</Title>
      <table>
        <thead>
          <tr>
            <th scope="col">Path</th>
            <th scope="col">Type</th>
            <th scope="col">Description</th>
          </tr>
        </thead>
        <tbody>
          {mounts.map((mount) => (
            <tr key={mount.path}>
              <td>
                {mount.type === "kv" ? (
                  <a href={href("secrets", mountName(mount), "list")}>{mount.path}</a>
                ) : mount.type === "transit" ? (
                  <a href={href("transit", mountName(mount))}>{mount.path}</a>
                ) : (
                  mount.path
                )}
              </td>
              <td>{mount.type === "kv" ? `kv (version ${isKvV2(mount) ? 2 : 1})` : mount.type}</td>
              <td>{mount.description}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

export function SecretsScreen({ route }: { route: string[] }) {
  const mounts = useLoad(loadMounts, []);
  if (mounts.error) return <ErrorBox error={mounts.error} />;
  if (!mounts.value) return <p>Loading…</p>;
  const [name, view, ...path] = route;
  if (name === undefined) return <MountList mounts={mounts.value.secret} />;
  const mount = mounts.value.secret.find((candidate) => mountName(candidate) === name);
  if (mount?.type !== "kv") {
    return <ErrorBox error={new Error(`There is no KV mount at ${name}/ that this token may see.`)} />;
  }
  const at = path.join("/");
  if (view === "show") return <KvSecret mount={mount} path={at} />;
  if (view === "edit") return <KvEditor mount={mount} path={at} existing />;
  if (view === "create") return <KvEditor mount={mount} path={at} existing={false} />;
  return <KvList mount={mount} folder={at} />;
}
