/**
 * Leases by prefix (sys/leases/lookup, which needs sudo): their TTL and expiry, renew,
 * revoke, and revoke-prefix behind a confirmation that names what goes.
 */
import { useState } from "preact/hooks";
import { listKeys, vault } from "./api.ts";
import { Confirm, ErrorBox, formatTime, formatTtl, Notice, Title, useLoad } from "./components.tsx";
import { href, navigate } from "./route.ts";

interface LeaseInfo {
  id: string;
  issue_time: string;
  expire_time: string;
  ttl: number;
  renewable: boolean;
}

async function loadLeases(prefix: string) {
  const keys = await listKeys(`sys/leases/lookup/${prefix}`);
  const folders = keys.filter((key) => key.endsWith("/"));
  const leases = await Promise.all(
    keys
      .filter((key) => !key.endsWith("/"))
      .map(
        async (key) =>
          (await vault("POST", "sys/leases/lookup", { lease_id: `${prefix}${key}` })).data as LeaseInfo,
      ),
  );
  return { folders, leases };
}

type Pending = { kind: "lease"; id: string } | { kind: "prefix" } | undefined;

export function Leases({ route }: { route: string[] }) {
  const prefix = route.length > 0 ? `${route.join("/")}/` : "";
  const [typed, setTyped] = useState(prefix);
  const [pending, setPending] = useState<Pending>();
  const [done, setDone] = useState("");
  const [error, setError] = useState<unknown>();
  const listing = useLoad(() => loadLeases(prefix), [prefix]);

  const run = async (what: string, action: () => Promise<unknown>) => {
    setPending(undefined);
    setError(undefined);
    setDone("");
    try {
      await action();
      setDone(what);
      listing.reload();
    } catch (failure) {
      setError(failure);
    }
  };
  const go = (event: Event) => {
    event.preventDefault();
    const segments = typed.split("/").filter((segment) => segment !== "");
    // The same prefix again: the address does not change, so list afresh here.
    if (segments.join("/") === route.join("/")) listing.reload();
    else navigate("leases", ...segments);
  };
  const count = listing.value ? listing.value.leases.length : 0;
  const parent = route.slice(0, -1);

  return (
    <>
      <Title>Leases</Title>
      <form onSubmit={go} class="toolbar">
        <label for="lease-prefix">Prefix</label>
        <input
          id="lease-prefix"
          value={typed}
          placeholder="aws/creds/"
          onInput={(event) => setTyped(event.currentTarget.value)}
        />
        <button type="submit">List</button>
        {prefix !== "" && (
          <button type="button" class="danger" onClick={() => setPending({ kind: "prefix" })}>
            Revoke all under {prefix}
          </button>
        )}
      </form>
      {done && <Notice>{done}</Notice>}
      <ErrorBox error={error ?? listing.error} />
      {listing.value && (
        <>
          <h2>{prefix === "" ? "All leases" : `Under ${prefix}`}</h2>
          {route.length > 0 && (
            <p>
              <a href={href("leases", ...parent)}>
                Up to {parent.length ? `${parent.join("/")}/` : "all leases"}
              </a>
            </p>
          )}
          {listing.value.folders.length > 0 && (
            <ul class="keys" aria-label="Prefixes">
              {listing.value.folders.map((folder) => (
                <li key={folder}>
                  <a href={href("leases", ...route, folder.slice(0, -1))}>{`${prefix}${folder}`}</a>
                </li>
              ))}
            </ul>
          )}
          {count > 0 && (
            <table>
              <thead>
                <tr>
                  <th scope="col">Lease</th>
                  <th scope="col">Issued</th>
                  <th scope="col">Expires</th>
                  <th scope="col">TTL</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {listing.value.leases.map((lease) => (
                  <tr key={lease.id}>
                    <td>
                      <code>{lease.id}</code>
                    </td>
                    <td>{formatTime(lease.issue_time)}</td>
                    <td>{formatTime(lease.expire_time)}</td>
                    <td>{formatTtl(lease.ttl)}</td>
                    <td class="actions">
                      {lease.renewable && (
                        <button
                          type="button"
                          onClick={() =>
                            run(`Renewed ${lease.id}.`, () =>
                              vault("POST", "sys/leases/renew", { lease_id: lease.id }),
                            )
                          }
                        >
                          Renew<span class="visually-hidden"> {lease.id}</span>
                        </button>
                      )}
                      <button
                        type="button"
                        class="danger"
                        onClick={() => setPending({ kind: "lease", id: lease.id })}
                      >
                        Revoke<span class="visually-hidden"> {lease.id}</span>
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {count === 0 && listing.value.folders.length === 0 && <p role="status">No leases here.</p>}
        </>
      )}
      {pending?.kind === "lease" && (
        <Confirm
          title="Revoke this lease?"
          confirmLabel="Revoke lease"
          onCancel={() => setPending(undefined)}
          onConfirm={() =>
            run(`Revoked ${pending.id}.`, () => vault("POST", "sys/leases/revoke", { lease_id: pending.id }))
          }
        >
          <p>
            <code>{pending.id}</code> will be revoked now: the credentials it stands for stop working.
          </p>
        </Confirm>
      )}
      {pending?.kind === "prefix" && (
        <Confirm
          title={`Revoke every lease under ${prefix}?`}
          confirmLabel={`Revoke all under ${prefix}`}
          onCancel={() => setPending(undefined)}
          onConfirm={() =>
            run(`Revoked every lease under ${prefix}.`, () =>
              vault("POST", `sys/leases/revoke-prefix/${prefix}`),
            )
          }
        >
          <p>
            Every lease whose id starts with <code>{prefix}</code> will be revoked: {count} listed on this
            page
            {listing.value && listing.value.folders.length > 0
              ? `, and all under ${listing.value.folders.length} more prefixes`
              : ""}
            .
          </p>
        </Confirm>
      )}
    </>
  );
}
