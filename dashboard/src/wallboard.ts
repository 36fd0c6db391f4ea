/**
 * The wallboard's data (大屏, issue 23): GET /api/wallboard, reloaded when a pushed message says something changed
 * (debounced, so a burst costs one read) and every 30 s as a safety net. The kiosk's socket carries only nudges
 * ('wallboard'); a supervisor's carries the rows themselves ('alarm', 'agent', 'call'): either triggers a reload.
 * Nothing here renders.
 */
import { useEffect, useState } from 'preact/hooks';
import type { paths } from './api-types';
import { get } from './api';
import { onWs } from './session';

type Json<C> = C extends { content: { 'application/json': infer B } } ? B : never;
export type Board = paths['/api/wallboard']['get'] extends { responses: { 200: infer R } } ? Json<R> : never;
export type BoardAlarm = Board['queue'][number];

/** Soon after a push, yet a burst of changes (an alarm raised, presented, accepted) is one read. */
const DEBOUNCE_MS = 30;
const SAFETY_MS = 30_000;

export interface BoardState {
  board: Board | null;
  /** server clock minus this browser's, in ms: ages tick from the server's time even on a kiosk with a wrong clock */
  skewMs: number;
  /** the last load failed (the board shows the last good figures under a banner) */
  failed: boolean;
  /** when the figures on screen were read, by this browser's clock */
  loadedAt: number | null;
}

/** Loads the board and keeps it fresh while the component using it is mounted. */
export function useBoard(): BoardState {
  const [st, setSt] = useState<BoardState>({ board: null, skewMs: 0, failed: false, loadedAt: null });
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let inFlight = false;
    let again = false;
    const load = async () => {
      if (inFlight) {
        again = true; // a change arrived during the read: read once more after it, never miss the last one
        return;
      }
      inFlight = true;
      try {
        const t0 = Date.now();
        const board = await get<Board>('/api/wallboard');
        const t1 = Date.now();
        if (!stopped) setSt({ board, skewMs: new Date(board.at).getTime() - (t0 + t1) / 2, failed: false, loadedAt: t1 });
      } catch {
        if (!stopped) setSt((s) => ({ ...s, failed: true }));
      } finally {
        inFlight = false;
        if (again && !stopped) {
          again = false;
          void load();
        }
      }
    };
    const soon = () => {
      clearTimeout(timer);
      timer = setTimeout(() => void load(), DEBOUNCE_MS);
    };
    void load();
    const pushed = (m: { alarm?: BoardAlarm }) => {
      // the row first (the wall shows a new alarm at once), then the debounced read for every other figure
      const a = m.alarm;
      if (a && !stopped) setSt((s) => (s.board ? { ...s, board: withAlarm(s.board, a) } : s));
      soon();
    };
    const offs = [onWs('wallboard', pushed), onWs('alarm', soon), onWs('agent', soon), onWs('call', soon), onWs('snapshot', soon)];
    const safety = setInterval(() => void load(), SAFETY_MS);
    return () => {
      stopped = true;
      clearTimeout(timer);
      clearInterval(safety);
      offs.forEach((off) => off());
    };
  }, []);
  return st;
}

const OPEN = new Set(['raised', 'presented', 'accepted', 'in_progress']);
const urgentFirst = (x: BoardAlarm, y: BoardAlarm) => x.priority - y.priority || x.firstAt.localeCompare(y.firstAt) || x.id - y.id;

/** The board with one pushed alarm put in its place: in (or out of) the queue by its state, and in today's latest. */
export function withAlarm(b: Board, a: BoardAlarm): Board {
  const others = (list: BoardAlarm[]) => list.filter((x) => x.id !== a.id);
  const queue = OPEN.has(a.state) ? [...others(b.queue), a].sort(urgentFirst) : others(b.queue);
  const today = a.firstAt >= b.since || b.latest.some((x) => x.id === a.id);
  const latest = today ? [...others(b.latest), a].sort((x, y) => y.firstAt.localeCompare(x.firstAt) || y.id - x.id).slice(0, 10) : b.latest;
  return { ...b, queue, latest };
}

/** 0.975 → "97.5%", 1 → "100%", null → "—". */
export function fmtRate(r: number | null | undefined): string {
  if (r === null || r === undefined) return '—';
  const p = Math.round(r * 1000) / 10;
  return `${Number.isInteger(p) ? p : p.toFixed(1)}%`;
}
