/**
 * The signed-in token, in sessionStorage only: it is gone when the tab closes, is never
 * shared with other tabs, and never goes into a URL or localStorage.
 */
const TOKEN_KEY = "coffer.token";
/** Set when the token came from a sign-in link: sign-out then revokes it. */
const MINTED_KEY = "coffer.token.minted";

export function storedToken(): string | undefined {
  return sessionStorage.getItem(TOKEN_KEY) ?? undefined;
}

export function storeToken(token: string, minted: boolean): void {
  sessionStorage.setItem(TOKEN_KEY, token);
  if (minted) sessionStorage.setItem(MINTED_KEY, "1");
  else sessionStorage.removeItem(MINTED_KEY);
}

export function tokenWasMinted(): boolean {
  return sessionStorage.getItem(MINTED_KEY) === "1";
}

export function forgetToken(): void {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(MINTED_KEY);
}
