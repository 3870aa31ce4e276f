/** A KV folder: its secrets and sub-folders, filtered by name. */
import { useState } from "preact/hooks";
import { apiPath, listKeys } from "../api.ts";
import { ErrorBox, Title, useLoad } from "../components.tsx";
import { isKvV2, type MountInfo, mountName } from "../mounts.ts";
import { href } from "../route.ts";
import { Breadcrumbs } from "./breadcrumbs.tsx";

export function KvList({ mount, folder }: { mount: MountInfo; folder: string }) {
  const [filter, setFilter] = useState("");
  const name = mountName(mount);
  const listPath = isKvV2(mount) ? apiPath(name, "metadata", folder) : apiPath(name, folder);
  const keys = useLoad(() => listKeys(`${listPath}/`), [listPath]);
  const prefix = folder === "" ? [] : folder.split("/");
  const shown = (keys.value ?? []).filter((key) => key.toLowerCase().includes(filter.trim().toLowerCase()));

  return (
    <>
      <Breadcrumbs mount={mount} path={folder} />
      <Title>{folder === "" ? `${name}/` : `${name}/${folder}/`}</Title>
      <div class="toolbar">
        <label for="filter">Search in this folder</label>
        <input
          id="filter"
          type="search"
          value={filter}
          onInput={(event) => setFilter(event.currentTarget.value)}
        />
        <a class="button" href={href("secrets", name, "create", ...prefix)}>
          Create secret
        </a>
      </div>
      <ErrorBox error={keys.error} />
      {keys.value && (
        <ul class="keys" aria-label="Secrets and folders">
          {shown.map((key) => (
            <li key={key}>
              {key.endsWith("/") ? (
                <a href={href("secrets", name, "list", ...prefix, key.slice(0, -1))}>
                  <span aria-hidden="true">📁 </span>
                  {key}
                </a>
              ) : (
                <a href={href("secrets", name, "show", ...prefix, key)}>{key}</a>
              )}
            </li>
          ))}
        </ul>
      )}
      {keys.value && shown.length === 0 && (
        <p role="status">
          {keys.value.length === 0 ? "This folder is empty." : `Nothing here matches “${filter}”.`}
        </p>
      )}
    </>
  );
}
