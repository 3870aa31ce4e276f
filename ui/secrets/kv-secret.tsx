/**
 * One secret: its values (masked until revealed), and for KV v2 its versions with their
 * states, delete/undelete/destroy per version, and its metadata and custom metadata.
 */
import { useState } from "preact/hooks";
import { apiPath, type Json, vault } from "../api.ts";
import { Confirm, ErrorBox, formatTime, MaskedValue, Notice, Title, useLoad } from "../components.tsx";
import { isKvV2, type MountInfo, mountName } from "../mounts.ts";
import { href, navigate } from "../route.ts";
import { Breadcrumbs } from "./breadcrumbs.tsx";
import { MetadataForm } from "./metadata-form.tsx";

interface VersionState {
  version: number;
  created_time: string;
  deletion_time: string;
  destroyed: boolean;
}

function stateOf(version: VersionState): "destroyed" | "deleted" | "active" {
  if (version.destroyed) return "destroyed";
  if (version.deletion_time && new Date(version.deletion_time).getTime() <= Date.now()) return "deleted";
  return "active";
}

export function Values({ data }: { data: Record<string, Json> }) {
  const entries = Object.entries(data);
  if (entries.length === 0) return <p>This version holds no keys.</p>;
  return (
    <table class="values">
      <thead>
        <tr>
          <th scope="col">Key</th>
          <th scope="col">Value</th>
        </tr>
      </thead>
      <tbody>
        {entries.map(([key, value]) => (
          <tr key={key}>
            <th scope="row">{key}</th>
            <td>
              <MaskedValue name={key} value={typeof value === "string" ? value : JSON.stringify(value)} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

const DONE = { delete: "deleted", undelete: "restored", destroy: "destroyed" } as const;

type Pending = { action: "destroy" | "delete-all"; version?: number } | undefined;

function KvV2Secret({ mount, path }: { mount: MountInfo; path: string }) {
  const name = mountName(mount);
  const [selected, setSelected] = useState<number | undefined>();
  const [error, setError] = useState<unknown>();
  const [done, setDone] = useState("");
  const [pending, setPending] = useState<Pending>();
  const metadata = useLoad(
    async () => (await vault("GET", apiPath(name, "metadata", path))).data,
    [name, path],
  );
  const versions: VersionState[] = Object.entries(metadata.value?.versions ?? {})
    .map(([version, state]) => ({ ...(state as VersionState), version: Number(version) }))
    .sort((a, b) => b.version - a.version);
  const current = metadata.value?.current_version as number | undefined;
  const shownVersion = selected ?? current;
  const shownState = versions.find((version) => version.version === shownVersion);
  const readable = shownState !== undefined && stateOf(shownState) === "active";
  const values = useLoad(
    async () =>
      readable
        ? (await vault("GET", `${apiPath(name, "data", path)}?version=${shownVersion}`)).data?.data
        : undefined,
    [name, path, shownVersion, readable],
  );

  const act = async (action: "delete" | "undelete" | "destroy", version: number) => {
    setError(undefined);
    try {
      await vault("POST", apiPath(name, action, path), { versions: [version] });
      setDone(`Version ${version} ${DONE[action]}.`);
      metadata.reload();
    } catch (failure) {
      setError(failure);
    }
  };
  const deleteAll = async () => {
    try {
      await vault("DELETE", apiPath(name, "metadata", path));
      navigate("secrets", name, "list", ...path.split("/").slice(0, -1));
    } catch (failure) {
      setError(failure);
    }
  };

  if (metadata.error) return <ErrorBox error={metadata.error} />;
  if (!metadata.value) return <p>Loading…</p>;
  return (
    <>
      <div class="toolbar">
        <a class="button" href={href("secrets", name, "edit", ...path.split("/"))}>
          Create new version
        </a>
        <button type="button" class="danger" onClick={() => setPending({ action: "delete-all" })}>
          Delete secret and all versions
        </button>
      </div>
      {done && <Notice>{done}</Notice>}
      <ErrorBox error={error} />
      <h2>
        Version {shownVersion}
        {shownVersion === current ? " (current)" : ""}
      </h2>
      {shownState && !readable && <p>This version is {stateOf(shownState)}: its data cannot be read.</p>}
      <ErrorBox error={values.error} />
      {readable && values.value && <Values data={values.value} />}

      <h2>Versions</h2>
      <table class="versions">
        <thead>
          <tr>
            <th scope="col">Version</th>
            <th scope="col">Created</th>
            <th scope="col">State</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {versions.map((version) => {
            const state = stateOf(version);
            return (
              <tr key={version.version} aria-current={version.version === shownVersion ? "true" : undefined}>
                <td>{version.version}</td>
                <td>{formatTime(version.created_time)}</td>
                <td>
                  <span class={`state ${state}`}>{state}</span>
                  {state === "deleted" && ` on ${formatTime(version.deletion_time)}`}
                </td>
                <td class="actions">
                  <button type="button" onClick={() => setSelected(version.version)}>
                    View<span class="visually-hidden"> version {version.version}</span>
                  </button>
                  {state === "active" && (
                    <button type="button" onClick={() => act("delete", version.version)}>
                      Delete<span class="visually-hidden"> version {version.version}</span>
                    </button>
                  )}
                  {state === "deleted" && (
                    <button type="button" onClick={() => act("undelete", version.version)}>
                      Undelete<span class="visually-hidden"> version {version.version}</span>
                    </button>
                  )}
                  {state !== "destroyed" && (
                    <button
                      type="button"
                      class="danger"
                      onClick={() => setPending({ action: "destroy", version: version.version })}
                    >
                      Destroy<span class="visually-hidden"> version {version.version}</span>
                    </button>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>

      <MetadataForm mount={mount} path={path} metadata={metadata.value} onSaved={metadata.reload} />

      {pending?.action === "destroy" && pending.version !== undefined && (
        <Confirm
          title={`Destroy version ${pending.version}?`}
          confirmLabel={`Destroy version ${pending.version}`}
          onCancel={() => setPending(undefined)}
          onConfirm={() => {
            const version = pending.version as number;
            setPending(undefined);
            void act("destroy", version);
          }}
        >
          <p>
            Version {pending.version} of {name}/{path} will be erased for good. It cannot be undeleted.
          </p>
        </Confirm>
      )}
      {pending?.action === "delete-all" && (
        <Confirm
          title={`Delete ${name}/${path}?`}
          confirmLabel="Delete all versions"
          onCancel={() => setPending(undefined)}
          onConfirm={() => {
            setPending(undefined);
            void deleteAll();
          }}
        >
          <p>
            Every version of {name}/{path} ({versions.length}) and its metadata will be erased for good.
          </p>
        </Confirm>
      )}
    </>
  );
}

function KvV1Secret({ mount, path }: { mount: MountInfo; path: string }) {
  const name = mountName(mount);
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<unknown>();
  const values = useLoad(async () => (await vault("GET", apiPath(name, path))).data, [name, path]);
  const remove = async () => {
    setConfirming(false);
    try {
      await vault("DELETE", apiPath(name, path));
      navigate("secrets", name, "list", ...path.split("/").slice(0, -1));
    } catch (failure) {
      setError(failure);
    }
  };
  return (
    <>
      <div class="toolbar">
        <a class="button" href={href("secrets", name, "edit", ...path.split("/"))}>
          Edit
        </a>
        <button type="button" class="danger" onClick={() => setConfirming(true)}>
          Delete
        </button>
      </div>
      <ErrorBox error={error ?? values.error} />
      {values.value && <Values data={values.value} />}
      {confirming && (
        <Confirm
          title={`Delete ${name}/${path}?`}
          confirmLabel="Delete"
          onCancel={() => setConfirming(false)}
          onConfirm={remove}
        >
          <p>A KV version 1 secret has no versions: it is gone for good.</p>
        </Confirm>
      )}
    </>
  );
}

export function KvSecret({ mount, path }: { mount: MountInfo; path: string }) {
  return (
    <>
      <Breadcrumbs mount={mount} path={path} />
      <Title>
        {mountName(mount)}/{path}
      </Title>
      {isKvV2(mount) ? <KvV2Secret mount={mount} path={path} /> : <KvV1Secret mount={mount} path={path} />}
    </>
  );
}
