/** Transit: keys per mount (create, rotate, configure) and the encrypt/decrypt/rewrap tool. */
import { useState } from "preact/hooks";
import { apiPath, type Json, listKeys, vault } from "../api.ts";
import { ErrorBox, formatTime, Notice, Title, useLoad } from "../components.tsx";
import { loadMounts, mountName } from "../mounts.ts";
import { href, navigate } from "../route.ts";
import { CryptoTool } from "./crypto-tool.tsx";

const KEY_TYPES = [
  "aes256-gcm96",
  "aes128-gcm96",
  "chacha20-poly1305",
  "ed25519",
  "ecdsa-p256",
  "rsa-2048",
  "hmac",
];

function KeyList({ mount }: { mount: string }) {
  const keys = useLoad(() => listKeys(apiPath(mount, "keys")), [mount]);
  const [name, setName] = useState("");
  const [type, setType] = useState(KEY_TYPES[0] as string);
  const [error, setError] = useState<unknown>();
  const create = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    try {
      await vault("POST", apiPath(mount, "keys", name.trim()), { type });
      navigate("transit", mount, name.trim());
    } catch (failure) {
      setError(failure);
    }
  };
  return (
    <>
      <Title>Transit keys of {mount}/</Title>
      <ErrorBox error={keys.error} />
      <ul class="keys" aria-label="Keys">
        {(keys.value ?? []).map((key) => (
          <li key={key}>
            <a href={href("transit", mount, key)}>{key}</a>
          </li>
        ))}
      </ul>
      {keys.value?.length === 0 && <p>No keys yet.</p>}
      <form onSubmit={create} class="toolbar">
        <h2>New key</h2>
        <label for="key-name">Name</label>
        <input id="key-name" value={name} required onInput={(event) => setName(event.currentTarget.value)} />
        <label for="key-type">Type</label>
        <select id="key-type" value={type} onChange={(event) => setType(event.currentTarget.value)}>
          {KEY_TYPES.map((candidate) => (
            <option key={candidate}>{candidate}</option>
          ))}
        </select>
        <button type="submit">Create key</button>
      </form>
      <ErrorBox error={error} />
    </>
  );
}

function KeyConfig({
  mount,
  name,
  info,
  onSaved,
}: {
  mount: string;
  name: string;
  info: Json;
  onSaved: () => void;
}) {
  const [minDecryption, setMinDecryption] = useState(String(info.min_decryption_version ?? 1));
  const [deletionAllowed, setDeletionAllowed] = useState(Boolean(info.deletion_allowed));
  const [autoRotate, setAutoRotate] = useState(String(info.auto_rotate_period ?? 0));
  const [error, setError] = useState<unknown>();
  const [saved, setSaved] = useState(false);
  const save = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    setSaved(false);
    try {
      await vault("POST", apiPath(mount, "keys", name, "config"), {
        min_decryption_version: Number(minDecryption),
        deletion_allowed: deletionAllowed,
        auto_rotate_period: /^\d+$/.test(autoRotate) ? Number(autoRotate) : autoRotate,
      });
      setSaved(true);
      onSaved();
    } catch (failure) {
      setError(failure);
    }
  };
  return (
    <form onSubmit={save} class="key-config">
      <h2>Configuration</h2>
      <div class="field">
        <label for="min-decryption">Oldest version that may decrypt</label>
        <input
          id="min-decryption"
          type="number"
          min="1"
          max={info.latest_version}
          value={minDecryption}
          onInput={(event) => setMinDecryption(event.currentTarget.value)}
        />
      </div>
      <div class="field">
        <label for="auto-rotate">Rotate automatically every (seconds or e.g. 720h; 0: never)</label>
        <input
          id="auto-rotate"
          value={autoRotate}
          onInput={(event) => setAutoRotate(event.currentTarget.value)}
        />
      </div>
      <div class="field checkbox">
        <input
          id="deletion-allowed"
          type="checkbox"
          checked={deletionAllowed}
          onChange={(event) => setDeletionAllowed(event.currentTarget.checked)}
        />
        <label for="deletion-allowed">Allow deleting this key</label>
      </div>
      <button type="submit">Save configuration</button>
      {saved && <Notice>Configuration saved.</Notice>}
      <ErrorBox error={error} />
    </form>
  );
}

function KeyView({ mount, name }: { mount: string; name: string }) {
  const key = useLoad(async () => (await vault("GET", apiPath(mount, "keys", name))).data, [mount, name]);
  const [error, setError] = useState<unknown>();
  const [done, setDone] = useState("");
  const rotate = async () => {
    setError(undefined);
    try {
      await vault("POST", apiPath(mount, "keys", name, "rotate"));
      setDone("Rotated: new encryptions use the new version.");
      key.reload();
    } catch (failure) {
      setError(failure);
    }
  };
  const versions = Object.entries((key.value?.keys ?? {}) as Record<string, Json>);
  return (
    <>
      <Title>
        Key {name} of {mount}/
      </Title>
      <p>
        <a href={href("transit", mount)}>All keys of {mount}/</a>
      </p>
      <ErrorBox error={key.error ?? error} />
      {done && <Notice>{done}</Notice>}
      {key.value && (
        <>
          <dl class="fields">
            <div>
              <dt>Type</dt>
              <dd>{key.value.type}</dd>
            </div>
            <div>
              <dt>Latest version</dt>
              <dd>{key.value.latest_version}</dd>
            </div>
            <div>
              <dt>Oldest version that decrypts</dt>
              <dd>{key.value.min_decryption_version}</dd>
            </div>
          </dl>
          <button type="button" onClick={rotate}>
            Rotate key
          </button>
          <h2>Versions</h2>
          <table>
            <thead>
              <tr>
                <th scope="col">Version</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {versions.map(([version, created]) => (
                <tr key={version}>
                  <td>{version}</td>
                  <td>
                    {typeof created === "number"
                      ? new Date(created * 1000).toLocaleString()
                      : formatTime(String(created))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <KeyConfig
            key={key.value.latest_version}
            mount={mount}
            name={name}
            info={key.value}
            onSaved={key.reload}
          />
          {key.value.supports_encryption !== false && <CryptoTool mount={mount} keyName={name} />}
        </>
      )}
    </>
  );
}

export function Transit({ route }: { route: string[] }) {
  const [mount, key] = route;
  const mounts = useLoad(loadMounts, []);
  if (mount && key) return <KeyView mount={mount} name={key} />;
  if (mount) return <KeyList mount={mount} />;
  const transit = (mounts.value?.secret ?? []).filter((candidate) => candidate.type === "transit");
  return (
    <>
      <Title>Transit</Title>
      <ErrorBox error={mounts.error} />
      {mounts.value && transit.length === 0 && <p>No transit mount that this token may see.</p>}
      <ul class="keys" aria-label="Transit mounts">
        {transit.map((candidate) => (
          <li key={candidate.path}>
            <a href={href("transit", mountName(candidate))}>{candidate.path}</a>
          </li>
        ))}
      </ul>
    </>
  );
}
