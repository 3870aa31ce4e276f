/**
 * Sign in with a token, or with the one-time code of a `coffer dev` link (#code=...),
 * which is exchanged at POST /ui/sign-in and then removed from the address bar.
 */
import { useEffect, useState } from "preact/hooks";
import { ApiError, errorText, vault } from "./api.ts";
import { ErrorBox } from "./components.tsx";
import { forgetToken, storeToken } from "./session.ts";

function codeInAddress(): string | undefined {
  const match = /^#code=([A-Za-z0-9_-]+)$/.exec(location.hash);
  return match?.[1];
}

async function exchange(code: string): Promise<string> {
  const response = await fetch("/ui/sign-in", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ code }),
    credentials: "omit",
    referrerPolicy: "no-referrer",
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(response.status, body.errors ?? []);
  return body.auth.client_token as string;
}

export function SignIn({ onSignedIn }: { onSignedIn: () => void }) {
  const [token, setToken] = useState("");
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    const code = codeInAddress();
    if (!code) return;
    // The code is spent whatever happens next: take it out of the address and history.
    history.replaceState(null, "", `${location.pathname}#/`);
    setBusy(true);
    exchange(code).then(
      (minted) => {
        storeToken(minted, true);
        onSignedIn();
      },
      (failure: unknown) => {
        setError(failure);
        setBusy(false);
      },
    );
  }, [onSignedIn]);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    storeToken(token.trim(), false);
    try {
      await vault("GET", "auth/token/lookup-self");
      setToken("");
      onSignedIn();
    } catch (failure) {
      forgetToken();
      setError(
        failure instanceof ApiError && failure.status === 403
          ? new Error("This token is not valid (unknown, revoked or expired).")
          : new Error(errorText(failure)),
      );
      setBusy(false);
    }
  };

  return (
    <main id="main" class="sign-in">
      <h1>Sign in to Coffer</h1>
      <form onSubmit={submit}>
        <label for="token">Token</label>
        <input
          id="token"
          type="password"
          autocomplete="off"
          spellcheck={false}
          value={token}
          onInput={(event) => setToken(event.currentTarget.value)}
          required
        />
        <button type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
      <ErrorBox error={error} />
      <p class="hint">
        The token stays in this tab only. With <code>coffer dev</code>, open the sign-in link it prints.
      </p>
    </main>
  );
}
