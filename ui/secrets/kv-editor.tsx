/**
 * Create or edit a secret, as key/value rows or as JSON. KV v2 writes carry `cas`, the
 * version the edit started from: if someone saved a newer one meanwhile, the server
 * refuses and nothing is overwritten.
 */
import { useEffect, useState } from "preact/hooks";
import { ApiError, apiPath, type Json, vault } from "../api.ts";
import { ErrorBox, Title } from "../components.tsx";
import { isKvV2, type MountInfo, mountName } from "../mounts.ts";
import { navigate } from "../route.ts";
import { Breadcrumbs } from "./breadcrumbs.tsx";
import { type Row, RowsEditor, rowsOf, rowsToObject } from "./rows-editor.tsx";

const STALE_CAS = "check-and-set parameter did not match";

function explain(error: unknown, cas: number | undefined): unknown {
  if (!(error instanceof ApiError) || !error.message.includes(STALE_CAS)) return error;
  if (cas === 0) return new Error("Not saved: a secret already exists at this path.");
  return new Error(
    `Not saved: this secret changed after you opened it (you edited version ${cas}, and a newer ` +
      "version has been saved since). Load the latest version, then make your change again.",
  );
}

export function KvEditor({ mount, path, existing }: { mount: MountInfo; path: string; existing: boolean }) {
  const name = mountName(mount);
  const v2 = isKvV2(mount);
  const [secretPath, setSecretPath] = useState(existing ? path : path === "" ? "" : `${path}/`);
  const [mode, setMode] = useState<"rows" | "json">("rows");
  const [rows, setRows] = useState<Row[]>(() => rowsOf({}));
  const [json, setJson] = useState("{}");
  const [cas, setCas] = useState<number | undefined>(existing ? undefined : 0);
  const [error, setError] = useState<unknown>();
  const [stale, setStale] = useState(false);
  const [round, setRound] = useState(0);

  useEffect(() => {
    if (!existing) return;
    (async () => {
      if (v2) {
        const response = await vault("GET", apiPath(name, "data", path));
        return { data: response.data?.data ?? {}, version: response.data?.metadata?.version as number };
      }
      return { data: (await vault("GET", apiPath(name, path))).data ?? {}, version: undefined };
    })().then(({ data, version }) => {
      setRows(rowsOf(data));
      setJson(JSON.stringify(data, null, 2));
      setCas(version);
      setStale(false);
      setError(undefined);
    }, setError);
  }, [existing, v2, name, path, round]);

  const switchMode = (next: "rows" | "json") => {
    setError(undefined);
    if (next === "json") setJson(JSON.stringify(rowsToObject(rows), null, 2));
    else {
      try {
        setRows(rowsOf(JSON.parse(json)));
      } catch {
        setError(new Error("The JSON does not parse; fix it before switching to rows."));
        return;
      }
    }
    setMode(next);
  };

  const save = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    let data: Record<string, Json>;
    if (mode === "json") {
      try {
        data = JSON.parse(json);
      } catch (failure) {
        setError(new Error(`The JSON does not parse: ${(failure as Error).message}`));
        return;
      }
      if (data === null || typeof data !== "object" || Array.isArray(data)) {
        setError(new Error("The JSON must be an object of keys and values."));
        return;
      }
    } else {
      data = rowsToObject(rows);
    }
    const target = secretPath.replace(/^\/+|\/+$/g, "");
    if (target === "") {
      setError(new Error("Give the secret a path."));
      return;
    }
    try {
      if (v2) await vault("POST", apiPath(name, "data", target), { options: { cas: cas ?? 0 }, data });
      else await vault("POST", apiPath(name, target), data);
      navigate("secrets", name, "show", ...target.split("/"));
    } catch (failure) {
      const explained = explain(failure, cas);
      setStale(explained !== failure && cas !== 0);
      setError(explained);
    }
  };

  return (
    <>
      <Breadcrumbs mount={mount} path={existing ? path : secretPath} />
      <Title>{existing ? `Edit ${name}/${path}` : `Create a secret in ${name}/`}</Title>
      <form onSubmit={save} class="editor">
        {!existing && (
          <div class="field">
            <label for="secret-path">Path</label>
            <input
              id="secret-path"
              required
              value={secretPath}
              onInput={(event) => setSecretPath(event.currentTarget.value)}
            />
          </div>
        )}
        {existing && v2 && cas !== undefined && (
          <p class="hint">
            Editing version {cas}: saving creates version {cas + 1}.
          </p>
        )}
        <fieldset class="mode">
          <legend>Edit as</legend>
          <label>
            <input type="radio" name="mode" checked={mode === "rows"} onChange={() => switchMode("rows")} />{" "}
            Keys and values
          </label>
          <label>
            <input type="radio" name="mode" checked={mode === "json"} onChange={() => switchMode("json")} />{" "}
            JSON
          </label>
        </fieldset>
        {mode === "rows" ? (
          <RowsEditor rows={rows} onChange={setRows} label="secret" secret />
        ) : (
          <div class="field">
            <label for="secret-json">Secret data (JSON)</label>
            <textarea
              id="secret-json"
              rows={10}
              spellcheck={false}
              value={json}
              onInput={(event) => setJson(event.currentTarget.value)}
            />
          </div>
        )}
        <ErrorBox error={error} />
        <div class="actions">
          <button type="submit">Save</button>
          {stale && (
            <button type="button" onClick={() => setRound((n) => n + 1)}>
              Load the latest version
            </button>
          )}
        </div>
      </form>
    </>
  );
}
