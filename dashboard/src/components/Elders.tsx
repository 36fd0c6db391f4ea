/** Placeholder: being built (issue 20). */
export function Elders() {
  return <main class="desk" data-testid="elders-screen" />;
}
