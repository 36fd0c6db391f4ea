/**
 * The fuzz bench's GT06 frames and framing model (bench/lib/fuzz-wire.ts, written from protocols.md §2) against
 * the protocol's vectors, and the model against the gateway's framer on whole padded batches (the bench's
 * reconciliation depends on their agreeing).
 */
import { describe, expect, it } from 'vitest';
import { Gt06FrameModel, gt06Frame, gt06Heartbeat, gt06Imei, gt06Input, gt06Login, gt06Seeds, Rng, x25 } from '../../../bench/lib/fuzz-wire.js';
import { Gt06Framer } from '../../../protocols/gt06/frame.js';

describe('fuzz-wire GT06', () => {
  it('builds §2.5 vectors', () => {
    expect(x25(Buffer.from('123456789'))).toBe(0x906e);
    expect(gt06Login('123456789012345', 1).toString('hex')).toBe('78780d01012345678901234500018cdd0d0a');
    expect(gt06Frame(0x01, gt06Imei('864717003283581'), 9).toString('hex')).toBe('78780d01086471700328358100093f040d0a');
    expect(gt06Frame(0x8a, Buffer.alloc(0), 6).toString('hex')).toBe('7878058a000688290d0a');
    expect(gt06Heartbeat(1).subarray(0, 4).toString('hex')).toBe('78780a13');
  });

  it('frames fuzzed batches as the gateway framer does', () => {
    const rng = new Rng(0x6706);
    for (let batch = 0; batch < 300; batch++) {
      const seeds = gt06Seeds('868120000000015', rng);
      const parts = Array.from({ length: 40 }, (_, i) => gt06Input(seeds, rng, i));
      const wire = Buffer.concat([...parts, Buffer.alloc(4100), gt06Heartbeat(0x8000 + batch)]);
      const model = new Gt06FrameModel();
      model.push(wire);
      const events = new Gt06Framer().push(wire);
      const frames = events.filter((e) => 'frame' in e);
      const bytes = (r: string) => events.reduce((a, e) => a + ('error' in e && e.error === r ? e.discarded : 0), 0);
      expect({ frames: model.frames, garbage: model.garbageBytes, oversized: model.oversizedBytes, partial: model.partial }).toEqual({
        frames: frames.length,
        garbage: bytes('garbage'),
        oversized: bytes('oversized'),
        partial: 0,
      });
    }
  });
});
