/** Inline SVG icons, one per alarm kind (no icon font, no emoji: both depend on fonts a centre PC may lack). */
import type { JSX } from 'preact';

const P = (d: string) => <path d={d} />;

const ICONS: Record<string, JSX.Element> = {
  // bell with a burst: SOS
  sos: (
    <>
      {P('M12 3a6 6 0 0 0-6 6v4l-2 3h16l-2-3V9a6 6 0 0 0-6-6z')}
      {P('M10 19a2 2 0 0 0 4 0')}
      {P('M3 6l2 1M21 6l-2 1M12 0v1')}
    </>
  ),
  // a person falling
  fall: (
    <>
      <circle cx="16" cy="4.5" r="2" />
      {P('M14 8l-5 3 2 4-4 5')}
      {P('M11 15l5 1 2 5')}
      {P('M9 11L5 9')}
      {P('M3 22h18')}
    </>
  ),
  // red key box
  one_key_emergency: (
    <>
      <rect x="4" y="3" width="16" height="18" rx="3" />
      <circle cx="12" cy="12" r="4" />
    </>
  ),
  medical: (
    <>
      <rect x="3" y="3" width="18" height="18" rx="4" />
      {P('M12 7v10M7 12h10')}
    </>
  ),
  fire: <>{P('M12 22c4 0 7-3 7-7 0-5-4-7-5-12-2 3-3 5-3 7-1-1-2-2-2-4-2 2-4 5-4 9 0 4 3 7 7 7z')}</>,
  smoke: (
    <>
      {P('M4 18c2-2 4 2 6 0s4 2 6 0 3 1 4 0')}
      {P('M4 13c2-2 4 2 6 0s4 2 6 0 3 1 4 0')}
      {P('M4 8c2-2 4 2 6 0s4 2 6 0 3 1 4 0')}
    </>
  ),
  gas: (
    <>
      {P('M8 3h8v3H8zM7 6h10l1 15H6z')}
      {P('M12 10v6M9 13h6')}
    </>
  ),
  geofence_exit: (
    <>
      {P('M12 22s-7-6.5-7-12a7 7 0 0 1 14 0c0 5.5-7 12-7 12z')}
      <circle cx="12" cy="10" r="2.5" />
    </>
  ),
  vitals_abnormal: <>{P('M3 12h4l2-5 4 10 2-5h6')}</>,
  inactivity: (
    <>
      <circle cx="12" cy="12" r="9" />
      {P('M12 7v5l3 2')}
    </>
  ),
  removed: (
    <>
      <rect x="7" y="6" width="10" height="12" rx="3" />
      {P('M9 6l1-4h4l1 4M9 18l1 4h4l1-4')}
      {P('M4 4l16 16')}
    </>
  ),
  power_cut: (
    <>
      {P('M9 2v6M15 2v6M6 8h12v4a6 6 0 0 1-12 0z')}
      {P('M12 18v4')}
      {P('M3 3l18 18')}
    </>
  ),
  tamper: (
    <>
      {P('M14 4l6 6-9 9H5v-6z')}
      {P('M3 21l4-4')}
    </>
  ),
  device_silent: (
    <>
      {P('M2 9a15 15 0 0 1 20 0M5 13a10 10 0 0 1 14 0M8.5 16.5a5 5 0 0 1 7 0')}
      {P('M3 3l18 18')}
    </>
  ),
  receiver_silent: (
    <>
      {P('M2 9a15 15 0 0 1 20 0M5 13a10 10 0 0 1 14 0M8.5 16.5a5 5 0 0 1 7 0')}
      {P('M3 3l18 18')}
    </>
  ),
  test_missed: (
    <>
      <rect x="4" y="4" width="16" height="16" rx="2" />
      {P('M9 9l6 6M15 9l-6 6')}
    </>
  ),
  help_requested: (
    <>
      {P('M5 4h4l2 5-2.5 1.5a11 11 0 0 0 5 5L15 13l5 2v4a2 2 0 0 1-2 2A16 16 0 0 1 3 6a2 2 0 0 1 2-2')}
      {P('M18 3v5M18 10.5v.5')}
    </>
  ),
  welfare_check_failed: (
    <>
      {P('M5 4h4l2 5-2.5 1.5a11 11 0 0 0 5 5L15 13l5 2v4a2 2 0 0 1-2 2A16 16 0 0 1 3 6a2 2 0 0 1 2-2')}
      {P('M16 3l5 5M21 3l-5 5')}
    </>
  ),
  low_battery: (
    <>
      <rect x="2" y="7" width="18" height="10" rx="2" />
      {P('M22 11v2M5 10v4')}
    </>
  ),
  one_key_service: (
    <>
      {P('M4 14h3l4-4h4a2 2 0 0 1 0 4h-3')}
      {P('M4 20h6l8-6a2 2 0 0 0-3-3')}
      {P('M15 3l1 2 2 .5-1.5 1.5.5 2-2-1-2 1 .5-2L11 5.5 13 5z')}
    </>
  ),
};

export function KindIcon({ kind, size = 26 }: { kind: string; size?: number }) {
  return (
    <svg class="icon" width={size} height={size} viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">
      {ICONS[kind] ?? (
        <>
          {P('M12 3l10 18H2z')}
          {P('M12 10v5M12 18v.5')}
        </>
      )}
    </svg>
  );
}

export function PhoneIcon({ size = 20 }: { size?: number }) {
  return (
    <svg class="icon" width={size} height={size} viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">
      {P('M5 3h4l2 5-3 2a11 11 0 0 0 6 6l2-3 5 2v4a2 2 0 0 1-2 2A17 17 0 0 1 3 5a2 2 0 0 1 2-2z')}
    </svg>
  );
}

export function HangupIcon({ size = 20 }: { size?: number }) {
  return (
    <svg class="icon" width={size} height={size} viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">
      {P('M3 14c5-5 13-5 18 0l-2 3-4-1v-3a10 10 0 0 0-6 0v3l-4 1z')}
    </svg>
  );
}
