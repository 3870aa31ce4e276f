/** ACL policies: the list, and an editor that shows a parse error at its line. */
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, apiPath, listKeys, vault } from "../api.ts";
import { ErrorBox, Notice, Title, useLoad } from "../components.tsx";
import { href, navigate } from "../route.ts";
import { AccessNav } from "./access-nav.tsx";
import { errorLine } from "./policy-error.ts";

function PolicyList() {
  const names = useLoad(() => listKeys("sys/policies/acl"), []);
  const [newName, setNewName] = useState("");
  const create = (event: Event) => {
    event.preventDefault();
    const name = newName.trim().toLowerCase();
    if (name) navigate("access", "policies", name);
  };
  return (
    <>
      <Title>Policies</Title>
      <AccessNav current="policies" />
      <ErrorBox error={names.error} />
      <ul class="keys" aria-label="Policies">
        {(names.value ?? []).map((name) => (
          <li key={name}>
            <a href={href("access", "policies", name)}>{name}</a>
          </li>
        ))}
      </ul>
      <form onSubmit={create} class="toolbar">
        <label for="new-policy">New policy named</label>
        <input
          id="new-policy"
          value={newName}
          onInput={(event) => setNewName(event.currentTarget.value)}
          required
        />
        <button type="submit">Create</button>
      </form>
    </>
  );
}

function PolicyEditor({ name }: { name: string }) {
  const [text, setText] = useState("");
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<unknown>();
  const [line, setLine] = useState<number | undefined>();
  const [saved, setSaved] = useState(false);
  const editor = useRef<HTMLTextAreaElement>(null);
  const gutter = useRef<HTMLDivElement>(null);
  const builtIn = name === "root";

  useEffect(() => {
    vault("GET", apiPath("sys/policies/acl", name)).then(
      (response) => {
        setText(response.data?.policy ?? "");
        setLoaded(true);
      },
      (failure: unknown) => {
        // A name nobody wrote yet: start an empty policy.
        if (failure instanceof ApiError && failure.status === 404) setLoaded(true);
        else setError(failure);
      },
    );
  }, [name]);

  const save = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    setLine(undefined);
    setSaved(false);
    try {
      await vault("POST", apiPath("sys/policies/acl", name), { policy: text });
      setSaved(true);
    } catch (failure) {
      const at = failure instanceof Error ? errorLine(failure.message, text) : undefined;
      setLine(at);
      setError(at === undefined ? failure : new Error(`Line ${at}: ${(failure as Error).message}`));
      const area = editor.current;
      if (area && at !== undefined) {
        // Put the caret at the start of the line in error.
        const offset = text
          .split("\n")
          .slice(0, at - 1)
          .reduce((sum, current) => sum + current.length + 1, 0);
        area.focus();
        area.setSelectionRange(offset, offset);
      }
    }
  };

  const lines = text.split("\n").length;
  return (
    <>
      <Title>Policy {name}</Title>
      <AccessNav current="policies" />
      {builtIn ? (
        <p>The root policy is built in: it grants everything and cannot be changed.</p>
      ) : (
        <form onSubmit={save} class="policy">
          <label for="policy-text">Policy (HCL or JSON)</label>
          <div class="code-editor">
            <div class="gutter" ref={gutter} aria-hidden="true">
              {Array.from({ length: lines }, (_, index) => (
                <div key={index} class={index + 1 === line ? "error-line" : undefined}>
                  {index + 1}
                </div>
              ))}
            </div>
            <textarea
              id="policy-text"
              ref={editor}
              rows={Math.max(12, lines + 1)}
              spellcheck={false}
              value={text}
              disabled={!loaded}
              aria-invalid={line !== undefined}
              aria-describedby={error ? "policy-error" : undefined}
              onInput={(event) => setText(event.currentTarget.value)}
              onScroll={(event) => {
                if (gutter.current) gutter.current.scrollTop = event.currentTarget.scrollTop;
              }}
            />
          </div>
          <div id="policy-error">
            <ErrorBox error={error} />
          </div>
          <button type="submit" disabled={!loaded}>
            Save policy
          </button>
          {saved && <Notice>Policy {name} saved.</Notice>}
        </form>
      )}
    </>
  );
}

export function Policies({ route }: { route: string[] }) {
  return route[0] ? <PolicyEditor name={route[0]} /> : <PolicyList />;
}
