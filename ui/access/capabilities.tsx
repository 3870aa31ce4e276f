/** What the signed-in token may do at a path (sys/capabilities-self). */
import { useState } from "preact/hooks";
import { vault } from "../api.ts";
import { ErrorBox, Title } from "../components.tsx";
import { AccessNav } from "./access-nav.tsx";

export function Capabilities() {
  const [path, setPath] = useState("");
  const [result, setResult] = useState<{ path: string; capabilities: string[] }>();
  const [error, setError] = useState<unknown>();
  const check = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    setResult(undefined);
    const asked = path.trim().replace(/^\/+/, "");
    try {
      const { data } = await vault("POST", "sys/capabilities-self", { paths: [asked] });
      setResult({ path: asked, capabilities: data?.[asked] ?? data?.capabilities ?? [] });
    } catch (failure) {
      setError(failure);
    }
  };
  return (
    <>
      <Title>Capabilities</Title>
      <AccessNav current="capabilities" />
      <form onSubmit={check} class="toolbar">
        <label for="capability-path">What can this token do at</label>
        <input
          id="capability-path"
          value={path}
          placeholder="secret/data/app/db"
          onInput={(event) => setPath(event.currentTarget.value)}
          required
        />
        <button type="submit">Check</button>
      </form>
      <ErrorBox error={error} />
      {result && (
        <section aria-live="polite" aria-label="Result">
          <h2>
            At <code>{result.path}</code>
          </h2>
          <ul class="capabilities">
            {result.capabilities.map((capability) => (
              <li key={capability} class={`capability ${capability}`}>
                {capability}
              </li>
            ))}
          </ul>
        </section>
      )}
    </>
  );
}
