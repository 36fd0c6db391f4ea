/** Placeholder: being built (issue 20). */
export function Account() {
  return <main class="desk" data-testid="account-screen" />;
}
