/** Encrypt, decrypt and rewrap with one transit key. */
import { useState } from "preact/hooks";
import { apiPath, vault } from "../api.ts";
import { ErrorBox } from "../components.tsx";
import { base64ToText, textToBase64 } from "./base64.ts";

type Operation = "encrypt" | "decrypt" | "rewrap";

export function CryptoTool({ mount, keyName }: { mount: string; keyName: string }) {
  const [operation, setOperation] = useState<Operation>("encrypt");
  const [input, setInput] = useState("");
  const [output, setOutput] = useState("");
  const [error, setError] = useState<unknown>();

  const run = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    setOutput("");
    try {
      const path = apiPath(mount, operation, keyName);
      if (operation === "encrypt") {
        setOutput((await vault("POST", path, { plaintext: textToBase64(input) })).data.ciphertext);
      } else if (operation === "decrypt") {
        setOutput(base64ToText((await vault("POST", path, { ciphertext: input.trim() })).data.plaintext));
      } else {
        setOutput((await vault("POST", path, { ciphertext: input.trim() })).data.ciphertext);
      }
    } catch (failure) {
      setError(failure);
    }
  };

  return (
    <form onSubmit={run} class="crypto-tool">
      <h2>Encrypt, decrypt, rewrap</h2>
      <fieldset class="mode">
        <legend>Operation</legend>
        {(["encrypt", "decrypt", "rewrap"] as const).map((name) => (
          <label key={name}>
            <input
              type="radio"
              name="operation"
              checked={operation === name}
              onChange={() => {
                setOperation(name);
                setOutput("");
              }}
            />{" "}
            {name[0]?.toUpperCase()}
            {name.slice(1)}
          </label>
        ))}
      </fieldset>
      <div class="field">
        <label for="crypto-input">{operation === "encrypt" ? "Plaintext" : "Ciphertext"}</label>
        <textarea
          id="crypto-input"
          rows={4}
          spellcheck={false}
          value={input}
          onInput={(event) => setInput(event.currentTarget.value)}
        />
      </div>
      <button type="submit">{operation[0]?.toUpperCase() + operation.slice(1)}</button>
      <ErrorBox error={error} />
      <div class="field">
        <label for="crypto-output">{operation === "decrypt" ? "Plaintext" : "Ciphertext"}</label>
        <textarea id="crypto-output" rows={4} readOnly value={output} />
      </div>
    </form>
  );
}
