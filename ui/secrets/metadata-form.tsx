/** A KV v2 secret's settings and custom metadata, as sent to <mount>/metadata/<path>. */
import { useState } from "preact/hooks";
import { apiPath, type Json, vault } from "../api.ts";
import { ErrorBox, Notice } from "../components.tsx";
import { type MountInfo, mountName } from "../mounts.ts";
import { type Row, RowsEditor, rowsOf, rowsToObject } from "./rows-editor.tsx";

export function MetadataForm(props: { mount: MountInfo; path: string; metadata: Json; onSaved: () => void }) {
  const { metadata } = props;
  const [maxVersions, setMaxVersions] = useState(String(metadata.max_versions ?? 0));
  const [casRequired, setCasRequired] = useState(Boolean(metadata.cas_required));
  const [deleteAfter, setDeleteAfter] = useState(String(metadata.delete_version_after ?? "0s"));
  const [custom, setCustom] = useState<Row[]>(() => rowsOf(metadata.custom_metadata ?? {}));
  const [error, setError] = useState<unknown>();
  const [saved, setSaved] = useState(false);

  const save = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    setSaved(false);
    try {
      await vault("POST", apiPath(mountName(props.mount), "metadata", props.path), {
        max_versions: Number(maxVersions),
        cas_required: casRequired,
        delete_version_after: deleteAfter,
        custom_metadata: rowsToObject(custom),
      });
      setSaved(true);
      props.onSaved();
    } catch (failure) {
      setError(failure);
    }
  };

  return (
    <form onSubmit={save} class="metadata">
      <h2>Metadata</h2>
      <div class="field">
        <label for="max-versions">Versions kept (0: the mount's setting)</label>
        <input
          id="max-versions"
          type="number"
          min="0"
          value={maxVersions}
          onInput={(event) => setMaxVersions(event.currentTarget.value)}
        />
      </div>
      <div class="field">
        <label for="delete-after">Delete versions after (e.g. 30d; 0s: never)</label>
        <input
          id="delete-after"
          value={deleteAfter}
          onInput={(event) => setDeleteAfter(event.currentTarget.value)}
        />
      </div>
      <div class="field checkbox">
        <input
          id="cas-required"
          type="checkbox"
          checked={casRequired}
          onChange={(event) => setCasRequired(event.currentTarget.checked)}
        />
        <label for="cas-required">Require check-and-set on every write</label>
      </div>
      <fieldset>
        <legend>Custom metadata</legend>
        <RowsEditor rows={custom} onChange={setCustom} label="metadata" />
      </fieldset>
      <button type="submit">Save metadata</button>
      {saved && <Notice>Metadata saved.</Notice>}
      <ErrorBox error={error} />
    </form>
  );
}
