/** The frame: sign-in when there is no token, else the navigation and the current screen. */
import { useCallback, useEffect, useState } from "preact/hooks";
import { Capabilities } from "./access/capabilities.tsx";
import { Policies } from "./access/policies.tsx";
import { Roles } from "./access/roles.tsx";
import { vault, whenSignedOut } from "./api.ts";
import { Leases } from "./leases.tsx";
import { href, useRoute } from "./route.ts";
import { SecretsScreen } from "./secrets/secrets-screen.tsx";
import { forgetToken, storedToken, tokenWasMinted } from "./session.ts";
import { SignIn } from "./sign-in.tsx";
import { Transit } from "./transit/transit.tsx";

const SECTIONS = [
  { segment: "secrets", label: "Secrets" },
  { segment: "leases", label: "Leases" },
  { segment: "access", label: "Access" },
  { segment: "transit", label: "Transit" },
];

function Screen({ route }: { route: string[] }) {
  const [section = "secrets", ...rest] = route;
  if (section === "leases") return <Leases route={rest} />;
  if (section === "transit") return <Transit route={rest} />;
  if (section === "access") {
    if (rest[0] === "roles") return <Roles route={rest.slice(1)} />;
    if (rest[0] === "capabilities") return <Capabilities />;
    return <Policies route={rest.slice(1)} />;
  }
  return <SecretsScreen route={rest} />;
}

export function App() {
  // A sign-in link opened in a signed-in tab still signs in, so its code is spent, not left in the address.
  const [signedIn, setSignedIn] = useState(
    () => storedToken() !== undefined && !location.hash.startsWith("#code="),
  );
  const [displayName, setDisplayName] = useState("");
  const route = useRoute();
  const onSignedIn = useCallback(() => setSignedIn(true), []);

  useEffect(() => {
    whenSignedOut(() => {
      forgetToken();
      setSignedIn(false);
    });
  }, []);

  useEffect(() => {
    if (!signedIn) return;
    vault("GET", "auth/token/lookup-self").then(
      (response) => setDisplayName(response.data?.display_name ?? ""),
      () => {},
    );
  }, [signedIn]);

  // Each screen announces itself: move focus to its heading for keyboard and reader users.
  useEffect(() => {
    document.querySelector<HTMLElement>("main h1")?.focus();
  }, [route.join("/")]);

  const signOut = async () => {
    if (tokenWasMinted()) await vault("POST", "auth/token/revoke-self").catch(() => {});
    forgetToken();
    setSignedIn(false);
  };

  if (!signedIn) return <SignIn onSignedIn={onSignedIn} />;
  const section = route[0] ?? "secrets";
  return (
    <>
      <button type="button" class="skip" onClick={() => document.getElementById("main")?.focus()}>
        Skip to content
      </button>
      <header>
        <span class="brand">Coffer</span>
        <nav aria-label="Sections">
          <ul>
            {SECTIONS.map(({ segment, label }) => (
              <li key={segment}>
                <a href={href(segment)} aria-current={section === segment ? "page" : undefined}>
                  {label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <span class="who">{displayName && `Signed in as ${displayName}`}</span>
        <button type="button" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        <Screen route={route} />
      </main>
    </>
  );
}
