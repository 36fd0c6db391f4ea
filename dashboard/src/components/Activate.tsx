/** Placeholder: being built (issue 20). */
export function Activate() {
  return <main class="desk" data-testid="activate-screen" />;
}
