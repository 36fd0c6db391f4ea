/** Placeholder: being built (issue 20). */
export function Devices() {
  return <main class="desk" data-testid="devices-screen" />;
}
